"""Li et al. 2019's "variance shift" of batch norm, and its known fix.

With dropout placed before a batch-norm layer, the batch statistics BN
accumulates in training see inputs inflated by dropout's noise (an inverted
dropout mask multiplies each unit by 0 or 1/keep), while at test time dropout
is off. BN then normalizes test inputs with a variance they do not have.

`bn_inputs` records what every `nn.BatchNorm` receives, by intercepting its
`__call__` with Flax's method interceptors, so it works for any model without
per-model code. `variance_shift` compares BN's running variance with the
variance its input actually has in test mode; `recompute_bn_statistics`
replaces the running statistics by the test-mode population statistics (the
fix Li et al. discuss), so the accuracy that the shift costs can be measured.
"""
from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax.core import unfreeze

BnPath = tuple[str, ...]


def bn_inputs(model: nn.Module, variables: dict[str, Any], x: jax.Array,
              batch_size: int = 1000) -> dict[BnPath, np.ndarray]:
  """The input of every BatchNorm layer in test mode (train=False, no dropout).

  Args:
    model, variables: a Flax model and its variables (with `batch_stats`).
    x: [N, ...] inputs, evaluated in chunks of `batch_size`.

  Returns:
    {module path: [N * spatial, C]}: each BN's input, every axis but the
    channel axis flattened (conv BN layers pool over positions, as BN does).
  """
  def capture(v, xb):
    seen = {}

    def interceptor(next_fn, args, kwargs, context):
      if isinstance(context.module, nn.BatchNorm) and context.method_name == "__call__":
        seen[tuple(context.module.scope.path)] = args[0]
      return next_fn(*args, **kwargs)

    with nn.intercept_methods(interceptor):
      model.apply(v, xb, train=False)
    return seen

  capture = jax.jit(capture)
  chunks = [capture(variables, x[i:i + batch_size]) for i in range(0, x.shape[0], batch_size)]
  return {path: np.concatenate([np.asarray(c[path]).reshape(-1, c[path].shape[-1]) for c in chunks])
          for path in chunks[0]}


def _stats_at(batch_stats: dict[str, Any], path: BnPath) -> dict[str, Any]:
  node = batch_stats
  for name in path:
    node = node[name]
  return node


def variance_shift(model: nn.Module, variables: dict[str, Any], x: jax.Array) -> dict[str, dict[str, float]]:
  """Per BN layer: running variance / test-mode input variance, over its units.

  A ratio of 1 means BN's statistics match what it sees at test time; Li et al.
  predict a ratio > 1 after dropout (train-mode variance includes dropout's
  noise). Units whose test variance is ~0 (dead units) are left out.

  Returns:
    {"/".join(path): {"mean_ratio", "median_ratio", "min_ratio", "max_ratio",
    "units"}}, in the order the layers run.
  """
  out = {}
  for path, inputs in bn_inputs(model, variables, x).items():
    running = np.asarray(_stats_at(variables["batch_stats"], path)["var"], np.float64)
    actual = inputs.astype(np.float64).var(axis=0)
    live = actual > 1e-8
    ratio = running[live] / actual[live]
    out["/".join(path)] = {"mean_ratio": float(ratio.mean()), "median_ratio": float(np.median(ratio)),
                           "min_ratio": float(ratio.min()), "max_ratio": float(ratio.max()),
                           "units": int(live.sum())}
  return out


def recompute_bn_statistics(model: nn.Module, variables: dict[str, Any], x: jax.Array) -> dict[str, Any]:
  """Variables whose BN running mean/var are the test-mode population statistics on x.

  Layers are fixed in order: a BN layer's input depends only on the layers
  before it, so after pass l the first l layers hold exact statistics.
  """
  batch_stats = jax.tree_util.tree_map(np.asarray, unfreeze(variables["batch_stats"]))
  n_layers = len(bn_inputs(model, variables, x[:1]))
  for _ in range(n_layers):
    inputs = bn_inputs(model, {**variables, "batch_stats": batch_stats}, x)
    for path, values in inputs.items():
      stats = _stats_at(batch_stats, path)
      stats["mean"] = jnp.asarray(values.mean(axis=0), stats["mean"].dtype)
      stats["var"] = jnp.asarray(values.var(axis=0), stats["var"].dtype)
  return {**variables, "batch_stats": batch_stats}
