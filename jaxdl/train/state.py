"""The training state of K replicas: one pytree whose leaves have a leading [K] axis."""
from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct


class TrainState(struct.PyTreeNode):
  """Everything a run needs to continue bit-for-bit (all of it is checkpointed).

  Per replica: params, batch_stats, opt_state, the step, the data-order key and
  the step key (dropout, augmentation), divergence and early-stopping flags,
  the running sums of the current epoch's training metrics, and the
  best-validation bookkeeping.
  """
  step: jax.Array             # int32: optimizer steps taken (equal across replicas)
  params: Any
  batch_stats: Any
  opt_state: Any
  data_key: jax.Array         # permutation of epoch e = f(data_key, e) only
  step_key: jax.Array         # dropout / augmentation key of step s = fold_in(step_key, s)
  diverged: jax.Array         # bool: a non-finite loss or parameter was seen
  diverged_step: jax.Array    # int32: the step at which it was seen, -1 if never
  stopped: jax.Array          # bool: early stopping ended this replica
  epoch_loss_sum: jax.Array   # running sums over the current epoch's active steps
  epoch_correct: jax.Array
  epoch_examples: jax.Array
  grad_norm: jax.Array        # of the last step
  update_norm: jax.Array
  best_val_acc: jax.Array
  best_epoch: jax.Array
  test_acc_at_best: jax.Array
  bad_epochs: jax.Array

  @property
  def active(self) -> jax.Array:
    return ~(self.diverged | self.stopped)


def initial_state(params: Any, batch_stats: Any, opt_state: Any, data_key: jax.Array,
                  step_key: jax.Array) -> TrainState:
  """The state of one replica at step 0 (vmapped by the caller)."""
  f32 = lambda v: jnp.asarray(v, jnp.float32)  # noqa: E731
  i32 = lambda v: jnp.asarray(v, jnp.int32)  # noqa: E731
  return TrainState(
      step=i32(0), params=params, batch_stats=batch_stats, opt_state=opt_state,
      data_key=data_key, step_key=step_key, diverged=jnp.asarray(False),
      diverged_step=i32(-1), stopped=jnp.asarray(False), epoch_loss_sum=f32(0),
      epoch_correct=f32(0), epoch_examples=f32(0), grad_norm=f32(0), update_norm=f32(0),
      best_val_acc=f32(-1), best_epoch=i32(-1), test_acc_at_best=f32(jnp.nan), bad_epochs=i32(0))
