"""The two measurements of saturation (no engine training): the gradient of each sigmoid loss as a
function of z for a wrong output, and Nielsen's one-neuron example, both through the registered losses.

Squared error on a sigmoid, C = (s(z) - y)^2 / 2, has dC/dz = (s(z) - y) s'(z): for target y = 0
and z large the output is badly wrong and s'(z) ~ 0, so the gradient vanishes. Cross-entropy,
C = -y log s - (1 - y) log(1 - s), has dC/dz = s(z) - y: the wronger, the larger.
"""
from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.losses import get_loss

SQUARED, CROSS_ENTROPY = "sigmoid_mse", "binary_cross_entropy"  # the registered losses compared


def _loss_of_z(loss: str, target: float):
  """z -> the registered loss of one sigmoid unit with pre-activation z (a scalar) and `target`."""
  fn = get_loss(loss)
  return lambda z: fn(jnp.reshape(z, (1, 1)), jnp.full((1,), target, jnp.float32), 1)[0]


def gradient_curves(z_min: float, z_max: float, points: int, target: float) -> dict[str, Any]:
  """dC/dz by jax.grad through each registered loss on a grid of z, and the closed forms
  (s - y) s' and s - y it must equal."""
  z = jnp.linspace(z_min, z_max, points, dtype=jnp.float32)
  s = jax.nn.sigmoid(z)
  grads = {loss: jax.vmap(jax.grad(_loss_of_z(loss, target)))(z) for loss in (SQUARED, CROSS_ENTROPY)}
  closed = {SQUARED: (s - target) * s * (1 - s), CROSS_ENTROPY: s - target}
  return {"z": np.asarray(z).tolist(), "target": target,
          "grad": {k: np.asarray(v).tolist() for k, v in grads.items()},
          "closed_form": {k: np.asarray(v).tolist() for k, v in closed.items()}}


def train_neuron(loss: str, w: float, b: float, x: float, y: float, epochs: int, lr: float) -> dict[str, list[float]]:
  """Nielsen's neuron: a = s(w x + b), one example, `epochs` steps of gradient descent at `lr`
  on the registered `loss`. Returns the output and the cost before each step and after the last
  ([epochs + 1] each), and w and b after the last."""
  cost = lambda p: _loss_of_z(loss, y)(p[0] * x + p[1])  # noqa: E731

  def step(p, _):
    c, g = jax.value_and_grad(cost)(p)
    return p - lr * g, (jax.nn.sigmoid(p[0] * x + p[1]), c)

  p, (outputs, costs) = jax.lax.scan(step, jnp.array([w, b], jnp.float32), None, length=epochs)
  final = (jax.nn.sigmoid(p[0] * x + p[1]), cost(p))
  return {"output": [*np.asarray(outputs).tolist(), float(final[0])],
          "cost": [*np.asarray(costs).tolist(), float(final[1])], "w": float(p[0]), "b": float(p[1])}


def neuron_runs(w: float, b: float, x: float, y: float, epochs: int, lr: float, nielsen_ce_lr: float
                ) -> dict[str, Any]:
  """The quadratic and cross-entropy neurons at the same lr, and the cross-entropy one at Nielsen's."""
  start = dict(w=w, b=b, x=x, y=y, epochs=epochs)
  return {"runs": [{"loss": SQUARED, "lr": lr, **train_neuron(SQUARED, lr=lr, **start)},
                   {"loss": CROSS_ENTROPY, "lr": lr, **train_neuron(CROSS_ENTROPY, lr=lr, **start)},
                   {"loss": CROSS_ENTROPY, "lr": nielsen_ce_lr,
                    **train_neuron(CROSS_ENTROPY, lr=nielsen_ce_lr, **start)}]}
