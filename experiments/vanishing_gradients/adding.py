"""The adding problem's cells: their generated data, the ||dL/dh_t|| hook and the test errors."""
from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.data import Dataset
from jaxdl.models.rnn import hidden_state_grad_norms
from jaxdl.tasks.adding_problem import SUCCESS_TOLERANCE, adding_dataset
from jaxdl.train import RunResult, RunStatus
from jaxdl.train.trainer import EpochHook


@functools.lru_cache(maxsize=2)
def adding_data(length: int, n_train: int, n_test: int) -> Dataset:
  """The sequences of length T, seeded by T: every cell of one length trains on the same data.
  Cached: the cell's training and its hook's probe read one copy."""
  return adding_dataset(length, n_train, n_test, seed=length)


def hidden_grad_hook(x: np.ndarray, y: np.ndarray) -> EpochHook:
  """epoch_hook: {"hidden_grad_norm": [K, T]}, ||dL/dh_t|| of every replica on the probe (x, y)."""
  x, y = jnp.asarray(x), jnp.asarray(y)
  cache: dict[str, Any] = {}

  def hook(state, program, hparams):
    if cache.get("program") is not program:
      def one(replica_state, replica_hparams):
        return hidden_state_grad_norms(program.model(replica_hparams), program.variables(replica_state), x, y)
      cache["program"], cache["fn"] = program, jax.jit(jax.vmap(one))
    return {"hidden_grad_norm": np.asarray(cache["fn"](state, hparams))}

  return hook


def errors_on_test_set(result: RunResult) -> dict[str, list[float]]:
  """Per replica on the whole test set: test_mse and within_tol, the fraction of sequences whose
  prediction is within SUCCESS_TOLERANCE of the target (NaN for a diverged replica)."""
  mse, within = [], []
  for k, replica in enumerate(result.replicas):
    if replica["status"] == RunStatus.DIVERGED:
      mse.append(float("nan"))
      within.append(float("nan"))
      continue
    prediction = np.asarray(result.model(k).apply(result.variables(k), jnp.asarray(result.data.x_test)))
    error = prediction - result.data.y_test
    mse.append(float(np.mean(error ** 2)))
    within.append(float(np.mean(np.abs(error) < SUCCESS_TOLERANCE)))
  return {"test_mse": mse, "within_tol": within}
