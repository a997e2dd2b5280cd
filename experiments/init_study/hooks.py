"""The epoch hook every cell trains with: per-layer statistics on a fixed probe batch.

Its epoch-0 record (at initialization) also holds what the report needs from
the data and the untrained nets: the number of classes, E[x^2] over the probe
batch (He's recursion starts from it) and, for the cells that ask, every
replica's layer Jacobian singular values.
"""
from __future__ import annotations

from typing import Any, Callable

import jax
import numpy as np

from jaxdl import diagnostics
from jaxdl.train.trainer import EpochHook

# Keys of the epoch-0 record; the layer statistics are `diag_<statistic>`, [K, L].
STATISTIC_PREFIX = "diag_"
NUM_CLASSES = "num_classes"
PROBE_MEAN_SQUARE = "probe_mean_square"
JACOBIAN_SINGULAR_VALUES = "jacobian_singular_values"


def layer_statistics_hook(probe: Callable[[], tuple[np.ndarray, np.ndarray]],
                          jacobian_examples: int = 0) -> EpochHook:
  """`diagnostics.diagnostic_logger` on `probe()` (x [N, ...], labels [N]) at init and after
  every epoch; at init, also the constants above and, if `jacobian_examples` > 0, the
  singular values of each hidden layer's Jacobian for every replica on the first
  `jacobian_examples` probe examples ([{"1": [values], ...}, ...], by replica and hidden layer)."""
  x, y = probe()
  log_statistics = diagnostics.diagnostic_logger(x, y, prefix=STATISTIC_PREFIX)

  def hook(state: Any, program: Any, hparams: dict[str, jax.Array]) -> dict[str, Any]:
    record = log_statistics(state, program, hparams)
    if int(state.step[0]) == 0:  # the epoch-0 call (a resumed run has logged it already)
      record[NUM_CLASSES] = program.num_classes
      record[PROBE_MEAN_SQUARE] = float(np.mean(np.square(x)))
      if jacobian_examples:
        # Every replica's: the verdict compares the seeds' means, so each seed needs its own.
        record[JACOBIAN_SINGULAR_VALUES] = [
            _by_layer(program.model(_replica(hparams, k)), program.variables(_replica(state, k)), x,
                      jacobian_examples) for k in range(int(state.step.shape[0]))]
    return record

  return hook


def _replica(tree: Any, k: int) -> Any:
  return jax.tree_util.tree_map(lambda leaf: leaf[k], tree)


def _by_layer(model: Any, variables: Any, x: np.ndarray, examples: int) -> dict[str, np.ndarray]:
  # A dict, not a list: the layers' lengths may differ (the first layer's n_in is the input's).
  values = diagnostics.jacobian_singular_values(model, variables, x, num_examples=examples)
  return {str(i + 1): s for i, s in enumerate(values)}
