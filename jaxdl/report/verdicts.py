"""Verdicts that respect the seed noise: a claim is decided only where its effect exceeds it.

A comparison of two cells, or of one cell against a threshold, is made on the
mean over seeds, and the seed noise is the larger sample std of the values
compared. When the difference (or the distance to the threshold) is not larger
than that noise, the seeds could decide it either way: the verdict is NOT TESTED
(held=None) at this budget, with the noise in the measured text, never HELD or
NOT HELD. One seed has no measured noise, so a comparison on one seed is NOT
TESTED too. Each function returns (held, measured), ready for
`Claim(source, text, *verdict, criterion=...)`.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Iterable

import numpy as np

from jaxdl.report.tables import mean_std

Verdict = tuple[bool | None, str]


@dataclasses.dataclass(frozen=True)
class Estimate:
  """The mean and sample std over seeds of the finite values; `total` counts every value."""
  mean: float
  std: float
  n: int
  total: int

  @classmethod
  def of(cls, values: Iterable[Any]) -> "Estimate":
    # numpy scalars (float32 included) as Python floats, so they count as values
    values = [v.item() if isinstance(v, np.generic) else v for v in np.asarray(list(values), object).ravel()]
    mean, std, n = mean_std(values)
    return cls(mean, std, n, len(values))

  def text(self, scale: float = 1.0, digits: int = 2, unit: str = "") -> str:
    if self.n == 0:
      return "diverged"
    body = f"{self.mean * scale:.{digits}f}{unit}"
    if self.n > 1:
      body += f" ± {self.std * scale:.{digits}f}{unit}"
    lost = f", {self.total - self.n} diverged" if self.n < self.total else ""
    return f"{body} (n={self.n}{lost})"


def _fmt(x: float, scale: float, digits: int, unit: str) -> str:
  return f"{x * scale:.{digits}f}{unit}"


def _undecidable(*estimates: Estimate) -> str | None:
  """Why the estimates cannot decide anything, or None if they can."""
  if any(e.n == 0 for e in estimates):
    return "a cell has no finite value (diverged)"
  if any(e.n < e.total for e in estimates):
    return "a seed diverged, so the means are not comparable"
  if any(e.n < 2 for e in estimates):
    return "one seed: the seed noise is unknown"
  return None


def exceeds(a: Iterable[Any], b: Iterable[Any], names: tuple[str, str] = ("a", "b"),
            scale: float = 1.0, digits: int = 2, unit: str = "") -> Verdict:
  """Is mean(a) > mean(b) by more than the seed noise (max of the two stds)?

  HELD if a - b > noise, NOT HELD if b - a > noise, NOT TESTED if |a - b| <= noise.
  """
  ea, eb = Estimate.of(a), Estimate.of(b)
  measured = f"{names[0]} {ea.text(scale, digits, unit)} vs {names[1]} {eb.text(scale, digits, unit)}"
  why = _undecidable(ea, eb)
  if why:
    return None, f"{measured}; NOT TESTED: {why}"
  diff, noise = float(ea.mean - eb.mean), max(ea.std, eb.std)
  measured += (f"; difference {diff * scale:+.{digits}f}{unit}, seed noise (larger std) "
               f"{_fmt(noise, scale, digits, unit)}")
  if abs(diff) <= noise:
    return None, measured + "; within the noise: NOT TESTED at this budget"
  return bool(diff > 0), measured


def beyond(values: Iterable[Any], threshold: float, above: bool = True, name: str = "measured",
           scale: float = 1.0, digits: int = 2, unit: str = "", one_seed_ok: bool = False) -> Verdict:
  """Is the mean above (or below) `threshold` by more than the seed noise?

  one_seed_ok: decide a single seed on its value alone (for effects of orders of
  magnitude, e.g. a gradient ratio of 1e-9 against a threshold of 1e-2).
  """
  e = Estimate.of(values)
  side = ">" if above else "<"
  measured = f"{name} {e.text(scale, digits, unit)}, threshold {side} {_fmt(threshold, scale, digits, unit)}"
  why = _undecidable(e)
  if why and not (one_seed_ok and e.n == e.total == 1):
    return None, f"{measured}; NOT TESTED: {why}"
  margin = (e.mean - threshold) if above else (threshold - e.mean)
  noise = e.std if e.n > 1 else 0.0
  if e.n > 1:
    measured += f"; seed noise (std) {_fmt(noise, scale, digits, unit)}"
  if not math.isfinite(margin):
    return None, measured + "; NOT TESTED: not finite"
  if abs(margin) <= noise:
    return None, measured + "; within the noise of the threshold: NOT TESTED at this budget"
  return bool(margin > 0), measured


def within(values: Iterable[Any], low: float, high: float, name: str = "measured", scale: float = 1.0,
           digits: int = 2, unit: str = "", noise_of: str = "seeds") -> Verdict:
  """Is the mean inside (low, high), farther from both edges than the noise (the std over
  `noise_of`)? Outside by more than the noise is NOT HELD; near an edge, NOT TESTED."""
  e = Estimate.of(values)
  measured = (f"{name} {e.text(scale, digits, unit)}, band ({_fmt(low, scale, digits, unit)}, "
              f"{_fmt(high, scale, digits, unit)})")
  why = _undecidable(e)
  if why:
    return None, f"{measured}; NOT TESTED: {why}"
  measured += f"; noise (std over {noise_of}) {_fmt(e.std, scale, digits, unit)}"
  margin = min(e.mean - low, high - e.mean)  # > 0 inside, < 0 outside
  if abs(margin) <= e.std:
    return None, measured + "; within the noise of an edge: NOT TESTED at this budget"
  return bool(margin > 0), measured


def all_of(*verdicts: Verdict, sep: str = "; ") -> Verdict:
  """Conjunction: NOT HELD if any part is NOT HELD, else NOT TESTED if any part is, else HELD."""
  helds = [v[0] for v in verdicts]
  held = False if False in helds else (None if None in helds else True)
  return held, sep.join(v[1] for v in verdicts)


def own_check(reason: str) -> str:
  """The source of a check the paper did not make: the project's own, with its reason."""
  return f"jaxdl's own check, not the paper's ({reason})"
