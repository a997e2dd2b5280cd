"""Adversarial training on the engine, and a trained run's replicas as attack targets.

`AdversarialProgram` is the engine's `ReplicaProgram` with Goodfellow et al.'s
objective (`jaxdl.attacks.adversarial_objective`); pass
`functools.partial(AdversarialProgram, eps=..., alpha=...)` as
`train_and_evaluate(..., program_factory=...)`. `attack_targets(result)` gives
a run's K trained replicas in the form `jaxdl.attacks`' evaluation loops take.
`robustness_hook` is an epoch hook that follows the clean, FGSM and PGD
accuracy of every replica on a fixed probe over training (Wong et al. 2020's
catastrophic overfitting shows there, not at the end).
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
from jaxdl.train.trainer import EpochHook, RunResult


@dataclasses.dataclass(frozen=True)
class AdversarialProgram(ReplicaProgram):
  """The engine's replica program with the adversarial-training objective.

  Overrides only `ReplicaProgram.objective`; the step, replicas, runner,
  evaluation and checkpoints are the engine's. eps and bounds are in
  model-input units (`jaxdl.attacks.InputUnits`); random_start: the attack
  starts uniformly in the eps-ball (Wong et al. 2020); steps and step_size:
  the attack's signed steps (None: eps, or 1.25 eps with a random start; see
  `attacks.adversarial_objective`), so steps > 1 with alpha = 0 is PGD
  training. The fields are saved in config.json, so a run directory never
  resumes under another objective.
  """
  eps: float = 0.25
  alpha: float = 0.5
  random_start: bool = False
  bounds: attacks.Bounds = None
  steps: int = 1
  step_size: float | None = None

  def objective(self, params: Any, state: TrainState, hp: HParams, x: jax.Array, y: jax.Array,
                dropout_key: jax.Array) -> tuple[jax.Array, tuple[jax.Array, Any]]:
    """alpha * J(x) + (1 - alpha) * J(x_adv); the same dropout mask for both passes."""
    start_key = jax.random.fold_in(dropout_key, 1) if self.random_start else None
    clean = super().objective
    return attacks.adversarial_objective(lambda p, z: clean(p, state, hp, z, y, dropout_key), params, x,
                                         self.eps, self.alpha, start_key=start_key, bounds=self.bounds,
                                         steps=self.steps, step_size=self.step_size)


def attack_targets(result: RunResult) -> attacks.Replicas:
  """A run's K trained replicas for `jaxdl.attacks.attack_replicas` / `transfer_error`.

  The model is built from the config's options alone: it is applied in eval
  mode, where a swept dropout rate makes no difference.
  """
  cfg = result.config
  return attacks.Replicas(build_model(cfg.model, result.data.num_classes, cfg.model_options),
                          result.program.variables(result.state), np.asarray(result.state.diverged))


def robustness_hook(x: np.ndarray, y: np.ndarray, eps: float, pgd: attacks.PGDSettings,
                    bounds: attacks.Bounds = None, chunk: int = 1000) -> EpochHook:
  """An epoch hook: {"probe_clean_acc", "probe_fgsm_acc", "probe_pgd_acc"}, each [K], every
  replica's accuracy on the probe (x, y) clean, under FGSM and under PGD at eps (model-input
  units), each replica attacking itself; NaN for a diverged replica."""
  def hook(state: TrainState, program: ReplicaProgram, hparams: dict[str, jax.Array]) -> dict[str, np.ndarray]:
    del hparams  # applied in eval mode, where a swept dropout rate makes no difference
    cfg = program.cfg
    replicas = attacks.Replicas(build_model(cfg.model, program.num_classes, cfg.model_options),
                                program.variables(state), np.asarray(state.diverged))
    runs = {"clean": dict(eps=0.0), "fgsm": dict(eps=eps), "pgd": dict(eps=eps, pgd_settings=pgd)}
    return {f"probe_{name}_acc": 1.0 - np.asarray(attacks.attack_replicas(
        replicas, x, y, bounds=bounds, chunk=chunk, **kwargs)[1]["error"]) for name, kwargs in runs.items()}
  return hook
