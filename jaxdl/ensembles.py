"""Ensembles of trained replicas: each net's predictions and their majority vote.

Nielsen's chapter 6 ends with "a majority vote of 5 such nets". The K replicas
of one run (seeds of one config) are the members; `replica_logits` evaluates
them all, `majority_vote` combines their predicted classes.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.train import RunResult


def replica_logits(result: RunResult, x: np.ndarray, members: list[int] | None = None,
                   batch_size: int = 1000) -> np.ndarray:
  """Test-mode logits of each member replica: [M, N, num_classes].

  `members` are replica indices (default: every replica that did not diverge).
  """
  if members is None:
    members = [k for k, r in enumerate(result.replicas) if r["status"] != "diverged"]
  out = []
  for k in members:
    model, variables = result.model(k), result.variables(k)
    apply = jax.jit(lambda v, xb, m=model: m.apply(v, xb, train=False))
    out.append(np.concatenate([np.asarray(apply(variables, x[i:i + batch_size]))
                               for i in range(0, len(x), batch_size)]))
  return np.stack(out)


def majority_vote(logits: jax.Array) -> jax.Array:
  """The class most members predict; ties go to the higher mean softmax probability.

  Args:
    logits: [M, N, K], M members' logits on N examples.

  Returns:
    [N] int32 predicted classes.
  """
  num_classes = logits.shape[-1]
  votes = jax.nn.one_hot(jnp.argmax(logits, -1), num_classes).sum(0)  # [N, K] integers
  mean_prob = jax.nn.softmax(logits, -1).mean(0)  # in [0, 1]: breaks ties, never outvotes a count
  return jnp.argmax(votes + mean_prob, -1).astype(jnp.int32)


def vote_accuracy(logits: jax.Array, labels: jax.Array) -> float:
  """Accuracy of the majority vote of M members' logits [M, N, K] against labels [N]."""
  return float(jnp.mean(majority_vote(logits) == labels))
