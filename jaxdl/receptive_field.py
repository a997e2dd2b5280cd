"""Receptive fields: analytical, measured by gradients, and effective (Luo et al. 2016).

- `analytical_receptive_fields`: the side length, in input positions, of the
  field of one unit after each layer of a stack of (kernel, stride, dilation)
  layers (pooling is a layer with kernel = stride = window).
- `input_gradient_maps`: |d pre_i[centre unit] / d x| for every hidden layer i
  of a model (the `pre{i}` tags of `tag_hidden`), one map per random draw of
  weights and input. It measures the structure of the network, so use random
  weights: an identity-initialized kernel has structural zeros off its centre.
- `measured_receptive_fields`: the bounding box of the positions whose
  gradient is nonzero in ANY draw. A ReLU that is off for one input, or a
  weight that happens to cancel, zeroes a path in one draw but not in all, so
  the union over draws is the structural field (exact with `activation=linear`).
- `effective_receptive_fields`: the gradient magnitude averaged over draws and
  normalized to sum 1 (Luo et al.'s ERF), and `erf_radius`, its RMS distance
  from the centre unit.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.errors import UserError


@dataclasses.dataclass(frozen=True)
class ConvLayer:
  """One layer's geometry along each spatial axis."""
  kernel: int
  stride: int = 1
  dilation: int = 1


def conv_layers(kernel_sizes: int | Sequence[int], dilations: Sequence[int],
                strides: int | Sequence[int] = 1) -> list[ConvLayer]:
  """ConvLayers from per-layer dilations (kernel sizes and strides: an int or one per layer)."""
  n = len(dilations)
  ks = (kernel_sizes,) * n if isinstance(kernel_sizes, int) else tuple(kernel_sizes)
  ss = (strides,) * n if isinstance(strides, int) else tuple(strides)
  if not len(ks) == len(ss) == n:
    raise UserError(f"{n} dilations but {len(ks)} kernel sizes and {len(ss)} strides")
  return [ConvLayer(k, s, d) for k, s, d in zip(ks, ss, dilations)]


def analytical_receptive_fields(layers: Sequence[ConvLayer]) -> list[int]:
  """Per layer, the receptive-field side length of one of its units, in input positions.

  A layer widens the field by (kernel - 1) * dilation steps of its input's
  grid, whose spacing in input positions (the "jump") is the product of the
  earlier strides: r_l = r_{l-1} + (k_l - 1) d_l j_{l-1}, j_l = j_{l-1} s_l.
  """
  field, jump, out = 1, 1, []
  for layer in layers:
    field += (layer.kernel - 1) * layer.dilation * jump
    jump *= layer.stride
    out.append(field)
  return out


def _hidden_preactivations(model: nn.Module, variables: Any, x: jax.Array) -> list[jax.Array]:
  """The tagged pre-activations pre0, pre1, ... of `model` on x, in layer order."""
  _, state = model.apply(variables, x, train=False, mutable=["intermediates"])
  tags = state["intermediates"]
  n = sum(1 for name in tags if name.startswith("pre"))
  return [tags[f"pre{i}"][0] for i in range(n)]


def input_gradient_maps(model: nn.Module, input_shape: Sequence[int], key: jax.Array,
                        draws: int = 4) -> jax.Array:
  """|gradient| of each hidden layer's centre unit w.r.t. the input, per random draw.

  Each draw initializes `model` with its own key and feeds x ~ N(0, 1) of
  shape [1, *input_shape]. The unit is channel 0 at the centre position
  (size // 2 on every spatial axis) of the layer's map; the gradient's
  magnitude is summed over input channels.

  Returns: float32 [draws, layers, *spatial].
  """
  def one_draw(k: jax.Array) -> jax.Array:
    k_init, k_x = jax.random.split(k)
    x = jax.random.normal(k_x, (1, *input_shape), jnp.float32)
    variables = model.init(k_init, x, train=False)

    def centre_units(x: jax.Array) -> jax.Array:
      pres = _hidden_preactivations(model, variables, x)
      return jnp.stack([p[(0, *(s // 2 for s in p.shape[1:-1]), 0)] for p in pres])

    jac = jax.jacrev(centre_units)(x)  # [layers, 1, *spatial, C]
    return jnp.abs(jac[:, 0]).sum(-1)

  return jax.jit(jax.vmap(one_draw))(jax.random.split(key, draws))


def _field_box(mask: np.ndarray) -> tuple[slice, ...]:
  """Per axis, the slice spanning the True entries of `mask` (empty if none)."""
  box = []
  for axis in range(mask.ndim):
    hit = np.flatnonzero(mask.any(axis=tuple(a for a in range(mask.ndim) if a != axis)))
    box.append(slice(int(hit[0]), int(hit[-1]) + 1) if hit.size else slice(0, 0))
  return tuple(box)


def measured_receptive_fields(grad_maps: jax.Array | np.ndarray) -> list[dict[str, Any]]:
  """Per layer: `extent` (bounding-box side per axis) and `holes` (zeros inside it).

  grad_maps: [draws, layers, *spatial] from `input_gradient_maps`. A position
  is in the field if its gradient is nonzero in any draw. Holes are the
  "gridding" of a dilated stack that skips dilation 1 (0 for a dense field).
  """
  support = (np.asarray(grad_maps) != 0).any(axis=0)
  out = []
  for mask in support:
    inside = mask[_field_box(mask)]
    out.append({"extent": tuple(int(s) for s in inside.shape), "holes": int(inside.size - inside.sum())})
  return out


def effective_receptive_fields(grad_maps: jax.Array | np.ndarray) -> np.ndarray:
  """Luo et al.'s ERF: per layer, the mean over draws of |gradient|, normalized to sum 1.

  grad_maps: [draws, layers, *spatial] -> [layers, *spatial].
  """
  mean = np.asarray(grad_maps, np.float64).mean(axis=0)
  totals = mean.reshape(mean.shape[0], -1).sum(axis=1)
  return mean / totals.reshape(-1, *([1] * (mean.ndim - 1)))


def erf_radius(erf: np.ndarray) -> np.ndarray:
  """Per layer, the RMS distance (in input positions) of the ERF's mass from the centre.

  erf: [layers, *spatial], each layer summing to 1, centred at size // 2.
  """
  spatial = erf.shape[1:]
  grids = np.meshgrid(*[np.arange(s) - s // 2 for s in spatial], indexing="ij")
  dist2 = sum(g.astype(np.float64) ** 2 for g in grids)
  return np.sqrt((erf * dist2).reshape(erf.shape[0], -1).sum(axis=1))
