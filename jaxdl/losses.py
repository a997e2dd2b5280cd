"""Losses, registered by name: one per output unit of the classic table. Each returns a per-example loss [B].

Signature: `loss(outputs [B, K], targets, num_classes) -> [B]`, where targets are
integer class labels [B] for the classification losses (for one output unit,
K = 1, the label 0/1 is the target itself), multi-hot [B, K] for
`multi_label`, and real values [B, K] (or [B]) for `mse` and `gaussian_nll` on
a regression task. Means over the batch are taken by the train step, so
replicas and masks stay simple.

A loss is named by a spec string, `"name"` or `"name:key=value,..."`, e.g.
`"softmax_cross_entropy:label_smoothing=0.1"`; a plain name builds the loss
with its defaults, so a saved config naming `"softmax_cross_entropy"` trains
as before.

`OUTPUT_UNITS` lists which loss goes with which output unit (the lectures' table).
"""
from __future__ import annotations

import math
from typing import Callable, Mapping

import jax
import jax.numpy as jnp
import optax

from jaxdl.registry import Registry, RegistryError

Loss = Callable[[jax.Array, jax.Array, int], jax.Array]
LOSSES: Registry[Loss] = Registry("loss")


# The output-unit table: (task, output unit, loss, target format, registered name).
OUTPUT_UNITS = (
    ("binary classification", "one sigmoid unit", "binary cross-entropy", "0/1 labels [B]",
     "binary_cross_entropy"),
    ("multi-class classification", "softmax over K units", "cross-entropy (optionally label-smoothed)",
     "class labels [B]", "softmax_cross_entropy"),
    ("multi-label classification", "K independent sigmoid units", "binary cross-entropy per label",
     "multi-hot [B, K]", "multi_label"),
    ("regression", "linear units", "squared error", "reals [B, K]", "mse"),
    ("regression with a variance", "linear units: K means, K log variances", "Gaussian negative log-likelihood",
     "reals [B, K]", "gaussian_nll"),
    ("classification, saturating (for contrast)", "K sigmoid units", "squared error",
     "class labels [B] (one-hot) or [B, K] in [0, 1]", "sigmoid_mse"),
    ("multi-task", "one head per task", "weighted sum of the tasks' losses", "a dict of the above, by task",
     "multi_task"),
)


def _as_targets(targets: jax.Array, num_classes: int, like: jax.Array) -> jax.Array:
  """Integer labels become one-hot (for one output unit, the 0/1 label itself); real targets
  are reshaped to the outputs."""
  if jnp.issubdtype(targets.dtype, jnp.integer) and like.shape[-1] != 1:
    return jax.nn.one_hot(targets, num_classes, dtype=like.dtype)
  return targets.reshape(like.shape).astype(like.dtype)


def _plain(name: str) -> Callable[[Loss], Loss]:
  """Registers a loss without hyper-parameters: the builder returns the function itself."""

  def wrap(fn: Loss) -> Loss:
    LOSSES.register(name, doc=fn.__doc__)(lambda: fn)
    return fn

  return wrap


def softmax_cross_entropy(logits: jax.Array, labels: jax.Array, num_classes: int) -> jax.Array:
  """-log softmax(logits)[label]; stable for large logits (log-sum-exp)."""
  del num_classes
  return optax.softmax_cross_entropy_with_integer_labels(logits, labels)


@LOSSES.register("softmax_cross_entropy", label_smoothing=0.0)
def _softmax_cross_entropy(label_smoothing: float) -> Loss:
  """Softmax + cross-entropy, -sum_k q_k log softmax(logits)_k; stable for large logits.

  label_smoothing eps (Szegedy et al. 2016, Sec. 7): the target q = (1 - eps) one_hot + eps / K,
  which keeps the largest logit from growing without bound. 0 = the plain one-hot target.
  """
  if not 0.0 <= label_smoothing < 1.0:
    raise RegistryError(f"softmax_cross_entropy: label_smoothing={label_smoothing!r}; must be in [0, 1)")
  if not label_smoothing:
    return softmax_cross_entropy

  def smoothed(logits: jax.Array, labels: jax.Array, num_classes: int) -> jax.Array:
    del num_classes
    targets = optax.smooth_labels(jax.nn.one_hot(labels, logits.shape[-1], dtype=logits.dtype), label_smoothing)
    return optax.softmax_cross_entropy(logits, targets)

  return smoothed


@_plain("mse")
def mse(outputs: jax.Array, targets: jax.Array, num_classes: int) -> jax.Array:
  """Linear outputs + half the squared error summed over outputs (Nielsen's quadratic cost per example)."""
  return 0.5 * jnp.sum((outputs - _as_targets(targets, num_classes, outputs)) ** 2, axis=-1)


@_plain("sigmoid_mse")
def sigmoid_mse(logits: jax.Array, targets: jax.Array, num_classes: int) -> jax.Array:
  """Sigmoid outputs + half the squared error: d/dz = (s(z) - y) s'(z), which vanishes where s saturates."""
  return mse(jax.nn.sigmoid(logits), targets, num_classes)


@_plain("binary_cross_entropy")
def binary_cross_entropy(logits: jax.Array, targets: jax.Array, num_classes: int) -> jax.Array:
  """Sigmoid outputs + cross-entropy, summed over units: d/dz = s(z) - y (one unit: binary 0/1 labels)."""
  return jnp.sum(optax.sigmoid_binary_cross_entropy(
      logits, _as_targets(targets, num_classes, logits)), axis=-1)


@_plain("multi_label")
def multi_label(logits: jax.Array, targets: jax.Array, num_classes: int) -> jax.Array:
  """Multi-label classification: mean sigmoid BCE over K labels, multi-hot targets [B, K]."""
  return jnp.mean(optax.sigmoid_binary_cross_entropy(
      logits, _as_targets(targets, num_classes, logits)), axis=-1)


@_plain("gaussian_nll")
def gaussian_nll(outputs: jax.Array, targets: jax.Array, num_classes: int) -> jax.Array:
  """Regression with a predicted variance: outputs [B, 2K] are K means then K log variances;
  -log N(y; mean, exp(log_var)) summed over the K targets [B, K] (or [B] for K = 1)."""
  del num_classes
  mean, log_var = jnp.split(outputs, 2, axis=-1)
  y = targets.reshape(mean.shape).astype(mean.dtype)
  return 0.5 * jnp.sum(log_var + (y - mean) ** 2 * jnp.exp(-log_var) + math.log(2 * math.pi), axis=-1)


Tasks = Mapping[str, tuple[str, float, int]]


@LOSSES.register("multi_task", tasks={})
def multi_task(tasks: Tasks) -> Callable[[Mapping[str, jax.Array], Mapping[str, jax.Array], int], jax.Array]:
  """One head per task: the weighted sum of the tasks' losses, [B].

  tasks: name -> (loss spec, weight, num_classes); the loss takes outputs and
  targets keyed alike (its own num_classes argument is unused). A task missing
  from outputs or targets is an error, not a silent zero.
  """
  if not tasks:
    raise RegistryError("multi_task needs tasks: {name: (loss spec, weight, num_classes)}; it is built "
                        "with multi_task_loss or LOSSES.build('multi_task', {'tasks': ...}), not named by a spec")
  losses = {task: (get_loss(spec), weight, k) for task, (spec, weight, k) in tasks.items()}

  def loss(outputs: Mapping[str, jax.Array], targets: Mapping[str, jax.Array], num_classes: int = 0) -> jax.Array:
    del num_classes
    missing = sorted(set(tasks) - (set(outputs) & set(targets)))
    if missing:
      raise KeyError(f"multi-task loss: no outputs/targets for task(s) {missing}; tasks: {sorted(tasks)}")
    return sum(weight * fn(outputs[task], targets[task], k) for task, (fn, weight, k) in losses.items())

  return loss


def get_loss(spec: str) -> Loss:
  """The loss named by `spec` (`"name"` or `"name:key=value,..."`); unknown names or arguments list
  the valid ones."""
  return LOSSES.build_spec(spec)


def multi_task_loss(outputs: Mapping[str, jax.Array], targets: Mapping[str, jax.Array], tasks: Tasks) -> jax.Array:
  """Weighted sum of per-task losses, [B] (the registered `multi_task` loss, called once)."""
  return LOSSES.build("multi_task", {"tasks": tasks})(outputs, targets)
