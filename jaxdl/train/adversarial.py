"""Adversarial training on the engine, and a trained run's replicas as attack targets.

`AdversarialProgram` is the engine's `ReplicaProgram` with Goodfellow et al.'s
objective (`jaxdl.attacks.adversarial_objective`); pass
`functools.partial(AdversarialProgram, eps=..., alpha=...)` as
`train_and_evaluate(..., program_factory=...)`. `attack_targets(result)` gives
a run's K trained replicas in the form `jaxdl.attacks`' evaluation loops take.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import jax
import numpy as np

from jaxdl import attacks
from jaxdl.models import build_model
from jaxdl.train.state import TrainState
from jaxdl.train.steps import HParams, ReplicaProgram
from jaxdl.train.trainer import RunResult


@dataclasses.dataclass(frozen=True)
class AdversarialProgram(ReplicaProgram):
  """The engine's replica program with the adversarial-training objective.

  Overrides only `ReplicaProgram.objective`; the step, replicas, runner,
  evaluation and checkpoints are the engine's. eps and bounds are in
  model-input units (`jaxdl.attacks.InputUnits`); random_start: FGSM from a
  uniform start in the eps-ball (Wong et al. 2020). The fields are saved in
  config.json, so a run directory never resumes under another objective.
  """
  eps: float = 0.25
  alpha: float = 0.5
  random_start: bool = False
  bounds: attacks.Bounds = None

  def objective(self, params: Any, state: TrainState, hp: HParams, x: jax.Array, y: jax.Array,
                dropout_key: jax.Array) -> tuple[jax.Array, tuple[jax.Array, Any]]:
    """alpha * J(x) + (1 - alpha) * J(x_adv); the same dropout mask for both passes."""
    start_key = jax.random.fold_in(dropout_key, 1) if self.random_start else None
    clean = super().objective
    return attacks.adversarial_objective(lambda p, z: clean(p, state, hp, z, y, dropout_key), params, x,
                                         self.eps, self.alpha, start_key=start_key, bounds=self.bounds)


def attack_targets(result: RunResult) -> attacks.Replicas:
  """A run's K trained replicas for `jaxdl.attacks.attack_replicas` / `transfer_error`.

  The model is built from the config's options alone: it is applied in eval
  mode, where a swept dropout rate makes no difference.
  """
  cfg = result.config
  return attacks.Replicas(build_model(cfg.model, result.data.num_classes, cfg.model_options),
                          result.program.variables(result.state), np.asarray(result.state.diverged))
