"""Losses, registered by name. Each returns a per-example loss [B].

Signature: `loss(outputs [B, K], targets, num_classes) -> [B]`, where targets are
integer class labels [B] for the classification losses, multi-hot [B, K] for
`multi_label`, and real values [B, K] (or [B]) for `mse` on a regression task.
Means over the batch are taken by the train step, so replicas and masks stay
simple.
"""
from __future__ import annotations

from typing import Callable, Mapping

import jax
import jax.numpy as jnp
import optax

from jaxdl.registry import Registry

Loss = Callable[[jax.Array, jax.Array, int], jax.Array]
LOSSES: Registry[Loss] = Registry("loss")


def _as_targets(targets: jax.Array, num_classes: int, like: jax.Array) -> jax.Array:
  """Integer labels become one-hot; real targets are reshaped to the outputs."""
  if jnp.issubdtype(targets.dtype, jnp.integer):
    return jax.nn.one_hot(targets, num_classes, dtype=like.dtype)
  return targets.reshape(like.shape).astype(like.dtype)


def softmax_cross_entropy(logits: jax.Array, labels: jax.Array, num_classes: int) -> jax.Array:
  """-log softmax(logits)[label]; stable for large logits (log-sum-exp)."""
  del num_classes
  return optax.softmax_cross_entropy_with_integer_labels(logits, labels)


def mse(outputs: jax.Array, targets: jax.Array, num_classes: int) -> jax.Array:
  """Half the squared error summed over outputs (Nielsen's quadratic cost per example)."""
  return 0.5 * jnp.sum((outputs - _as_targets(targets, num_classes, outputs)) ** 2, axis=-1)


def binary_cross_entropy(logits: jax.Array, targets: jax.Array, num_classes: int) -> jax.Array:
  """Independent sigmoid units against one-hot (or multi-hot) targets, summed over units."""
  return jnp.sum(optax.sigmoid_binary_cross_entropy(
      logits, _as_targets(targets, num_classes, logits)), axis=-1)


def multi_label(logits: jax.Array, targets: jax.Array, num_classes: int) -> jax.Array:
  """Multi-label classification: mean sigmoid BCE over K labels, multi-hot targets [B, K]."""
  return jnp.mean(optax.sigmoid_binary_cross_entropy(
      logits, _as_targets(targets, num_classes, logits)), axis=-1)


for _name, _fn in [("softmax_cross_entropy", softmax_cross_entropy), ("mse", mse),
                   ("binary_cross_entropy", binary_cross_entropy), ("multi_label", multi_label)]:
  LOSSES.register(_name, doc=_fn.__doc__)(lambda fn=_fn: fn)


def get_loss(name: str) -> Loss:
  return LOSSES.build(name)


def multi_task_loss(outputs: Mapping[str, jax.Array], targets: Mapping[str, jax.Array],
                    tasks: Mapping[str, tuple[str, float, int]]) -> jax.Array:
  """Weighted sum of per-task losses, [B].

  tasks: name -> (loss name, weight, num_classes); outputs/targets keyed alike.
  A task missing from outputs or targets is an error, not a silent zero.
  """
  missing = sorted(set(tasks) - (set(outputs) & set(targets)))
  if missing:
    raise KeyError(f"multi-task loss: no outputs/targets for task(s) {missing}; tasks: {sorted(tasks)}")
  return sum(weight * get_loss(loss_name)(outputs[task], targets[task], k)
             for task, (loss_name, weight, k) in tasks.items())
