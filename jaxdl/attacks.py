"""Adversarial examples: FGSM, PGD, and adversarial training (Goodfellow et al. 2015).

Every attack takes `logits_fn(x) -> logits [B, K]`, e.g.
`lambda x: model.apply(variables, x, train=False)`, so it works with any
registered model; over K replicas, vmap the attack over the variables. All
functions are pure and jit-able.

Units: `eps`, step sizes and `bounds` are in the units of the inputs the model
sees. Papers quote eps as a fraction of the pixel range [0, 1];
`InputUnits.of(dataset)` converts (pixels in [0, 1]: no change; standardized
inputs: divided by the standardization scale).

Clipping: `bounds=(lo, hi)` clips adversarial inputs to the valid input range;
`bounds=None` does not clip (Goodfellow et al. did not).

Adversarial training: `AdversarialProgram` overrides the engine's
`ReplicaProgram.objective`; `train_and_evaluate(..., program_factory=...)` runs it.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

import jax
import jax.numpy as jnp

from jaxdl.data import Dataset
from jaxdl.errors import UserError
from jaxdl.losses import softmax_cross_entropy
from jaxdl.train.state import TrainState
from jaxdl.train.steps import HParams, ReplicaProgram

LogitsFn = Callable[[jax.Array], jax.Array]
Bounds = tuple[float, float] | None


@dataclasses.dataclass(frozen=True)
class InputUnits:
  """How pixel-range fractions map to model inputs: x_model = (x_pixel - shift) / scale.

  `pixel_range` is the raw pixels' [lo, hi]; eps = 0.25 means a quarter of it.
  """
  pixel_range: tuple[float, float] = (0.0, 1.0)
  shift: float = 0.0
  scale: float = 1.0

  @classmethod
  def of(cls, data: Dataset, shift: float = 0.0, scale: float | None = None) -> "InputUnits":
    """The units of `data`: pixels as given, or standardized with (shift, scale).

    A dataset without a pixel range (standardized, e.g. MNIST-1D) has no
    meaning for "eps = 0.25 of the pixel range" unless its scale is given.
    """
    if data.pixel_range is None:
      if scale is None:
        raise UserError(f"{data.name} is standardized (no pixel range): give the standardization "
                        "scale to convert eps from pixel units")
      return cls((0.0, 1.0), shift, scale)
    return cls(tuple(data.pixel_range), shift, 1.0 if scale is None else scale)

  def eps(self, fraction: float) -> float:
    """eps in model-input units for `fraction` of the pixel range."""
    lo, hi = self.pixel_range
    return fraction * (hi - lo) / self.scale

  @property
  def bounds(self) -> tuple[float, float]:
    """The valid input range in model-input units (for clipping)."""
    lo, hi = self.pixel_range
    return ((lo - self.shift) / self.scale, (hi - self.shift) / self.scale)


def per_example_loss(logits_fn: LogitsFn, x: jax.Array, y: jax.Array,
                     loss: Callable = softmax_cross_entropy) -> jax.Array:
  """J(x_i, y_i) for each example: [B]."""
  logits = logits_fn(x)
  return loss(logits, y, logits.shape[-1])


def _clip(x: jax.Array, bounds: Bounds) -> jax.Array:
  return x if bounds is None else jnp.clip(x, bounds[0], bounds[1])


def sign_gradient_ascent(objective: Callable[[jax.Array], jax.Array], x: jax.Array, eps: float,
                         *, steps: int, step_size: float, start_key: jax.Array | None = None,
                         bounds: Bounds = None) -> jax.Array:
  """Raises `objective(x')` by `steps` signed-gradient steps projected onto ||x' - x||_inf <= eps.

  The one loop behind FGSM (1 step of size eps from x), FGSM with a random
  start (Wong et al. 2020: 1 step of 1.25 eps from a uniform start) and PGD.
  objective: [B, ...] -> scalar, a sum of per-example terms (so each example's
  gradient is its own). start_key: draw the start uniformly from the eps-ball
  (None: start at x). Returns x' with x's shape.
  """
  grad = jax.grad(objective)
  start = x if start_key is None else _clip(
      x + jax.random.uniform(start_key, x.shape, x.dtype, -eps, eps), bounds)

  def step(_, x_adv):
    x_adv = x_adv + step_size * jnp.sign(grad(x_adv))
    return _clip(jnp.clip(x_adv, x - eps, x + eps), bounds)

  return jax.lax.fori_loop(0, steps, step, start)


def fgsm(logits_fn: LogitsFn, x: jax.Array, y: jax.Array, eps: float, *, targeted: bool = False,
         bounds: Bounds = None, loss: Callable = softmax_cross_entropy) -> jax.Array:
  """Fast gradient sign method: x + eps * sign(grad_x J(x, y)).

  Untargeted: y are the true labels and the step raises their loss.
  Targeted: y are the target labels and the step lowers their loss,
  x - eps * sign(grad_x J(x, y_target)). x: [B, ...], y: [B] int.
  """
  sign = -1.0 if targeted else 1.0
  objective = lambda z: sign * jnp.sum(per_example_loss(logits_fn, z, y, loss))  # noqa: E731
  return sign_gradient_ascent(objective, x, eps, steps=1, step_size=eps, bounds=bounds)


def pgd(logits_fn: LogitsFn, x: jax.Array, y: jax.Array, eps: float, *, steps: int, step_size: float,
        key: jax.Array | None = None, restarts: int = 1, bounds: Bounds = None,
        loss: Callable = softmax_cross_entropy) -> jax.Array:
  """Projected gradient descent on the loss (Madry et al. 2018), L-inf ball of radius eps.

  key: random starts in the eps-ball (None: start at x; then restarts must
  be 1). Of `restarts` runs, each example keeps its worst case: a
  misclassified one before a correct one, then the higher loss.
  """
  if key is None and restarts != 1:
    raise ValueError("restarts > 1 need random starts: pass a key")
  objective = lambda z: jnp.sum(per_example_loss(logits_fn, z, y, loss))  # noqa: E731

  def score(x_adv):
    logits = logits_fn(x_adv)
    return jnp.argmax(logits, -1) != y, loss(logits, y, logits.shape[-1])

  def restart(r, best):
    best_x, best_wrong, best_loss = best
    start_key = None if key is None else jax.random.fold_in(key, r)
    x_adv = sign_gradient_ascent(objective, x, eps, steps=steps, step_size=step_size,
                                 start_key=start_key, bounds=bounds)
    wrong, value = score(x_adv)
    better = (wrong & ~best_wrong) | ((wrong == best_wrong) & (value > best_loss))
    pick = better.reshape(-1, *([1] * (x.ndim - 1)))
    return (jnp.where(pick, x_adv, best_x), jnp.where(better, wrong, best_wrong),
            jnp.where(better, value, best_loss))

  init = (x, jnp.zeros(y.shape, bool), jnp.full(y.shape, -jnp.inf, x.dtype))
  return jax.lax.fori_loop(0, restarts, restart, init)[0]


def misclassification_stats(logits: jax.Array, y: jax.Array) -> dict[str, jax.Array]:
  """Error rate and mean confidence (softmax probability of the predicted class)
  over the misclassified examples (NaN when none is). logits [B, K], y [B]."""
  probs = jax.nn.softmax(logits, -1)
  wrong = jnp.argmax(logits, -1) != y
  n_wrong = jnp.sum(wrong)
  conf = jnp.sum(jnp.where(wrong, jnp.max(probs, -1), 0.0)) / n_wrong
  return {"error": jnp.mean(wrong), "confidence_on_errors": jnp.where(n_wrong > 0, conf, jnp.nan)}


Objective = Callable[[Any, jax.Array], tuple[jax.Array, Any]]


def adversarial_objective(objective: Objective, params: Any, x: jax.Array, eps: float, alpha: float,
                          *, start_key: jax.Array | None = None, bounds: Bounds = None
                          ) -> tuple[jax.Array, Any]:
  """Goodfellow et al.'s alpha * J(x) + (1 - alpha) * J(x + eps * sign(grad_x J(x))).

  objective(params, x) -> (mean loss over the batch, aux). The adversarial
  batch is crafted from the current `params` (regenerated at every call) and
  held constant for the parameter gradient: sign() has zero derivative almost
  everywhere, so this is the exact gradient of the objective. start_key: FGSM
  from a uniform random start with step 1.25 eps, projected to the eps-ball
  (Wong et al. 2020); None: plain FGSM. Returns (loss, the clean pass's aux).
  """
  clean_loss, aux = objective(params, x)
  if alpha == 1.0:
    return clean_loss, aux
  frozen = jax.lax.stop_gradient(params)
  step = eps if start_key is None else 1.25 * eps
  x_adv = sign_gradient_ascent(lambda z: objective(frozen, z)[0], x, eps, steps=1, step_size=step,
                               start_key=start_key, bounds=bounds)
  adv_loss, _ = objective(params, jax.lax.stop_gradient(x_adv))
  return alpha * clean_loss + (1.0 - alpha) * adv_loss, aux


@dataclasses.dataclass(frozen=True)
class AdversarialProgram(ReplicaProgram):
  """The engine's replica program with the adversarial-training objective.

  Overrides only `ReplicaProgram.objective`; the step, replicas, runner,
  evaluation and checkpoints are the engine's: pass
  `functools.partial(AdversarialProgram, eps=..., alpha=...)` as
  `train_and_evaluate(..., program_factory=...)`.
  """
  eps: float = 0.25
  alpha: float = 0.5
  random_start: bool = False
  bounds: Bounds = None

  def objective(self, params: Any, state: TrainState, hp: HParams, x: jax.Array, y: jax.Array,
                dropout_key: jax.Array) -> tuple[jax.Array, tuple[jax.Array, Any]]:
    """alpha * J(x) + (1 - alpha) * J(x_adv); the same dropout mask for both passes."""
    start_key = jax.random.fold_in(dropout_key, 1) if self.random_start else None
    clean = super().objective
    return adversarial_objective(lambda p, z: clean(p, state, hp, z, y, dropout_key), params, x,
                                 self.eps, self.alpha, start_key=start_key, bounds=self.bounds)
