"""One row per trained replica, read from the cell records: what the tables and claims group.

A row is the replica's results.json entry plus its net, its regularizer (the
2x2 ablation: none, dropout, bn, both), its lr as a multiple of the net's base
lr, its validation-accuracy curve, the steps it took to reach the baseline's
accuracy, and (BN nets at 1x lr) its variance-shift measurements. The recipe
cells' rows (`recipe_rows`) carry their arm and seed only.
"""
from __future__ import annotations

import math
import re
from typing import Any, Mapping

from ml_collections import ConfigDict

from experiments.dropout_vs_batchnorm.cells import RECIPE_ARMS, cell_name, recipe_cell_name
from experiments.dropout_vs_batchnorm.measure import lr_multiple
from jaxdl.study import CellRecord
from jaxdl.train import RunStatus

REGULARIZERS = ("none", "dropout", "bn", "both")


def regularizer(batch_norm: bool, dropout_rate: float) -> str:
  return {(False, False): "none", (False, True): "dropout", (True, False): "bn",
          (True, True): "both"}[(batch_norm, dropout_rate > 0)]


def after_dropout(layer: str) -> bool:
  """Whether a BN layer (by module name) has a dropout layer upstream of it.

  mlp: bn{i} follows hidden layer i-1's dropout for i >= 1; cnn: dense_bn{i}
  likewise (its conv BN layers and first dense BN see no dropout).
  """
  m = re.fullmatch(r"(?:dense_)?bn(\d+)", layer)
  return bool(m) and int(m.group(1)) >= 1


def replica_rows(config: ConfigDict, records: Mapping[str, CellRecord]) -> list[dict[str, Any]]:
  """Every replica of every cell, net by net (config.nets order), plain before BN."""
  rows = []
  for net in config.nets:
    for batch_norm in (False, True):
      record = records[cell_name(net, batch_norm)]
      val_curves = record.curve("val_acc")  # [epochs, K]
      bn = record.measurements.get("bn") or [None] * len(record.replicas)
      for k, rep in enumerate(record.replicas):
        row = {"net": net, "regularizer": regularizer(batch_norm, rep["dropout_rate"]), "batch_norm": batch_norm,
               "lr_mult": lr_multiple(rep, record.config["optim"]["lr"]),
               "steps_per_epoch": record.measurements["steps_per_epoch"],
               "val_curve": val_curves[:, k].tolist(), **rep}
        if bn[k]:
          row["variance_shift"] = {s["layer"]: s for s in bn[k]["variance_shift"]}
          row["test_acc_recomputed_bn"] = bn[k]["test_acc_recomputed_bn"]
        rows.append(row)
  add_steps_to_target(rows)
  return rows


def recipe_rows(records: Mapping[str, CellRecord]) -> list[dict[str, Any]]:
  """Every replica of the recipe cells, arm by arm (RECIPE_ARMS order)."""
  return [{"arm": arm, **rep} for arm in RECIPE_ARMS for rep in records[recipe_cell_name(arm)].replicas]


def add_steps_to_target(rows: list[dict[str, Any]]) -> None:
  """Target = the lowest best val accuracy of the `none` seeds at 1x lr, per net.

  Ioffe & Szegedy's target is the baseline's best accuracy (Inception's 72.2%). With several
  seeds, the lowest of their bests is the one every baseline seed reaches, so no baseline seed
  drops out of the comparison (a seed mean as target leaves about half of them short of it).
  """
  for net in {r["net"] for r in rows}:
    base = [r["best_val_acc"] for r in rows
            if r["net"] == net and r["regularizer"] == "none" and r["lr_mult"] == 1.0
            and r["status"] != RunStatus.DIVERGED]
    target = min(base) if base else math.nan
    for r in rows:
      if r["net"] == net:
        epoch = None if math.isnan(target) else first_epoch_at(r["val_curve"], target)
        r["target_val_acc"] = target
        r["steps_to_target"] = None if epoch is None else epoch * r["steps_per_epoch"]


def first_epoch_at(curve: list[float], target: float) -> int | None:
  """The first epoch (1-based) whose accuracy reaches `target`; None if none does."""
  for epoch, acc in enumerate(curve, start=1):
    if math.isfinite(acc) and acc >= target - 1e-9:
      return epoch
  return None


def group(rows: list[dict[str, Any]], **keys: Any) -> list[dict[str, Any]]:
  """The rows whose values match every key=value."""
  return [r for r in rows if all(r[k] == v for k, v in keys.items())]


def lr_behaviour(members: list[dict[str, Any]], stall_acc: float) -> str:
  """trains / stalls / diverges, with counts when the seeds disagree.

  A replica stalls when it stays finite but its best validation accuracy stays below `stall_acc`.
  """
  kinds = ["diverges" if r["status"] == RunStatus.DIVERGED else
           "stalls" if not r["best_val_acc"] >= stall_acc else "trains" for r in members]
  unique = sorted(set(kinds))
  return unique[0] if len(unique) == 1 else ", ".join(f"{kinds.count(u)}/{len(kinds)} {u}" for u in unique)
