"""The claims: each rung lands near the book's number, the book's ordering, and whether every rung
still helps on the other datasets."""
from __future__ import annotations

from typing import Sequence

from experiments.ablation_ladder.results import RungResult, find, rung_names
from jaxdl.report import tables
from jaxdl.report.claims import Claim


def ladder_claims(datasets: Sequence[str], rows: Sequence[RungResult], tolerance: float) -> list[Claim]:
  """tolerance: points (%) within which a rung's mean "is" the book's number."""
  claims = []
  if "mnist" in datasets:
    claims += book_claims([r for r in rows if r.dataset == "mnist" and r.book is not None], tolerance)
  claims += [every_rung_helps(rows, d) for d in datasets if d != "mnist"]
  return claims


def book_claims(rows: Sequence[RungResult], tolerance: float) -> list[Claim]:
  """Per MNIST rung with a book number: within `tolerance` points of it; then the book's ordering."""
  claims = []
  for r in rows:
    mean = 100 * tables.mean_std(r.accs)[0]
    claims.append(Claim(f"Nielsen ch. 6, rung '{r.rung}'", f"test accuracy {r.book:.2f}% (within {tolerance})",
                        bool(abs(mean - r.book) <= tolerance),
                        f"{tables.mean_std_text(r.accs, 100)}% ({mean - r.book:+.2f}), trained on {r.n_train} "
                        f"examples"))
  means = [tables.mean_std(r.accs)[0] for r in rows]
  books = [r.book for r in rows]
  # strict: a tie is not an improvement; a NaN (every seed diverged) breaks the ordering
  kept = all((means[i + 1] > means[i]) == (books[i + 1] > books[i]) for i in range(len(rows) - 1))
  claims.append(Claim("Nielsen ch. 6", "each rung improves on the one before (the book's ordering)",
                      kept if len(rows) > 1 else None, " -> ".join(f"{100 * m:.2f}" for m in means)))
  return claims


def every_rung_helps(rows: Sequence[RungResult], dataset: str) -> Claim:
  names = rung_names(rows, dataset)
  steps = [(n, tables.mean_std(find(rows, dataset, n).accs)[0] - tables.mean_std(find(rows, dataset, p).accs)[0])
           for p, n in zip(names, names[1:])]
  return Claim(f"this ladder on {dataset}", f"every rung still helps on {dataset}",
               all(s > 0 for _, s in steps) if steps else None,
               ", ".join(f"{n} {100 * s:+.2f}" for n, s in steps))
