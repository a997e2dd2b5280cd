"""What each cell measures on its trained replicas (saved as its measurements.json).

Every cell: its steps per epoch (to turn epochs into steps). Batch-norm cells,
for each replica at 1x lr that did not diverge: Li et al.'s variance shift per
BN layer and the test accuracy after recomputing BN's statistics in test mode.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from jaxdl.data.batching import steps_per_epoch
from jaxdl.train import RunResult, RunStatus
from jaxdl.variance_shift import recompute_bn_statistics, variance_shift


def lr_multiple(replica: dict[str, Any], base_lr: float) -> float:
  """A replica's lr as a multiple of its net's base lr (rounded, so 1x compares equal)."""
  return round(replica["lr"] / base_lr, 6)


def measure_cell(result: RunResult, recompute_examples: int) -> dict[str, Any]:
  """{"steps_per_epoch", and for BN nets "bn": per replica, its `bn_measurements` or None}."""
  cfg = result.config
  out: dict[str, Any] = {"steps_per_epoch": steps_per_epoch(len(result.data.y_train), cfg.batch_size)}
  if cfg.model_options.get("batch_norm"):
    out["bn"] = [bn_measurements(result, k, recompute_examples)
                 if rep["status"] != RunStatus.DIVERGED and lr_multiple(rep, cfg.optim.lr) == 1.0 else None
                 for k, rep in enumerate(result.replicas)]
  return out


def bn_measurements(result: RunResult, k: int, recompute_examples: int) -> dict[str, Any]:
  """Replica k's variance shift per BN layer (a list in the order the layers run), and its
  test accuracy with BN's statistics recomputed in test mode on the first
  `recompute_examples` training examples."""
  model, variables, data = result.model(k), result.variables(k), result.data
  shift = variance_shift(model, variables, data.x_test)
  fixed = recompute_bn_statistics(model, variables, data.x_train[:recompute_examples])
  chunk = result.config.eval_batch_size
  logits = np.concatenate([np.asarray(model.apply(fixed, data.x_test[i:i + chunk], train=False))
                           for i in range(0, len(data.x_test), chunk)])
  return {"variance_shift": [{"layer": layer, **stats} for layer, stats in shift.items()],
          "test_acc_recomputed_bn": float(np.mean(logits.argmax(-1) == data.y_test))}
