"""Universal approximation in 1-D: one hidden layer of a given width fitted to each target.

One compiled program per width (the net's shape); its replicas are (target,
seed) pairs, each with its own targets on the shared grid. A program of the
widest net with per-replica unit masks would compile once, but it would give
the narrow nets the widest net's output-layer initialization (He's scale
depends on the fan-in) and their cost; the project's `mlp` at each true width
is the net the claims are about.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from experiments.approximation.fit import fit_replicas
from jaxdl import approximation as approx
from jaxdl.optim import OptimConfig


def grid_targets(targets: Sequence[str], sawtooth_k: int, level: int) -> tuple[np.ndarray, np.ndarray]:
  """The dyadic grid x [2^level + 1, 1] and each target on it, [T, 2^level + 1] (computed in float64)."""
  x = approx.dyadic_grid(level)
  return x, np.stack([approx.target_function(t, sawtooth_k)(x[:, 0].astype(np.float64)) for t in targets])


def mse_per_replica(outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
  """Mean squared error [R] of outputs [R, M] against targets [R, M]."""
  return np.mean((np.asarray(outputs, np.float64) - targets) ** 2, axis=1)


def fit_targets(widths: tuple[int, ...], targets: Sequence[str], sawtooth_k: int, seeds: Sequence[int],
                optim: OptimConfig, steps: int, train_level: int, eval_level: int) -> dict[str, Any]:
  """The net of `widths` fitted to every target from every seed, in one program.

  Returns per target: `mse` per seed (on the evaluation grid), `train_loss` per seed, and
  `outputs` of the first seed on the evaluation grid; and `params` (the net's parameter count).
  """
  x, y = grid_targets(targets, sawtooth_k, train_level)
  x_eval, y_eval = grid_targets(targets, sawtooth_k, eval_level)
  ys = np.repeat(y, len(seeds), axis=0)  # replica t * S + s: target t, seed s
  fit = fit_replicas(widths, x, ys, list(seeds) * len(targets), optim, steps, x_eval, breakpoints=(0.0, 1.0))
  mse = mse_per_replica(fit["eval_outputs"], np.repeat(y_eval, len(seeds), axis=0)).reshape(len(targets), -1)
  loss = fit["train_loss"].reshape(len(targets), -1)
  return {"params": approx.mlp_param_count(widths),
          "targets": {t: {"mse": mse[i].tolist(), "train_loss": loss[i].tolist(),
                          "outputs": fit["eval_outputs"][i * len(seeds)].tolist()} for i, t in enumerate(targets)}}


def measure_width(width: int, spec: dict[str, Any], seeds: Sequence[int], optim: OptimConfig) -> dict[str, Any]:
  """The width sweep's cell: one hidden layer of `width` units on each of spec's targets."""
  return {"width": width, **fit_targets((width,), spec["targets"], spec["sawtooth_k"], seeds, optim, spec["steps"],
                                        spec["train_level"], spec["eval_level"])}
