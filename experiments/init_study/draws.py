"""He et al.'s variance law on independent draws: many untrained ReLU nets per initializer, no training.

The trained cells cannot test the law: the He and LeCun cells of one seed draw
the same standard normals, scaled by sqrt(2/n) and sqrt(1/n), and a ReLU net
without biases is positively homogeneous, so their last-layer ratio is exactly
2^(-L/2) for any weights. Here every net has its own key (the initializers
never share one), so the ratio varies from draw to draw and the law is tested
as He et al. state it, in expectation.

Each (depth, initializer) draws `groups` x `per_group` nets, runs each on the
first `examples` of the probe batch and keeps the mean square of every hidden layer's pre-activation
(over the batch and units). A group is one replicate of the experiment: the
spread of the group means is the noise the verdicts use.
"""
from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
from ml_collections import ConfigDict

from jaxdl.data import Dataset
from jaxdl.models import build_model
from jaxdl.study import MeasureCell

# The pair He et al. compare in Sec. 2.2: "Xavier" (Var[w] = 1/n, LeCun normal) and theirs (2/n).
LAW_INITS = ("lecun_normal", "he_normal")
CELL_NAME = "he_independent_draws"


def preact_mean_squares(x: np.ndarray, depth: int, width: int, init: str, num_classes: int,
                        keys: jax.Array, chunk: int = 64) -> np.ndarray:
  """[draws, depth]: for the ReLU MLP drawn with each of `keys` [draws, 2], the mean square
  of each hidden layer's pre-activation on x [N, ...]."""
  model = build_model("mlp", num_classes, {"widths": (width,) * depth, "activation": "relu", "kernel_init": init})
  x = jnp.asarray(x, jnp.float32)

  def one(key: jax.Array) -> jax.Array:
    params = model.init(key, x[:1])["params"]
    _, state = model.apply({"params": params}, x, mutable=["intermediates"])
    pre = state["intermediates"]
    return jnp.stack([jnp.mean(jnp.square(pre[f"pre{i}"][0])) for i in range(depth)])

  run = jax.jit(jax.vmap(one))
  return np.concatenate([np.asarray(run(keys[i:i + chunk])) for i in range(0, len(keys), chunk)])


def draw_keys(seed: int, depth: int, init_index: int, draws: int) -> jax.Array:
  """[draws, 2] keys of one (depth, initializer): distinct for every initializer, depth and draw."""
  return jax.random.split(jax.random.fold_in(jax.random.fold_in(jax.random.PRNGKey(seed), depth), init_index),
                          draws)


def measure_draws(x: np.ndarray, depths: tuple[int, ...], width: int, groups: int, per_group: int, seed: int,
                  num_classes: int, inits: tuple[str, ...] = LAW_INITS) -> dict[str, Any]:
  """The measurement cell's results: {"depth<d>": {init: per-draw statistics}}.

  Per initializer: `first` and `last` [draws], the mean square of the first and
  last hidden layer's pre-activation of each net; `group_mean` [groups, depth],
  each group's mean of the per-layer mean squares. Also `probe_mean_square`,
  E[x^2] over the probe batch (eq. 9's starting point).
  """
  results: dict[str, Any] = {"probe_mean_square": float(np.mean(np.square(x)))}
  for depth in depths:
    by_init = {}
    for index, init in enumerate(inits):
      ms = preact_mean_squares(x, depth, width, init, num_classes, draw_keys(seed, depth, index, groups * per_group))
      by_init[init] = {"first": ms[:, 0].tolist(), "last": ms[:, -1].tolist(),
                       "group_mean": ms.reshape(groups, per_group, depth).mean(axis=1).tolist()}
    results[f"depth{depth}"] = by_init
  return results


def draws_cell(config: ConfigDict, data: Callable[[], Dataset],
               probe: Callable[[], tuple[np.ndarray, np.ndarray]]) -> MeasureCell:
  """The measurement at the He part's depths and width on the probe batch (reads no other cell)."""
  spec = {"depths": list(config.he.depths), "width": config.he.width, "groups": config.he.draws.groups,
          "per_group": config.he.draws.per_group, "examples": config.he.draws.examples,
          "seed": config.get("seed_offset", 0),
          "dataset": config.train.dataset, "train_size": config.train.train_size, "probe_size": config.probe_size}

  return MeasureCell.standalone(CELL_NAME, spec, lambda: measure_draws(
      probe()[0][:spec["examples"]], tuple(spec["depths"]), spec["width"], spec["groups"], spec["per_group"],
      spec["seed"], num_classes=data().num_classes))
