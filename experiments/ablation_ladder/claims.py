"""The claims: each rung lands near the book's number, the book's ordering, and whether every rung
still helps on the other datasets; each decided against the seed noise (jaxdl.report.verdicts).

A vote rung has one number, the vote of its nets, so no seed noise of its own.
Its comparisons borrow the seed std of its members (the nets it votes over):
a majority of K nets varies less from one set of seeds to another than one net
does, so the members' std is an upper bound of the vote's.
"""
from __future__ import annotations

import math
from typing import Sequence

from experiments.ablation_ladder.results import RungResult, find, rung_names
from jaxdl.report import tables
from jaxdl.report.claims import Claim
from jaxdl.report.verdicts import Estimate, Verdict, all_of, beyond, exceeds

BOOK_TEST_IMAGES = 10_000  # MNIST's test set, on which each of the book's numbers is one run's accuracy


def ladder_claims(datasets: Sequence[str], rows: Sequence[RungResult], tolerance_sigmas: float) -> list[Claim]:
  """tolerance_sigmas: a rung "is" the book's number within this many binomial stds of the
  book's accuracy on its 10,000 test images (see `book_tolerance`)."""
  claims = []
  if "mnist" in datasets:
    claims += book_claims([r for r in rows if r.dataset == "mnist" and r.book is not None], tolerance_sigmas)
  claims += [every_rung_helps(rows, d) for d in datasets if d != "mnist"]
  return claims


def book_tolerance(book: float, sigmas: float) -> float:
  """Points: `sigmas` binomial stds of an accuracy of `book` % measured on BOOK_TEST_IMAGES images,
  the sampling noise of the book's single-run number (0.18 points at 99%, 0.29 at 97.8%)."""
  p = book / 100
  return 100 * sigmas * math.sqrt(p * (1 - p) / BOOK_TEST_IMAGES)


def _member_noise(row: RungResult) -> float | None:
  """A vote rung's borrowed seed noise (points): its members' std; None for a rung with seeds."""
  if row.member_accs is None:
    return None
  est = Estimate.of(row.member_accs)
  return 100 * est.std if est.n > 1 else math.nan


def _one_number(verdict: Verdict, margin: float, noise: float) -> Verdict:
  """A verdict decided on a vote's single number, kept only where `margin` (points) exceeds the
  members' seed std `noise`."""
  held, measured = verdict
  if held is None:
    return verdict
  if not noise > 0:
    return None, measured + "; NOT TESTED: the vote's members give no seed noise"
  measured += f"; the members' seed std {noise:.2f} points"
  if abs(margin) <= noise:
    return None, measured + " (the vote's noise bound): within it, NOT TESTED at this budget"
  return held, measured


def near_the_book(row: RungResult, sigmas: float) -> tuple[Verdict, float]:
  """Is the per-seed distance |acc - book| (points) below the tolerance by more than the seed noise?"""
  tol = book_tolerance(row.book, sigmas)
  distance = [abs(100 * a - row.book) for a in row.accs]
  noise = _member_noise(row)
  verdict = beyond(distance, tol, above=False, name="|acc - book|", unit=" points",
                   one_seed_ok=noise is not None)
  if noise is not None:
    verdict = _one_number(verdict, Estimate.of(distance).mean - tol, noise)
  return verdict, tol


def book_claims(rows: Sequence[RungResult], sigmas: float) -> list[Claim]:
  """Per MNIST rung with a book number: near it; then the book's ordering."""
  claims = []
  for r in rows:
    (held, measured), tol = near_the_book(r, sigmas)
    claims.append(Claim(
        f"Nielsen ch. 6, rung '{r.rung}'", f"test accuracy {r.book:.2f}%", held,
        f"{tables.mean_std_text(r.accs, 100)}%, trained on {r.n_train} examples; {measured}",
        criterion=f"|acc - book| < {tol:.2f} points ({sigmas:g} binomial stds of {r.book:.2f}% on the book's "
                  f"{BOOK_TEST_IMAGES} test images: the sampling noise of its single-run number, which is also "
                  f"the best of 3 runs)"))
  if len(rows) > 1:
    held, measured = all_of(*(step(p, n, up=n.book > p.book) for p, n in zip(rows, rows[1:])))
  else:
    held, measured = None, "one rung: no ordering"
  claims.append(Claim("Nielsen ch. 6", "each rung improves on the one before (the book's ordering)", held,
                      measured, criterion="each step's mean difference beyond the seed noise (the larger std "
                                          "of the two rungs), in the book's direction; a step within the "
                                          "noise is NOT TESTED, not a break"))
  return claims


def step(prev: RungResult, nxt: RungResult, up: bool = True) -> Verdict:
  """Is `nxt` above `prev` (up; else below it) by more than the seed noise?

  Two rungs with seeds: `exceeds`. A vote (one number) against a rung with seeds:
  are that rung's seeds on the expected side of the vote beyond their own std and
  beyond the vote's members' std.
  """
  hi, lo = (nxt, prev) if up else (prev, nxt)
  pct = dict(scale=100, unit="%")
  if (hi.member_accs is None) == (lo.member_accs is None):
    return exceeds(hi.accs, lo.accs, names=(f"'{hi.rung}'", f"'{lo.rung}'"), **pct)
  vote, seeded = (hi, lo) if hi.member_accs is not None else (lo, hi)
  number = Estimate.of(vote.accs).mean
  held, measured = beyond(seeded.accs, number, above=seeded is hi, name=f"'{seeded.rung}'", **pct)
  measured += f" (the vote '{vote.rung}')"
  return _one_number((held, measured), 100 * (Estimate.of(seeded.accs).mean - number), _member_noise(vote))


def every_rung_helps(rows: Sequence[RungResult], dataset: str) -> Claim:
  names = rung_names(rows, dataset)
  steps = [step(find(rows, dataset, p), find(rows, dataset, n)) for p, n in zip(names, names[1:])]
  held, measured = all_of(*steps) if steps else (None, "one rung: no step")
  return Claim(f"this ladder on {dataset}", f"every rung still helps on {dataset}", held, measured,
               criterion="each rung's mean above the rung before by more than the seed noise (the larger "
                         "std); a step within the noise is NOT TESTED, not a break")
