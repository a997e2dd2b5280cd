"""Compiled epochs over K vmapped replicas: a Python loop of jitted steps, or one scan.

Which is faster depends on the backend (DESIGN.md, measured in benchmarks/):
on XLA:CPU a `lax.scan` over conv train steps ran 5-10x slower than the same
step jitted and called from a Python loop, while on GPU/TPU the scanned epoch
removes the per-step dispatch and wins. `epoch_runner="auto"` picks `loop` on
CPU and `scan` elsewhere, and the run logs which.
"""
from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

from jaxdl.data.batching import epoch_permutation
from jaxdl.train.state import TrainState
from jaxdl.train.steps import HParams, ReplicaProgram


def choose_runner(requested: str) -> str:
  if requested != "auto":
    return requested
  return "loop" if jax.default_backend() == "cpu" else "scan"


class CompiledReplicas:
  """The vmapped and jitted init / step / epoch / eval functions of a program."""

  def __init__(self, program: ReplicaProgram, n_train: int):
    self.program = program
    self.n_train = n_train
    p = program
    self.init = jax.jit(jax.vmap(p.init))
    self.permutations = jax.jit(
        jax.vmap(lambda key, epoch: epoch_permutation(key, epoch, n_train), in_axes=(0, None)))
    vstep = jax.vmap(p.train_step, in_axes=(0, 0, None, None, 0))
    self.step = jax.jit(vstep, donate_argnums=(0,))

    def epoch(state: TrainState, hp: HParams, x_all, y_all) -> TrainState:
      perms = self.permutations(state.data_key, state.step[0] // p.steps_per_epoch)
      body = lambda s, _: (vstep(s, hp, x_all, y_all, perms), None)  # noqa: E731
      return jax.lax.scan(body, state, None, length=p.steps_per_epoch)[0]

    self.epoch = jax.jit(epoch, donate_argnums=(0,))
    self.evaluate = jax.jit(jax.vmap(p.evaluate, in_axes=(0, 0, None, None)))

  def run_epoch_loop(self, state: TrainState, hp: HParams, x_all, y_all,
                     after_step: Callable[[TrainState], bool]) -> tuple[TrainState, bool]:
    """Steps the epoch that `state.step` is in, from where it stands, to its end.

    `after_step(state)` is called after each step; returning True stops early
    (a preemption), and this returns (state, interrupted).
    """
    spe = self.program.steps_per_epoch
    step0 = int(state.step[0])
    perms = self.permutations(state.data_key, step0 // spe)
    for _ in range(step0 % spe, spe):
      state = self.step(state, hp, x_all, y_all, perms)
      if after_step(state):
        return state, True
    return state, False

  def reset_epoch_sums(self, state: TrainState) -> TrainState:
    # Three separate buffers: the jitted step donates its state, and XLA refuses
    # to donate one buffer that backs two leaves.
    zeros = lambda: jnp.zeros_like(state.epoch_loss_sum)  # noqa: E731
    return state.replace(epoch_loss_sum=zeros(), epoch_correct=zeros(), epoch_examples=zeros())
