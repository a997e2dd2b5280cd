"""Pure per-replica functions: init, train step, evaluation.

Each function here describes ONE replica; `jaxdl.train.runner` vmaps them over
the K replicas and compiles them. A replica's hyper-parameters `hp` (lr, L2,
L1, dropout rate, seed) arrive as traced scalars, so the model and the optax
chain are built inside the function from them.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from jaxdl.data.augment import gaussian_noise, random_shift
from jaxdl.losses import get_loss
from jaxdl.models import MODELS, build_model
from jaxdl.optim import apply_max_norm, build_optimizer
from jaxdl.train.config import TrainConfig
from jaxdl.train.state import TrainState, initial_state

HParams = dict[str, jax.Array]


def global_norm(tree: Any) -> jax.Array:
  return optax.tree.norm(tree)


def _all_finite(tree: Any) -> jax.Array:
  leaves = jax.tree_util.tree_leaves(tree)
  return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves])) if leaves else jnp.asarray(True)


def _is_labels(y: jax.Array) -> bool:
  """Integer class labels [B] (accuracy is defined), not regression targets."""
  return y.ndim == 1 and jnp.issubdtype(y.dtype, jnp.integer)


@dataclasses.dataclass(frozen=True)
class ReplicaProgram:
  """The per-replica init / train / eval functions of a config on a dataset shape."""
  cfg: TrainConfig
  num_classes: int
  input_shape: tuple[int, ...]
  steps_per_epoch: int

  def extra_config(self) -> dict[str, Any]:
    """A subclass's own fields (e.g. an adversarial objective's eps), for config.json."""
    base = {f.name for f in dataclasses.fields(ReplicaProgram)}
    extra = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in base}
    return {"program": {"class": type(self).__name__, **extra}} if extra or type(self) is not ReplicaProgram else {}

  @property
  def total_steps(self) -> int:
    return self.cfg.epochs * self.steps_per_epoch

  def model(self, hp: HParams) -> nn.Module:
    return build_model(self.cfg.model, self.num_classes,
                       {**self.cfg.model_options, "dropout_rate": hp["dropout_rate"]}
                       if "dropout_rate" in MODELS.defaults(self.cfg.model) else self.cfg.model_options)

  def optimizer(self, hp: HParams) -> optax.GradientTransformation:
    return build_optimizer(self.cfg.optim, self.steps_per_epoch, self.total_steps,
                           lr=hp["lr"], weight_decay=hp["weight_decay"], l1=hp["l1"])

  def init(self, hp: HParams) -> TrainState:
    """Replica state at step 0, a function of hp["seed"] alone."""
    key = jax.random.PRNGKey(hp["seed"])
    init_key, data_key, step_key = jax.random.split(key, 3)
    dummy = jnp.zeros((1, *self.input_shape), jnp.float32)
    variables = self.model(hp).init({"params": init_key, "dropout": init_key}, dummy, train=False)
    params = variables["params"]
    batch_stats = variables.get("batch_stats", {})
    opt_state = self.optimizer(hp).init(params)
    return initial_state(params, batch_stats, opt_state, data_key, step_key)

  def variables(self, state: TrainState) -> dict[str, Any]:
    out = {"params": state.params}
    if state.batch_stats:
      out["batch_stats"] = state.batch_stats
    return out

  def train_step(self, state: TrainState, hp: HParams, x_all: jax.Array, y_all: jax.Array,
                 perm: jax.Array) -> tuple[TrainState, jax.Array]:
    """One SGD step on batch number (step mod steps_per_epoch) of the epoch's permutation: the new
    state, and the step's batch loss (NaN where the step was not applied), which the runner
    collects for the per-step training loss (TensorBoard).

    A replica that is diverged or stopped keeps its parameters; a step whose
    loss or new parameters are not finite is not applied and marks the
    replica diverged at that step (the others go on).
    """
    b = self.cfg.batch_size
    i = state.step % self.steps_per_epoch
    idx = jax.lax.dynamic_slice(perm, (i * b,), (b,))
    return self.train_on_batch(state, hp, x_all[idx], y_all[idx])

  def train_on_batch(self, state: TrainState, hp: HParams, x: jax.Array, y: jax.Array
                     ) -> tuple[TrainState, jax.Array]:
    """`train_step` on its batch (x, y), already selected (several processes feed their rows of it)."""
    b = self.cfg.batch_size
    k_drop, k_shift, k_noise = jax.random.split(jax.random.fold_in(state.step_key, state.step), 3)
    if self.cfg.augment_shift:
      x = random_shift(k_shift, x, self.cfg.augment_shift)
    if self.cfg.augment_noise:
      x = gaussian_noise(k_noise, x, self.cfg.augment_noise)
    objective = lambda params: self.objective(params, state, hp, x, y, k_drop)  # noqa: E731
    (loss, (logits, new_stats)), grads = jax.value_and_grad(objective, has_aux=True)(state.params)
    updates, new_opt = self.optimizer(hp).update(grads, state.opt_state, state.params)
    new_params = apply_max_norm(optax.apply_updates(state.params, updates), self.cfg.optim.max_norm)
    finite = jnp.isfinite(loss) & _all_finite(new_params)
    if self.cfg.divergence_loss:
      finite &= loss <= self.cfg.divergence_loss
    apply = state.active & finite
    keep = lambda new, old: jax.tree_util.tree_map(lambda n, o: jnp.where(apply, n, o), new, old)  # noqa: E731
    newly_diverged = state.active & ~finite
    correct = jnp.sum(jnp.argmax(logits, -1) == y) if _is_labels(y) else jnp.float32(0)
    return state.replace(
        step=state.step + 1,
        params=keep(new_params, state.params),
        batch_stats=keep(new_stats, state.batch_stats),
        opt_state=keep(new_opt, state.opt_state),
        diverged=state.diverged | newly_diverged,
        diverged_step=jnp.where(newly_diverged, state.step, state.diverged_step),
        epoch_loss_sum=state.epoch_loss_sum + jnp.where(apply, loss, 0.0),
        epoch_correct=state.epoch_correct + jnp.where(apply, correct, 0).astype(jnp.float32),
        epoch_examples=state.epoch_examples + jnp.where(apply, b, 0).astype(jnp.float32),
        grad_norm=jnp.where(state.active, global_norm(grads), state.grad_norm),
        update_norm=jnp.where(apply, global_norm(updates), state.update_norm),
    ), jnp.where(apply, loss, jnp.nan)

  def objective(self, params: Any, state: TrainState, hp: HParams, x: jax.Array, y: jax.Array,
                dropout_key: jax.Array) -> tuple[jax.Array, tuple[jax.Array, Any]]:
    """The mean training loss of a batch, and (logits, updated batch statistics).

    The one place the training objective is defined: a study that trains on
    another objective (e.g. adversarial training) overrides this method in a
    subclass and keeps the rest of the step, the replicas and the runner.
    """
    has_bn = bool(state.batch_stats)
    out = self.model(hp).apply({**self.variables(state), "params": params}, x, train=True,
                               rngs={"dropout": dropout_key}, mutable=["batch_stats"] if has_bn else False)
    logits, updates = out if has_bn else (out, {})
    loss = jnp.mean(get_loss(self.cfg.loss)(logits, y, self.num_classes))
    return loss, (logits, updates.get("batch_stats", {}))

  def evaluate(self, state: TrainState, hp: HParams, x: jax.Array, y: jax.Array,
               rows: Any = None) -> dict[str, jax.Array]:
    """Mean loss and accuracy over (x, y), in chunks of eval_batch_size (see `chunked_sums`)."""
    model = self.model(hp)
    loss_fn = get_loss(self.cfg.loss)

    def chunk(xb, yb, mb):
      logits = model.apply(self.variables(state), xb, train=False)
      losses = loss_fn(logits, yb, self.num_classes)
      correct = (jnp.argmax(logits, -1) == yb) if _is_labels(yb) else jnp.zeros_like(mb)
      return jnp.sum(jnp.where(mb, losses, 0.0)), jnp.sum(jnp.where(mb, correct, 0))

    loss, correct = chunked_sums(chunk, x, y, self.cfg.eval_batch_size, rows)
    return {"loss": loss / x.shape[0], "accuracy": correct.astype(jnp.float32) / x.shape[0]}


def chunked_sums(chunk: Any, x: jax.Array, y: jax.Array, chunk_size: int, rows: Any = None
                 ) -> tuple[jax.Array, jax.Array]:
  """The sums over chunks of `chunk(xb, yb, mask) -> (loss sum, correct sum)`, x and y cut into
  chunks of chunk_size rows (the last padded, the padding masked) and evaluated one after another.

  `rows` (a sharding of one chunk's rows over the mesh's "data" axis, or None): each device
  evaluates only its rows of each chunk and the sums are all-reduced, so evaluation is
  data-parallel like the training step.
  """
  n = x.shape[0]
  eb = min(chunk_size, n)
  chunks = -(-n // eb)
  pad = chunks * eb - n
  xp = jnp.concatenate([x, jnp.zeros((pad, *x.shape[1:]), x.dtype)]).reshape(chunks, eb, *x.shape[1:])
  yp = jnp.concatenate([y, jnp.zeros((pad, *y.shape[1:]), y.dtype)]).reshape(chunks, eb, *y.shape[1:])
  mask = (jnp.arange(chunks * eb) < n).reshape(chunks, eb)
  split = (lambda a: a) if rows is None else (lambda a: jax.lax.with_sharding_constraint(a, rows))  # noqa: E731
  losses, corrects = jax.lax.map(lambda args: chunk(*(split(a) for a in args)), (xp, yp, mask))
  return jnp.sum(losses), jnp.sum(corrects)


