"""Named weight initializers, one signature for all: `(key, shape, dtype) -> array`.

An initializer is named by a spec string, `"name"` or `"name:key=value,..."`,
e.g. `"normal:std=0.01"` or `"orthogonal:gain=1.414"`, so a flag can carry it.
Fans follow Flax's convention: the last axis is fan-out, the one before it
fan-in, and the leading (spatial) axes multiply both (a receptive field).

Distributions are the papers' own: He et al. 2015 and LeCun use a plain (not
truncated) Gaussian, so the variance is exactly the stated 2/n or 1/n.
"""
from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
from jax.nn import initializers as jinit

from jaxdl.registry import Registry

Initializer = Callable[[jax.Array, tuple[int, ...], Any], jax.Array]
INITIALIZERS: Registry[Initializer] = Registry("initializer")


@INITIALIZERS.register("normal", std=1.0)
def normal(std: float) -> Initializer:
  """N(0, std^2) whatever the fan: N(0,1) explodes, N(0, 0.01^2) stalls deep nets."""
  return jinit.normal(stddev=std)


@INITIALIZERS.register("standard_uniform")
def standard_uniform() -> Initializer:
  """Glorot & Bengio 2010's "standard" U[-1/sqrt(n_in), 1/sqrt(n_in)] (n Var = 1/3)."""
  return jinit.variance_scaling(1.0 / 3.0, "fan_in", "uniform")


@INITIALIZERS.register("lecun_normal")
def lecun_normal() -> Initializer:
  """Var = 1/n_in: what He et al. 2015 call "Xavier" in their ReLU comparison."""
  return jinit.variance_scaling(1.0, "fan_in", "normal")


@INITIALIZERS.register("glorot_uniform")
def glorot_uniform() -> Initializer:
  """Glorot & Bengio's "normalized" init: U[+-sqrt(6 / (n_in + n_out))]."""
  return jinit.variance_scaling(1.0, "fan_avg", "uniform")


@INITIALIZERS.register("glorot_normal")
def glorot_normal() -> Initializer:
  """N(0, 2 / (n_in + n_out))."""
  return jinit.variance_scaling(1.0, "fan_avg", "normal")


@INITIALIZERS.register("he_normal")
def he_normal() -> Initializer:
  """He et al. 2015: N(0, 2 / n_in), which keeps a ReLU net's activation variance."""
  return jinit.variance_scaling(2.0, "fan_in", "normal")


@INITIALIZERS.register("orthogonal", gain=1.0)
def orthogonal(gain: float) -> Initializer:
  """Saxe et al. 2013: a random orthogonal matrix times `gain` (sqrt(2) for ReLU)."""
  return jinit.orthogonal(scale=gain)


@INITIALIZERS.register("identity", noise_std=0.0)
def identity(noise_std: float) -> Initializer:
  """Yu & Koltun 2016's identity init: a conv (or dense) that passes channel a to a.

  For a kernel [*spatial, c_in, c_out], the centre tap maps input channel a to
  output channel a (k(t, a) = 1[t=0] 1[a=b]); optional Gaussian noise on top.
  """

  def init(key: jax.Array, shape: tuple[int, ...], dtype: Any = jnp.float32) -> jax.Array:
    *spatial, c_in, c_out = shape
    centre = tuple(s // 2 for s in spatial)
    kernel = jnp.zeros(shape, dtype)
    eye = jnp.eye(c_in, c_out, dtype=dtype)
    kernel = kernel.at[centre].set(eye)
    return kernel + noise_std * jax.random.normal(key, shape, dtype)

  return init


@INITIALIZERS.register("zeros")
def zeros() -> Initializer:
  """All zeros (biases; a symmetric-weights counterexample)."""
  return jinit.zeros


def get_initializer(spec: str) -> Initializer:
  """The initializer named by `spec` (`"normal:std=0.01"`); unknown names or arguments list the valid ones."""
  return INITIALIZERS.build_spec(spec)
