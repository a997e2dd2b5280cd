"""The study's cells, from the config and its ladder file, and the plan that maps rungs to cells.

Per dataset and rung: a TrainCell `<dataset>_<rung>` (its K replicas = the
rung's seeds), unless an earlier rung trains the very same config on the same
data (then the rung reads that cell); and, for a `vote` rung, a MeasureCell
`<dataset>_<rung>` that restores the trained nets of the cell it votes over
and measures their majority vote (the nets are `<dataset>_<rung>_nets` when
the vote needs more seeds than the rung before it trained).
"""
from __future__ import annotations

import dataclasses
import functools
import math
import re
from typing import Any, Callable

from ml_collections import ConfigDict

from experiments.ablation_ladder.data import data_spec, rung_data
from experiments.ablation_ladder.ladder import (DEFAULT_VAL_SIZE, check_train_section, load_ladder,
                                                rung_specs, train_config)
from jaxdl.data import DATASETS
from jaxdl.ensembles import replica_logits, vote_accuracy
from jaxdl.errors import UserError
from jaxdl.study import Cell, CellContext, MeasureCell, TrainCell
from jaxdl.train import RunResult, RunStatus


@dataclasses.dataclass(frozen=True)
class Rung:
  """One rung on one dataset, and the cells that hold its number."""
  dataset: str
  name: str
  adds: str
  book: float | None  # the book's % MNIST test accuracy (None: the ladder gives none)
  trained: str        # the TrainCell that trained its nets
  vote: str | None    # a vote rung's MeasureCell


@dataclasses.dataclass(frozen=True)
class Plan:
  ladder: str  # the ladder's name
  datasets: tuple[str, ...]
  rungs: tuple[Rung, ...]
  cells: tuple[Cell, ...]


def datasets(config: ConfigDict) -> tuple[str, ...]:
  """config.dataset's comma-separated dataset names, checked."""
  names = tuple(d.strip() for d in config.dataset.split(",") if d.strip())
  unknown = sorted(set(names) - set(DATASETS.names()))
  if unknown or not names:
    raise UserError(f"config.dataset={config.dataset!r}: unknown {unknown}; valid (comma-separated): "
                    f"{', '.join(DATASETS.names())}")
  return names


def cell_name(dataset: str, rung: str) -> str:
  """Filesystem-safe: `mnist` and `+ 2nd conv` -> `mnist_2nd_conv`."""
  return f"{dataset}_{re.sub(r'[^a-z0-9]+', '_', rung.lower()).strip('_')}"


def split_sizes(result: RunResult) -> dict[str, int]:
  """The examples a cell trained, validated and tested on (the expansion included)."""
  return {f"n_{split}": len(getattr(result.data, f"y_{split}")) for split in ("train", "val", "test")}


def train_cell(name: str, spec: dict[str, Any], val_size: int, train: ConfigDict, seed_offset: int) -> TrainCell:
  cfg = train_config(spec, train, seed_offset)
  described = data_spec(spec, val_size)
  build = functools.partial(rung_data, **described, data_dir=cfg.data_dir, download=cfg.download,
                            options=tuple(sorted(cfg.data_options.items())))
  return TrainCell(name, cfg, data=build, data_spec=described, measure=split_sizes)


def vote_measurement(trained: str, size: int) -> Callable[[CellContext], dict[str, Any]]:
  """The majority vote's test accuracy (in [0, 1]) of the first `size` nets of `trained`
  that did not diverge, and those members' own final test accuracies."""
  def run(ctx: CellContext) -> dict[str, Any]:
    replicas = ctx.record(trained).replicas
    members = [k for k, r in enumerate(replicas) if r["status"] != RunStatus.DIVERGED][:size]
    out = {"members": members, "member_test_accs": [replicas[k]["test_acc"] for k in members],
           "vote_test_acc": math.nan}
    if members:
      nets = ctx.trained(trained)
      out["vote_test_acc"] = vote_accuracy(replica_logits(nets, nets.data.x_test, members), nets.data.y_test)
    return out
  return run


def plan(config: ConfigDict) -> Plan:
  """The rungs and cells of config's ladder on each of its datasets (reads the ladder file only)."""
  ladder = load_ladder(config.ladder, {k: v for k, v in config.protocol.items() if v is not None})
  check_train_section(config.train, ladder)
  val_size = int(ladder["protocol"].get("val_size", DEFAULT_VAL_SIZE))
  rungs, cells = [], []
  for dataset in datasets(config):
    trained: dict[str, TrainCell] = {}  # repr((config, data spec)) -> the cell that trains it
    for rung, spec in zip(ladder["rungs"], rung_specs(ladder, dataset, config.seeds)):
      name = cell_name(dataset, rung["name"])
      cell = train_cell(f"{name}_nets" if spec.get("vote") else name, spec, val_size, config.train,
                        config.seed_offset)
      key = repr((cell.config, cell.data_spec))
      if key not in trained:
        trained[key] = cell
        cells.append(cell)
      cell = trained[key]
      vote = None
      if spec.get("vote"):
        vote = name
        cells.append(MeasureCell(name, {"vote": int(spec["vote"]), "over": cell.name},
                                 vote_measurement(cell.name, int(spec["vote"])), needs=(cell.name,)))
      rungs.append(Rung(dataset, rung["name"], rung.get("adds", ""), rung.get("book"), cell.name, vote))
  names = [c.name for c in cells]
  repeated = sorted({n for n in names if names.count(n) > 1})
  if repeated:
    raise UserError(f"ladder {config.ladder}: rung names give the same cell name(s) {repeated}; rename the rungs")
  return Plan(ladder.get("name", "ladder"), datasets(config), tuple(rungs), tuple(cells))


def cells(config: ConfigDict) -> list[Cell]:
  return list(plan(config).cells)
