"""Compiled epochs over K replicas: a Python loop of jitted steps, or one scan.

Which is faster depends on the backend (benchmarks/cnn_epoch_speed.py; BUILD_NOTES.md,
"Engine speed on CPU"): on XLA:CPU a `lax.scan` over conv train steps runs several
times slower than the same step jitted and called from a Python loop, while on
GPU/TPU the scanned epoch removes the per-step dispatch and wins. `epoch_runner="auto"` picks `loop` on
CPU and `scan` elsewhere, and the run logs which. The K replicas are one
program either way: vmapped, or (conv nets on CPU) unrolled, see `choose_batching`.
"""
from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from jaxdl.data.batching import epoch_permutation
from jaxdl.errors import UserError
from jaxdl.train import parallel
from jaxdl.train.state import TrainState
from jaxdl.train.steps import HParams, ReplicaProgram


def choose_runner(requested: str) -> str:
  if requested != "auto":
    return requested
  return "loop" if jax.default_backend() == "cpu" else "scan"


BATCHINGS = ("auto", "vmap", "unroll")


def choose_batching(requested: str, program: ReplicaProgram, mesh: Mesh | None) -> str:
  """How K replicas share one program: `jax.vmap`, or one copy of the step per replica.

  vmap turns K replicas of a convolution into one grouped convolution, which XLA:CPU runs badly
  (several times a single run's step per replica; BUILD_NOTES.md, "Replica batching on CPU"); for
  MLPs vmap is as fast or faster (batched matrix products). So "auto" unrolls on CPU when the model
  has a convolution kernel, there are several replicas and no mesh, and vmaps otherwise: one
  replica vmapped is a plain step, while "unrolled" it pays for copying the state out and back
  (measured 28 vs 33 ms a step for the benchmark CNN).
  """
  if requested not in BATCHINGS:
    raise UserError(f"replica batching {requested!r}; valid: {', '.join(BATCHINGS)}")
  if requested != "auto":
    return requested
  if mesh is not None or jax.default_backend() != "cpu" or len(program.cfg.replicas()) == 1:
    return "vmap"
  hp = {k: jax.ShapeDtypeStruct((), jnp.int32 if k == "seed" else jnp.float32)
        for k in program.cfg.replicas()[0]}
  params = jax.eval_shape(program.init, hp).params  # shapes only: nothing runs
  has_conv = any(leaf.ndim >= 3 for leaf in jax.tree_util.tree_leaves(params))  # [*k, C_in, C_out]
  return "unroll" if has_conv else "vmap"


def unrolled(fn: Callable, in_axes: tuple[int | None, ...]) -> Callable:
  """`jax.vmap(fn, in_axes)` (axes 0 or None, outputs stacked on axis 0) written as one
  call of `fn` per replica in the same compiled program: K copies, no batching rule."""
  def per_replica(*args):
    k = next(jax.tree_util.tree_leaves(a)[0].shape[0] for a, ax in zip(args, in_axes) if ax == 0)
    take = lambda a, ax, i: jax.tree_util.tree_map(lambda v: v[i], a) if ax == 0 else a  # noqa: E731
    outs = [fn(*(take(a, ax, i) for a, ax in zip(args, in_axes))) for i in range(k)]
    return jax.tree_util.tree_map(lambda *v: jnp.stack(v), *outs)
  return per_replica


FEEDS = ("auto", "device", "process")

# For programs that run once: XLA's backend optimizations cost more compile time than they save.
RUN_ONCE_COMPILER_OPTIONS = {"xla_backend_optimization_level": 0}


class CompiledReplicas:
  """The jitted init / step / epoch / eval functions of a program over K replicas."""

  def __init__(self, program: ReplicaProgram, n_train: int, mesh: Mesh | None = None,
               batching: str = "auto", feed: str = "auto"):
    """`mesh` (see `jaxdl.train.parallel`): replicas split over its "replica" axis and
    each batch over its "data" axis; None: plain jit on the default device.
    `batching`: vmap | unroll | auto, see `choose_batching`.
    `feed`: where a step's batch comes from. "device": the training set is on every device and
    each device gathers its rows of the batch there (no host work per step). "process": the
    training set stays in host memory and each process sends its devices only their rows of each
    batch (of each epoch, for the scan), so a device never holds more than its share. "auto":
    "process" when several processes share the mesh, else "device"."""
    if feed not in FEEDS:
      raise UserError(f"feed {feed!r}; valid: {', '.join(FEEDS)}")
    self.program = program
    self.n_train = n_train
    self.mesh = mesh
    self.feed = ("process" if mesh is not None and jax.process_count() > 1 else "device") if feed == "auto" else feed
    if self.feed == "process" and mesh is None:
      raise UserError("feed 'process' needs a mesh (it splits each batch over the mesh's data axis)")
    self.batching = choose_batching(batching, program, mesh)
    p = program
    over_replicas = unrolled if self.batching == "unroll" else jax.vmap
    # With a mesh every output that has the leading [K] axis is split over "replica", and each batch's
    # rows over "data".
    out = {} if mesh is None else {"out_shardings": parallel.replica_sharding(mesh)}
    rows = None if mesh is None else parallel.batch_sharding(mesh)
    # Init runs once a cell, so it is built without XLA's backend optimizations: about half the
    # compile time (2.0 s -> 1.1 s for three 30-layer MLPs), a few milliseconds more to run.
    self.init = jax.jit(jax.vmap(p.init), compiler_options=RUN_ONCE_COMPILER_OPTIONS, **out)
    self.permutations = jax.jit(
        jax.vmap(lambda key, epoch: epoch_permutation(key, epoch, n_train), in_axes=(0, None)), **out)
    # A step gives the new state and each replica's batch loss [K] (the per-step training loss).
    if mesh is None:
      vstep = over_replicas(p.train_step, in_axes=(0, 0, None, None, 0))
    else:
      vstep = jax.vmap(lambda s, hp, x_all, y_all, perm: p.train_step(
          s, hp, parallel.ShardedRows(x_all, rows), parallel.ShardedRows(y_all, rows), perm),
          in_axes=(0, 0, None, None, 0), spmd_axis_name=parallel.REPLICA_AXIS)
    self.step = jax.jit(vstep, donate_argnums=(0,), **out)

    def epoch(state: TrainState, hp: HParams, x_all, y_all) -> tuple[TrainState, jax.Array]:
      """The epoch's steps in one scan; the losses come back [K, steps] (replicas first, as sharded)."""
      perms = self.permutations(state.data_key, state.step[0] // p.steps_per_epoch)
      body = lambda s, _: vstep(s, hp, x_all, y_all, perms)  # noqa: E731
      state, losses = jax.lax.scan(body, state, None, length=p.steps_per_epoch)
      return state, losses.T

    if mesh is None:
      self.evaluate = jax.jit(over_replicas(p.evaluate, in_axes=(0, 0, None, None)), **out)
    else:  # data-parallel like the step: each device evaluates its rows of each chunk
      self.evaluate = jax.jit(jax.vmap(lambda s, hp, x, y: p.evaluate(s, hp, x, y, rows=rows),
                                       in_axes=(0, 0, None, None), spmd_axis_name=parallel.REPLICA_AXIS), **out)
    if self.feed == "process":
      fed = jax.vmap(p.train_on_batch, in_axes=(0, 0, 0, 0), spmd_axis_name=parallel.REPLICA_AXIS)
      self._fed_step = jax.jit(fed, donate_argnums=(0,), **out)

      def fed_epoch(state: TrainState, hp: HParams, xs, ys) -> tuple[TrainState, jax.Array]:
        state, losses = jax.lax.scan(lambda s, xy: fed(s, hp, *xy), state, (xs, ys))
        return state, losses.T

      self._fed_epoch = jax.jit(fed_epoch, donate_argnums=(0,), **out)
      self.epoch = self._feed_epoch
    else:
      self.epoch = jax.jit(epoch, donate_argnums=(0,), **out)

  def training_data(self, x: np.ndarray, y: np.ndarray) -> tuple[Any, Any]:
    """What `epoch` and `run_epoch_loop` take as (x_all, y_all): the arrays on every device
    (feed "device"), or the host arrays each process feeds its rows from (feed "process")."""
    if self.feed == "process":
      return np.asarray(x), np.asarray(y)
    return self.on_devices(x, y)

  def on_devices(self, x: np.ndarray, y: np.ndarray) -> tuple[jax.Array, jax.Array]:
    """(x, y) whole on every device (an evaluation split; the training set under feed "device")."""
    return self.place((jnp.asarray(x), jnp.asarray(y)), per_replica=False)

  def feed_rows(self, a: np.ndarray, idx: np.ndarray) -> jax.Array:
    """The global array a[idx] (shape [..., K, batch, *a.shape[1:]] for idx [..., K, batch]), its
    replica axis over "replica" and its batch axis over "data"; each process reads only the rows
    of its own devices."""
    lead = [None] * (idx.ndim - 2)
    sharding = NamedSharding(self.mesh, P(*lead, parallel.REPLICA_AXIS, parallel.DATA_AXIS))
    return jax.make_array_from_callback(idx.shape + a.shape[1:], sharding,
                                        lambda index: a[idx[index[:idx.ndim]]])

  def _host_permutations(self, state: TrainState) -> np.ndarray:
    """The epoch's permutation of each replica [K, n_train], on every host."""
    perms = self.permutations(state.data_key, int(state.step[0]) // self.program.steps_per_epoch)
    return np.asarray(multihost_utils.process_allgather(perms, tiled=True))

  def _feed_epoch(self, state: TrainState, hp: HParams, x_all: np.ndarray, y_all: np.ndarray
                  ) -> tuple[TrainState, jax.Array]:
    """The scanned epoch, fed: each process sends its rows of every batch of the epoch."""
    spe, b = self.program.steps_per_epoch, self.program.cfg.batch_size
    perms = self._host_permutations(state)
    idx = perms[:, :spe * b].reshape(perms.shape[0], spe, b).transpose(1, 0, 2)  # [steps, K, b]
    return self._fed_epoch(state, hp, self.feed_rows(x_all, idx), self.feed_rows(y_all, idx))

  def place(self, tree: Any, per_replica: bool = True) -> Any:
    """`tree` as global arrays on the mesh (leading [K] axis split over "replica" if
    `per_replica`, else replicated), from values every process holds; as is without a mesh."""
    if self.mesh is None:
      return tree
    sharding = parallel.replica_sharding(self.mesh) if per_replica else parallel.replicated(self.mesh)
    return parallel.put_global(tree, sharding)

  def run_epoch_loop(self, state: TrainState, hp: HParams, x_all, y_all,
                     after_step: Callable[[TrainState, list[jax.Array]], bool]
                     ) -> tuple[TrainState, bool, list[jax.Array]]:
    """Steps the epoch that `state.step` is in, from where it stands, to its end.

    `after_step(state, losses)` is called after each step with the losses [K] of this call's
    steps so far (on the device); returning True stops early (a preemption). Returns
    (state, interrupted, losses).
    """
    spe, b = self.program.steps_per_epoch, self.program.cfg.batch_size
    step0 = int(state.step[0])
    if self.feed == "process":
      host_perms = self._host_permutations(state)
    else:
      perms = self.permutations(state.data_key, step0 // spe)
    losses = []
    for i in range(step0 % spe, spe):
      if self.feed == "process":
        idx = host_perms[:, i * b:(i + 1) * b]
        state, loss = self._fed_step(state, hp, self.feed_rows(x_all, idx), self.feed_rows(y_all, idx))
      else:
        state, loss = self.step(state, hp, x_all, y_all, perms)
      losses.append(loss)
      if after_step(state, losses):
        return state, True, losses
    return state, False, losses

  def reset_epoch_sums(self, state: TrainState) -> TrainState:
    # Three separate buffers: the jitted step donates its state, and XLA refuses
    # to donate one buffer that backs two leaves.
    zeros = lambda: jnp.zeros_like(state.epoch_loss_sum)  # noqa: E731
    return state.replace(epoch_loss_sum=zeros(), epoch_correct=zeros(), epoch_examples=zeros())
