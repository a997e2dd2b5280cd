"""Full-batch regression of many replicas in one compiled program: vmap over replicas, scan over steps.

A replica is (a seed, a target): its own initialization from its seed and its
own targets y [N] on the shared inputs x [N, D]. Every replica of one call has
the same net (an `mlp` of `widths` from `jaxdl.models`), trained on half the
squared error (`jaxdl.losses.mse`) with the project's optimizer chain
(`jaxdl.optim.build_optimizer`; one step an epoch, so a schedule's length is
`steps`). Replica i's initial parameters are `model.init(PRNGKey(seed_i))`, so
a replica equals a single run of its seed.

`breakpoints=(lo, hi)` re-draws the first layer's biases so that each unit's
breakpoint (where w x + b = 0 on a 1-D input) is uniform on [lo, hi]: with the
default zero biases every breakpoint of a 1-D net starts at x = 0, and on
inputs in [0, 1] every unit with a negative weight starts dead, so a wide net
fits like a narrow one.
"""
from __future__ import annotations

from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.losses import get_loss
from jaxdl.models import build_model
from jaxdl.optim import OptimConfig, build_optimizer


def relu_mlp(widths: Sequence[int]):
  """The `mlp` of `jaxdl.models` with ReLU hidden `widths` and one linear output."""
  return build_model("mlp", 1, {"widths": tuple(widths), "activation": "relu"})


def predict(widths: Sequence[int], params: Any, x: np.ndarray) -> np.ndarray:
  """Outputs [N] of the `mlp` of `widths` with `params` on x [N, D]."""
  return np.asarray(relu_mlp(widths).apply({"params": params}, jnp.asarray(x)))[:, 0]


def spread_breakpoints(params: Any, key: jax.Array, lo: float, hi: float) -> Any:
  """params with the first layer's biases set to -w c, c ~ U(lo, hi) per unit (1-D input)."""
  first = params["dense0"]
  kernel = first["kernel"]  # [1, units]
  c = jax.random.uniform(key, kernel.shape[1:], kernel.dtype, lo, hi)
  return {**params, "dense0": {**first, "bias": -kernel[0] * c}}


def fit_replicas(widths: Sequence[int], x: np.ndarray, ys: np.ndarray, seeds: Sequence[int], optim: OptimConfig,
                 steps: int, x_eval: np.ndarray | None = None,
                 breakpoints: tuple[float, float] | None = None) -> dict[str, np.ndarray]:
  """Trains len(seeds) replicas (replica r: seed seeds[r], targets ys[r]) for `steps` full-batch steps.

  x: [N, D] inputs; ys: [R, N] targets; x_eval: [M, D] where to evaluate the trained nets (x if None).
  Returns numpy arrays: `params` (the trained pytree, leading axis R), `train_loss` [R] (mean half
  squared error after the last step), `outputs` [R, N] on x, `eval_outputs` [R, M] on x_eval.
  """
  model = relu_mlp(widths)
  loss_of = get_loss("mse")
  tx = build_optimizer(optim, steps_per_epoch=1, total_steps=steps)
  x = jnp.asarray(x, jnp.float32)
  x_eval = x if x_eval is None else jnp.asarray(x_eval, jnp.float32)

  def mean_loss(params, y):
    return jnp.mean(loss_of(model.apply({"params": params}, x), y[:, None], 1))

  def train_one(seed, y):
    key = jax.random.PRNGKey(seed)
    params = model.init(key, x[:1])["params"]
    if breakpoints is not None and widths:
      params = spread_breakpoints(params, jax.random.fold_in(key, 1), *breakpoints)

    def step(carry, _):
      params, opt_state = carry
      grads = jax.grad(mean_loss)(params, y)
      updates, opt_state = tx.update(grads, opt_state, params)
      return (optax.apply_updates(params, updates), opt_state), None

    (params, _), _ = jax.lax.scan(step, (params, tx.init(params)), None, length=steps)
    apply = lambda inputs: model.apply({"params": params}, inputs)[:, 0]  # noqa: E731
    return params, mean_loss(params, y), apply(x), apply(x_eval)

  params, loss, outputs, eval_outputs = jax.jit(jax.vmap(train_one))(
      jnp.asarray(seeds, jnp.uint32), jnp.asarray(ys, jnp.float32))
  return {"params": jax.tree_util.tree_map(np.asarray, params), "train_loss": np.asarray(loss),
          "outputs": np.asarray(outputs), "eval_outputs": np.asarray(eval_outputs)}


def replica_params(params: Any, r: int) -> Any:
  """Replica r's parameters from the stacked trained params (leading axis: replicas)."""
  return jax.tree_util.tree_map(lambda p: np.asarray(p[r]), params)
