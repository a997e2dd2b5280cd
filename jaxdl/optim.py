"""Optax chains from a config: optimizer, schedule, L1/L2 penalties, clipping, max-norm.

The learning rate, L2 and L1 coefficients may be traced arrays: the train
step builds the chain inside the vmapped function from each replica's own
hyper-parameters, so one compiled program trains a grid of learning rates.
The chain's state does not depend on their values.

Penalties act on kernels only (not biases or batch-norm scales), as in the
papers: L2 adds `weight_decay * w` to the gradient (the gradient of
`weight_decay / 2 * ||w||^2`), L1 adds `l1 * sign(w)`.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import optax

from jaxdl.registry import Registry

OPTIMIZERS: Registry[Callable[..., optax.GradientTransformation]] = Registry("optimizer")
SCHEDULES: Registry[Callable[..., optax.Schedule]] = Registry("schedule")


@dataclasses.dataclass(frozen=True)
class OptimConfig:
  name: str = "sgd"
  lr: float = 0.1
  momentum: float = 0.9           # momentum, nesterov
  b1: float = 0.9                 # adam(w), adam_no_bias_correction
  b2: float = 0.999
  eps: float = 1e-8
  rho: float = 0.95               # adadelta's decay (Zeiler 2012)
  decay: float = 0.9              # rmsprop's decay
  rmsprop_momentum: float = 0.0   # Tieleman & Hinton's RMSprop has none; not `momentum`'s 0.9
  schedule: str = "constant"
  decay_epochs: Sequence[int] = ()  # step schedule: lr *= decay_factor at each
  decay_factor: float = 0.1
  warmup_epochs: float = 0.0
  weight_decay: float = 0.0       # L2 (adamw: decoupled)
  l1: float = 0.0
  clip_norm: float = 0.0          # global-norm clipping; 0 = off
  max_norm: float = 0.0           # Srivastava et al.'s max-norm on each unit's incoming weights


# Each optimizer builder takes (lr: schedule, cfg) and returns the update rule.
def _register(name: str, doc: str, fn: Callable[[optax.Schedule, OptimConfig], optax.GradientTransformation]):
  OPTIMIZERS.register(name, doc=doc)(lambda: fn)


_register("sgd", "plain SGD", lambda lr, c: optax.sgd(lr))
_register("momentum", "SGD with heavy-ball momentum", lambda lr, c: optax.sgd(lr, momentum=c.momentum))
_register("nesterov", "SGD with Nesterov momentum",
          lambda lr, c: optax.sgd(lr, momentum=c.momentum, nesterov=True))
_register("adagrad", "Adagrad (Duchi et al. 2011)", lambda lr, c: optax.adagrad(lr, eps=c.eps))
_register("adadelta", "Adadelta (Zeiler 2012); lr 1.0 is the paper's",
          lambda lr, c: optax.adadelta(lr, rho=c.rho, eps=1e-6))
_register("rmsprop", "RMSprop (Tieleman & Hinton 2012)",
          lambda lr, c: optax.rmsprop(lr, decay=c.decay, eps=c.eps, momentum=c.rmsprop_momentum or None))
_register("adam", "Adam (Kingma & Ba 2015)", lambda lr, c: optax.adam(lr, b1=c.b1, b2=c.b2, eps=c.eps))
_register("adam_no_bias_correction",
          "Adam without its bias correction (Kingma & Ba 2015, Sec. 3): m / (sqrt(v) + eps)",
          lambda lr, c: optax.chain(scale_by_adam_without_bias_correction(c.b1, c.b2, c.eps),
                                    optax.scale_by_learning_rate(lr)))
_register("adamw", "Adam with decoupled weight decay (Loshchilov & Hutter 2019)",
          lambda lr, c: optax.adamw(lr, b1=c.b1, b2=c.b2, eps=c.eps, weight_decay=c.weight_decay,
                                     mask=kernel_mask))


class AdamMomentsState(NamedTuple):
  mu: Any  # the running mean of the gradients
  nu: Any  # the running mean of their squares


def scale_by_adam_without_bias_correction(b1: float, b2: float, eps: float) -> optax.GradientTransformation:
  """Adam's direction from its raw moments: m / (sqrt(v) + eps), with m and v started at zero.

  Without Kingma & Ba's m / (1 - b1^t) and v / (1 - b2^t), the first update is
  (1 - b1) g / (sqrt(1 - b2) |g| + eps), about 3.16 per coordinate at the defaults, not 1.
  """

  def init(params):
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    return AdamMomentsState(mu=zeros, nu=zeros)

  def update(updates, state, params=None):
    del params
    mu = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, state.mu, updates)
    nu = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, state.nu, updates)
    updates = jax.tree_util.tree_map(lambda m, v: m / (jnp.sqrt(v) + eps), mu, nu)
    return updates, AdamMomentsState(mu=mu, nu=nu)

  return optax.GradientTransformation(init, update)


def kernel_mask(params: Any) -> Any:
  """True for weight matrices / conv kernels (ndim >= 2), False for biases and norms."""
  return jax.tree_util.tree_map(lambda p: p.ndim >= 2, params)


def lr_shape(cfg: OptimConfig, steps_per_epoch: int, total_steps: int) -> optax.Schedule:
  """The schedule's shape with peak 1; the (possibly traced) lr multiplies it."""
  return SCHEDULES.build(cfg.schedule, fixed_cfg=cfg, steps_per_epoch=steps_per_epoch,
                         total_steps=total_steps)


def _warmup(cfg: OptimConfig, steps_per_epoch: int) -> int:
  return int(round(cfg.warmup_epochs * steps_per_epoch))


@SCHEDULES.register("constant")
def _constant(fixed_cfg: OptimConfig, steps_per_epoch: int, total_steps: int) -> optax.Schedule:
  """lr throughout, after an optional linear warm-up."""
  warm = _warmup(fixed_cfg, steps_per_epoch)
  return optax.join_schedules([optax.linear_schedule(0.0, 1.0, warm), optax.constant_schedule(1.0)],
                              [warm]) if warm else optax.constant_schedule(1.0)


@SCHEDULES.register("step")
def _step(fixed_cfg: OptimConfig, steps_per_epoch: int, total_steps: int) -> optax.Schedule:
  """lr times decay_factor at each of decay_epochs (He et al. 2016's /10 twice)."""
  bounds = {int(e * steps_per_epoch): fixed_cfg.decay_factor for e in fixed_cfg.decay_epochs}
  return optax.piecewise_constant_schedule(1.0, bounds)


@SCHEDULES.register("cosine")
def _cosine(fixed_cfg: OptimConfig, steps_per_epoch: int, total_steps: int) -> optax.Schedule:
  """Cosine decay to 0 over the run, after an optional linear warm-up."""
  warm = _warmup(fixed_cfg, steps_per_epoch)
  if not warm:
    return optax.cosine_decay_schedule(1.0, max(total_steps, 1))
  return optax.warmup_cosine_decay_schedule(0.0, 1.0, warm, max(total_steps, warm + 1))


def add_l1(l1: float | jax.Array) -> optax.GradientTransformation:
  """Adds l1 * sign(w) to each kernel's gradient."""

  def update(updates, state, params=None):
    if params is None:
      raise ValueError("the L1 penalty needs params passed to update()")
    mask = kernel_mask(params)
    updates = jax.tree_util.tree_map(
        lambda g, p, m: g + l1 * jnp.sign(p) if m else g, updates, params, mask)
    return updates, state

  return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


def build_optimizer(cfg: OptimConfig, steps_per_epoch: int, total_steps: int,
                    lr: float | jax.Array | None = None,
                    weight_decay: float | jax.Array | None = None,
                    l1: float | jax.Array | None = None) -> optax.GradientTransformation:
  """The full chain: penalties -> clipping -> optimizer with (lr x schedule shape).

  `lr`, `weight_decay`, `l1` override the config's values and may be traced.
  """
  lr = cfg.lr if lr is None else lr
  weight_decay = cfg.weight_decay if weight_decay is None else weight_decay
  l1 = cfg.l1 if l1 is None else l1
  shape = lr_shape(cfg, steps_per_epoch, total_steps)
  schedule = lambda count: lr * shape(count)  # noqa: E731
  rule = OPTIMIZERS.build(cfg.name)
  parts = []
  # A traced value may be nonzero in some replica: only a Python zero leaves a penalty out.
  if not isinstance(l1, (int, float)) or l1:
    parts.append(add_l1(l1))
  if cfg.name != "adamw" and (not isinstance(weight_decay, (int, float)) or weight_decay):
    parts.append(optax.add_decayed_weights(weight_decay, mask=kernel_mask))
  if cfg.clip_norm:
    parts.append(optax.clip_by_global_norm(cfg.clip_norm))
  if cfg.name == "adamw":
    cfg = dataclasses.replace(cfg, weight_decay=weight_decay)
  parts.append(rule(schedule, cfg))
  return optax.chain(*parts)


def apply_max_norm(params: Any, max_norm: float) -> Any:
  """Projects each unit's incoming weight vector onto the ball ||w|| <= max_norm.

  For a kernel [..., fan_in, units] the norm is over every axis but the last.
  """
  if not max_norm:
    return params

  def project(p):
    if p.ndim < 2:
      return p
    norms = jnp.sqrt(jnp.sum(p * p, axis=tuple(range(p.ndim - 1)), keepdims=True))
    return p * jnp.minimum(1.0, max_norm / jnp.maximum(norms, 1e-12))

  return jax.tree_util.tree_map(project, params)
