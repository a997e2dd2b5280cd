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

Adversarial training: `adversarial_objective` is Goodfellow et al.'s mixed
loss; `jaxdl.train.adversarial.AdversarialProgram` trains it on the engine.

Evaluation over a test set: `Replicas` holds a trained model's K replicas;
`attack_replicas` has each replica attack itself (FGSM or PGD) in chunks of
the test set and returns the adversarial inputs and per-replica error and
confidence; `transfer_error` scores other replicas on them.
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.data import Dataset
from jaxdl.errors import UserError
from jaxdl.losses import softmax_cross_entropy

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
                          *, start_key: jax.Array | None = None, bounds: Bounds = None, steps: int = 1,
                          step_size: float | None = None) -> tuple[jax.Array, Any]:
  """Goodfellow et al.'s alpha * J(x) + (1 - alpha) * J(x + eps * sign(grad_x J(x))).

  objective(params, x) -> (mean loss over the batch, aux). The adversarial
  batch is crafted from the current `params` (regenerated at every call) and
  held constant for the parameter gradient: sign() has zero derivative almost
  everywhere, so this is the exact gradient of the objective. start_key: a
  uniform random start in the eps-ball (None: start at x). steps, step_size:
  the attack's signed steps (`sign_gradient_ascent`); step_size None is eps
  from x (FGSM) or 1.25 eps from a random start (Wong et al. 2020's FGSM-RS);
  steps > 1 is PGD training (Madry et al. 2018, with alpha = 0). Returns
  (loss, the clean pass's aux).
  """
  frozen = jax.lax.stop_gradient(params)
  # At alpha = 0 the clean pass only gives aux (e.g. the training accuracy): no backward pass through it.
  clean_loss, aux = objective(frozen if alpha == 0.0 else params, x)
  if alpha == 1.0:
    return clean_loss, aux
  if step_size is None:
    step_size = eps if start_key is None else 1.25 * eps
  x_adv = sign_gradient_ascent(lambda z: objective(frozen, z)[0], x, eps, steps=steps, step_size=step_size,
                               start_key=start_key, bounds=bounds)
  adv_loss, _ = objective(params, jax.lax.stop_gradient(x_adv))
  return alpha * clean_loss + (1.0 - alpha) * adv_loss, aux


@dataclasses.dataclass(frozen=True)
class Replicas:
  """K trained replicas of one model: what the evaluation loops below attack.

  model: the Flax module, applied with train=False; variables: its variables
  with leaves [K, ...]; diverged: [K] bool. A diverged replica's statistics
  are NaN (reported apart, never averaged in).
  """
  model: nn.Module
  variables: Any
  diverged: np.ndarray

  def __len__(self) -> int:
    return len(self.diverged)

  def select(self, order: Sequence[int]) -> "Replicas":
    """Replica order[k] as replica k (e.g. [0]: the first alone; a roll: each paired with the next)."""
    order = np.asarray(order)
    return Replicas(self.model, jax.tree_util.tree_map(lambda leaf: leaf[order], self.variables),
                    np.asarray(self.diverged)[order])


@dataclasses.dataclass(frozen=True)
class PGDSettings:
  """PGD's schedule: `steps` signed steps of `step_size` (model-input units), the worst case
  of `restarts` random starts drawn from PRNGKey(seed)."""
  steps: int
  step_size: float
  restarts: int = 1
  seed: int = 0


@functools.partial(jax.jit, static_argnames=("model",))
def replica_logits(model: nn.Module, variables: Any, x: jax.Array) -> jax.Array:
  """Replica k's logits on its own inputs x[k]: variables [K, ...], x [K, B, ...] -> [K, B, C]."""
  return jax.vmap(lambda v, xk: model.apply(v, xk, train=False))(variables, x)


@functools.partial(jax.jit, static_argnames=("model", "bounds", "steps", "restarts"))
def _self_attack_chunk(model: nn.Module, variables: Any, x: jax.Array, y: jax.Array,
                       key: jax.Array | None, eps: float, step_size: float, steps: int, restarts: int,
                       bounds: Bounds) -> tuple[jax.Array, jax.Array]:
  """Each replica attacks itself: FGSM when key is None, else PGD.

  x [B, ...] -> (adversarial inputs [K, B, ...], the attacked replica's logits on them [K, B, C]).
  """
  def one(v):
    logits_fn = lambda z: model.apply(v, z, train=False)  # noqa: E731
    if key is None:
      x_adv = fgsm(logits_fn, x, y, eps, bounds=bounds)
    else:
      x_adv = pgd(logits_fn, x, y, eps, steps=steps, step_size=step_size, key=key, restarts=restarts,
                  bounds=bounds)
    return x_adv, logits_fn(x_adv)
  return jax.vmap(one)(variables)


def chunk_slices(n: int, size: int) -> list[slice]:
  """[0, n) as consecutive slices of at most `size` examples (bounds the attacks' memory)."""
  return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def replica_error_stats(logits: np.ndarray, y: np.ndarray, diverged: np.ndarray) -> dict[str, list[float]]:
  """Per replica, from logits [K, N, C] and labels [N]: `misclassification_stats`' "error"
  and "confidence_on_errors", each a list of K floats, NaN for a diverged replica."""
  stats = jax.vmap(misclassification_stats, in_axes=(0, None))(jnp.asarray(logits), jnp.asarray(y))
  return {name: [float("nan") if dead else float(v) for v, dead in zip(np.asarray(values), diverged)]
          for name, values in stats.items()}


def attack_replicas(replicas: Replicas, x: np.ndarray, y: np.ndarray, eps: float, *,
                    pgd_settings: PGDSettings | None = None, bounds: Bounds = None,
                    chunk: int = 1000) -> tuple[np.ndarray, dict[str, list[float]]]:
  """Each replica attacked by itself, FGSM (or PGD with `pgd_settings`), in chunks of the test set.

  x [N, ...], y [N]; eps, the PGD step size and bounds in model-input units.
  Returns (the adversarial inputs [K, N, ...], `replica_error_stats` of each
  replica on its own adversarial inputs). eps = 0 gives the clean error.
  PGD draws its random starts per chunk from the same key: they depend on `chunk`.
  """
  if pgd_settings is None:
    key, steps, step_size, restarts = None, 1, 0.0, 1
  else:
    key = jax.random.PRNGKey(pgd_settings.seed)
    steps, step_size, restarts = pgd_settings.steps, pgd_settings.step_size, pgd_settings.restarts
  adversarial, logits = [], []
  for part in chunk_slices(len(y), chunk):
    x_adv, part_logits = _self_attack_chunk(replicas.model, replicas.variables, jnp.asarray(x[part]),
                                            jnp.asarray(y[part]), key, eps, step_size, steps, restarts,
                                            bounds)
    adversarial.append(np.asarray(x_adv))
    logits.append(np.asarray(part_logits))
  stats = replica_error_stats(np.concatenate(logits, 1), y, replicas.diverged)
  return np.concatenate(adversarial, 1), stats


def transfer_error(x_adv: np.ndarray, y: np.ndarray, source_diverged: np.ndarray, target: Replicas, *,
                   next_seed: bool = False, chunk: int = 1000) -> list[float]:
  """Error of target replicas on inputs crafted against source replicas, per source replica k.

  x_adv [K, N, ...]: source replica k's adversarial inputs (`attack_replicas`),
  y [N]. The target is replica k, or with `next_seed` replica k+1 (mod K): two
  nets of one architecture trained from one seed (a net and its adversarially
  trained twin share init and data order) are then never paired, and every
  pair is independently trained; all NaN with a single replica. NaN where the
  source or the target replica diverged.
  """
  k_count = len(source_diverged)
  if next_seed and k_count < 2:
    return [float("nan")] * k_count
  paired = target.select(np.roll(np.arange(k_count), -1) if next_seed else np.arange(k_count))
  logits = np.concatenate([
      np.asarray(replica_logits(paired.model, paired.variables, jnp.asarray(x_adv[:, part])))
      for part in chunk_slices(len(y), chunk)], 1)
  return replica_error_stats(logits, y, np.asarray(source_diverged) | paired.diverged)["error"]
