"""Deterministic epoch order and batch selection, on device.

Data order is a function of (data key, epoch) only, so a run resumed from a
checkpoint at any step sees exactly the batches an uninterrupted run would.
All functions are pure jax: they jit, vmap (e.g. over seeds) and scan.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxdl.errors import UserError


def steps_per_epoch(n: int, batch_size: int) -> int:
  """Full batches in one epoch of `n` examples.

  The remainder (n % batch_size examples) is dropped each epoch so every
  batch has the same shape and the step compiles once; the permutation
  changes every epoch, so no example is left out systematically.
  """
  if not 0 < batch_size <= n:
    raise UserError(f"batch_size={batch_size} must be in [1, n={n}]")
  return n // batch_size


def epoch_permutation(data_key: jax.Array, epoch: int | jax.Array, n: int) -> jax.Array:
  """The order of the `n` examples in `epoch`: int32 [n], a permutation of 0..n-1.

  `epoch` may be traced; `n` is static.
  """
  return jax.random.permutation(jax.random.fold_in(data_key, epoch), n).astype(jnp.int32)


def batch_indices(perm: jax.Array, step_in_epoch: int | jax.Array, batch_size: int) -> jax.Array:
  """Example indices of batch `step_in_epoch`: int32 [batch_size].

  Args:
    perm: int32 [n], from `epoch_permutation`.
    step_in_epoch: in [0, steps_per_epoch(n, batch_size)); may be traced. A
      step past the end is clamped to the last full slice (dynamic_slice's
      rule): keep it in range.
    batch_size: static.
  """
  start = jnp.asarray(step_in_epoch, jnp.int32) * batch_size
  return jax.lax.dynamic_slice_in_dim(perm, start, batch_size)
