"""Pieces shared by the model families: activations, dropout, pooling, tagging, compute dtype.

Every hidden layer of every registered model goes through `tag_hidden`, which
exposes its pre-activation as a Flax perturbation (for gradients w.r.t. it)
and sows its pre- and post-activation as intermediates. `jaxdl.diagnostics`
works from these tags alone, so no per-model diagnostic code is needed.
"""
from __future__ import annotations

from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxdl.errors import UserError
from jaxdl.registry import Registry

ACTIVATIONS: Registry[Callable[[jax.Array], jax.Array]] = Registry("activation")


def _register_activation(name: str, fn: Callable[[jax.Array], jax.Array]) -> None:
  ACTIVATIONS.register(name)(lambda: fn)


_register_activation("sigmoid", jax.nn.sigmoid)
_register_activation("tanh", jnp.tanh)
_register_activation("relu", jax.nn.relu)
_register_activation("leaky_relu", jax.nn.leaky_relu)
_register_activation("softsign", jax.nn.soft_sign)
_register_activation("elu", jax.nn.elu)
_register_activation("linear", lambda x: x)


@jax.custom_vjp
def guided_relu(x: jax.Array) -> jax.Array:
  """ReLU whose backward pass lets through only positive gradients at positive inputs (Springenberg
  et al. 2015's guided back-propagation); the forward pass is ReLU's, so a trained ReLU net's
  parameters run unchanged with activation "guided_relu"."""
  return jax.nn.relu(x)


def _guided_relu_forward(x):
  return jax.nn.relu(x), x


def _guided_relu_backward(x, g):
  return (jnp.where((x > 0) & (g > 0), g, jnp.zeros_like(g)),)


guided_relu.defvjp(_guided_relu_forward, _guided_relu_backward)
_register_activation("guided_relu", guided_relu)


def get_activation(name: str) -> Callable[[jax.Array], jax.Array]:
  return ACTIVATIONS.build(name)


# A model's `dtype` option: the dtype its layers compute in (parameters stay float32).
COMPUTE_DTYPES = ("float32", "bfloat16", "float16")


def compute_dtype(name: str) -> jnp.dtype:
  if name not in COMPUTE_DTYPES:
    raise UserError(f"model dtype {name!r}; valid: {', '.join(COMPUTE_DTYPES)}")
  return jnp.dtype(name)


def tag_hidden(module: nn.Module, index: int, preact: jax.Array,
               activation: Callable[[jax.Array], jax.Array]) -> jax.Array:
  """Applies `activation` to hidden layer `index`'s pre-activation, tagged for diagnostics.

  Tags: perturbation `pre{index}` (d loss / d pre-activation), intermediates
  `pre{index}` and `act{index}`.
  """
  preact = module.perturb(f"pre{index}", preact)
  module.sow("intermediates", f"pre{index}", preact)
  act = activation(preact)
  module.sow("intermediates", f"act{index}", act)
  return act


def dropout(module: nn.Module, x: jax.Array, rate: float | jax.Array, train: bool) -> jax.Array:
  """Inverted dropout whose rate may be a traced array (a swept hyper-parameter).

  Flax's `nn.Dropout` branches on the rate in Python, which a vmapped sweep over
  rates cannot do; here a rate of 0 is simply a mask of ones.
  """
  if not train or (isinstance(rate, (int, float)) and rate == 0.0):
    return x
  keep = 1.0 - jnp.asarray(rate, x.dtype)
  mask = jax.random.bernoulli(module.make_rng("dropout"), keep, x.shape)
  return jnp.where(mask, x / keep, jnp.zeros_like(x))


def max_pool(x: jax.Array, window: int) -> jax.Array:
  """Non-overlapping max pooling over every spatial axis, written as reshape + max.

  Same result as `nn.max_pool(x, (w,)*d, strides=(w,)*d)` on the cropped input,
  but its gradient is a cheap compare instead of select-and-scatter, which is
  much faster on XLA:CPU. x: [B, *spatial, C].
  """
  if window <= 1:
    return x
  spatial = x.shape[1:-1]
  cropped = tuple(s - s % window for s in spatial)
  x = x[(slice(None), *(slice(0, c) for c in cropped), slice(None))]
  shape = [x.shape[0]]
  for c in cropped:
    shape += [c // window, window]
  x = x.reshape(*shape, x.shape[-1])
  return x.max(axis=tuple(2 + 2 * i for i in range(len(spatial))))
