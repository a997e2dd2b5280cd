"""What the report reads off a cell's record: He's predicted std, training outcome, layer statistics."""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from experiments.init_study.hooks import (JACOBIAN_SINGULAR_VALUES, NUM_CLASSES, PROBE_MEAN_SQUARE,
                                          STATISTIC_PREFIX)
from jaxdl.report import tables
from jaxdl.study import CellRecord
from jaxdl.train import RunStatus

# Training outcome of a cell, from its final training loss relative to chance (ln K):
# converged below half of it, stalled above 90% of it (it barely moved), else "slow".
CONVERGED_FRACTION, STALLED_FRACTION = 0.5, 0.9


def predicted_preact_std(fan_in_var: np.ndarray, input_mean_square: float) -> np.ndarray:
  """He et al. 2015, eq. (9): Var[y_l] = (n_l Var[w_l] / 2) Var[y_{l-1}] in a ReLU net.

  fan_in_var: [L] n_l Var[w_l] of each layer's kernel; the first layer sees the
  raw input, so Var[y_0] = n_0 Var[w_0] E[x^2] (no ReLU halving). Returns [L] std.
  """
  variance = input_mean_square * fan_in_var[0] * np.cumprod(np.r_[1.0, fan_in_var[1:] / 2.0])
  return np.sqrt(variance)


def diverged(replicas: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
  return [r for r in replicas if r["status"] == RunStatus.DIVERGED]


def outcome(replicas: Sequence[dict[str, Any]], num_classes: int) -> str:
  """converged / slow / stalled / diverged (at step s): a cell's seeds, by their final training loss."""
  steps = [r["diverged_step"] for r in diverged(replicas)]
  mean_loss, _, n = tables.mean_std(r["train_loss"] for r in replicas)
  if n == 0:
    return f"diverged (step {min(steps)})"
  chance = math.log(num_classes)
  verdict = ("converged" if mean_loss < CONVERGED_FRACTION * chance else
             "stalled" if mean_loss > STALLED_FRACTION * chance else "slow")
  return verdict + (f", {len(steps)}/{len(replicas)} diverged" if steps else "")


def mean_over_seeds(values: np.ndarray) -> np.ndarray:
  """[K, ...] -> [...], ignoring non-finite replicas (a diverged seed)."""
  values = np.asarray(values, float)
  finite = np.where(np.isfinite(values), values, np.nan)
  with np.errstate(all="ignore"):
    return np.nanmean(finite, axis=0) if np.isfinite(finite).any() else np.full(values.shape[1:], np.nan)


def seed_statistic(record: CellRecord, name: str) -> np.ndarray:
  """[K, L] the layer statistic `name` at init, per seed (replica)."""
  return record.at_init(STATISTIC_PREFIX + name)


def init_statistic(record: CellRecord, name: str) -> np.ndarray:
  """[L] the layer statistic `name` (see `jaxdl.diagnostics.STATISTICS`) at init, mean over seeds."""
  return mean_over_seeds(record.at_init(STATISTIC_PREFIX + name))


def final_statistic(record: CellRecord, name: str) -> np.ndarray:
  """[L] the layer statistic `name` after training, mean over seeds."""
  return mean_over_seeds(record.final(STATISTIC_PREFIX + name))


def num_classes(record: CellRecord) -> int:
  return int(record.history[0][NUM_CLASSES])


def predicted_std(record: CellRecord) -> np.ndarray:
  """[L] He's predicted pre-activation std at init, from the cell's drawn kernels and probe batch."""
  return predicted_preact_std(init_statistic(record, "kernel_fan_in_var"), record.history[0][PROBE_MEAN_SQUARE])


def jacobian_singular_values(record: CellRecord) -> list[list[np.ndarray]] | None:
  """Per replica, per hidden layer, the Jacobian singular values at init; None if not computed."""
  by_replica = record.history[0].get(JACOBIAN_SINGULAR_VALUES) if record.history else None
  return None if by_replica is None else [[np.asarray(v, float) for v in by_layer.values()]
                                          for by_layer in by_replica]


def mean_singular_values(record: CellRecord) -> np.ndarray | None:
  """[K, L] the mean Jacobian singular value of each replica's hidden layers; None if not computed."""
  values = jacobian_singular_values(record)
  return None if values is None else np.array([[np.mean(s) for s in by_layer] for by_layer in values])


def error_percent(record: CellRecord) -> list[float]:
  """Each replica's test error in % (nan for a diverged replica)."""
  return [100 * (1 - r["test_acc"]) for r in record.replicas]
