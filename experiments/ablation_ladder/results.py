"""Each rung's measured number, read from the cell records: what the table, claims and figure show."""
from __future__ import annotations

import dataclasses
from typing import Mapping, Sequence

from experiments.ablation_ladder.cells import Plan
from jaxdl.study import CellRecord


@dataclasses.dataclass(frozen=True)
class RungResult:
  """Nielsen's number for one rung on one dataset: test accuracy at the epoch of best
  validation accuracy, per seed; a vote rung's is the vote of its nets after the last epoch."""
  dataset: str
  rung: str
  adds: str
  book: float | None  # the book's % MNIST test accuracy
  accs: list[float]   # test accuracies in [0, 1]: one per seed, or the vote's one
  n_train: int        # training examples, the expansion included
  member_accs: list[float] | None = None  # a vote's members' own final test accuracies


def rung_results(plan: Plan, records: Mapping[str, CellRecord]) -> list[RungResult]:
  rows = []
  for rung in plan.rungs:
    trained = records[rung.trained]
    if rung.vote:
      vote = records[rung.vote].results
      accs, members = [vote["vote_test_acc"]], vote["member_test_accs"]
    else:
      accs, members = [r["test_acc_at_best_val"] for r in trained.replicas], None
    rows.append(RungResult(rung.dataset, rung.name, rung.adds, rung.book, accs,
                           trained.measurements["n_train"], members))
  return rows


def rung_names(rows: Sequence[RungResult], dataset: str | None = None) -> list[str]:
  """The rungs in ladder order (on `dataset` only, if given)."""
  return list(dict.fromkeys(r.rung for r in rows if dataset in (None, r.dataset)))


def find(rows: Sequence[RungResult], dataset: str, rung: str) -> RungResult:
  return next(r for r in rows if r.dataset == dataset and r.rung == rung)
