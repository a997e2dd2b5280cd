"""Dilated convolution stacks (Yu & Koltun 2016), 1-D or 2-D by input rank.

Two families share one stack builder:
- `dilated`: conv layers with per-layer dilation (and optionally kernel size
  and stride), then a head: global average pooling or flatten, then a dense
  layer (classification), or a 1x1 conv per position (dense prediction).
  With all dilations 1 it is a plain CNN: Greydanus's MNIST-1D CNN is
  `dilations=(1,1,1), width=25, kernel_size=(5,3,3), strides=2, padding=1,
  head="flatten"`.
- `context_module`: a small conv + pool front end, then Yu & Koltun's context
  module (3x3 convs with growing dilation and C channels each, a final 1x1
  conv without ReLU, Table 1 "Basic"), identity-initialized by default, then
  global average pooling and a dense layer.
"""
from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxdl.errors import UserError
from jaxdl.initializers import get_initializer
from jaxdl.models.layers import get_activation, max_pool, tag_hidden
from jaxdl.models.registry import register_model

HEADS = ("global_pool", "flatten", "per_position")


def per_layer(value: int | Sequence[int], n: int, what: str) -> tuple[int, ...]:
  """An int (same for every layer) or a sequence of n ints -> a tuple of n ints."""
  if isinstance(value, int):
    return (value,) * n
  value = tuple(int(v) for v in value)
  if len(value) != n:
    raise UserError(f"{what} has {len(value)} entries for {n} layers: {value}")
  return value


def conv_stack(module: nn.Module, x: jax.Array, *, widths: Sequence[int], kernel_sizes: Sequence[int],
               strides: Sequence[int], dilations: Sequence[int], padding: str | int,
               activations: Sequence[str], kernel_init: str, first_index: int, prefix: str) -> jax.Array:
  """Conv layers i = 0..n-1, each tagged as hidden layer `first_index + i`.

  x: [B, *spatial, C]; kernels and dilations apply to every spatial axis.
  Returns [B, *spatial', widths[-1]].
  """
  ndim = x.ndim - 2
  init = get_initializer(kernel_init)
  for i, (w, k, s, d, act) in enumerate(zip(widths, kernel_sizes, strides, dilations, activations)):
    z = nn.Conv(w, (k,) * ndim, strides=(s,) * ndim, kernel_dilation=(d,) * ndim, padding=padding,
                kernel_init=init, name=f"{prefix}{i}")(x)
    x = tag_hidden(module, first_index + i, z, get_activation(act))
  return x


def front_end(module: nn.Module, x: jax.Array) -> jax.Array:
  """The context models' front end: undilated SAME convs of `module.front_widths`, each of
  `module.front_kernel_size`, then a `module.pool` max-pool (hidden layers 0..n-1)."""
  n = len(module.front_widths)
  x = conv_stack(module, x, widths=tuple(module.front_widths), kernel_sizes=(module.front_kernel_size,) * n,
                 strides=(1,) * n, dilations=(1,) * n, padding="SAME", activations=(module.activation,) * n,
                 kernel_init=module.kernel_init, first_index=0, prefix="front")
  return max_pool(x, module.pool)


def context_module(module: nn.Module, x: jax.Array, width: int, first_index: int) -> jax.Array:
  """Yu & Koltun's Basic context module: a 3x3 conv of `width` channels per entry of
  `module.context_dilations` (its activation), then a linear 1x1 conv (Table 1)."""
  n = len(module.context_dilations)
  return conv_stack(module, x, widths=(width,) * (n + 1), kernel_sizes=(3,) * n + (1,),
                    strides=(1,) * (n + 1), dilations=(*module.context_dilations, 1), padding="SAME",
                    activations=(module.activation,) * n + ("linear",), kernel_init=module.context_init,
                    first_index=first_index, prefix="context")


def classification_head(x: jax.Array, head: str, num_classes: int, kernel_init: str) -> jax.Array:
  """[B, *spatial, C] -> logits [B, num_classes] ("global_pool", "flatten") or
  [B, *spatial, num_classes] ("per_position", a 1x1 conv)."""
  init = get_initializer(kernel_init)
  if head == "global_pool":
    return nn.Dense(num_classes, kernel_init=init, name="logits")(jnp.mean(x, axis=tuple(range(1, x.ndim - 1))))
  if head == "flatten":
    return nn.Dense(num_classes, kernel_init=init, name="logits")(x.reshape(x.shape[0], -1))
  if head == "per_position":
    return nn.Dense(num_classes, kernel_init=init, name="logits")(x)
  raise UserError(f"head {head!r}; valid: {', '.join(HEADS)}")


@register_model("dilated")
class DilatedCNN(nn.Module):
  """Dilated CNN: conv layers with per-layer dilation, then a pooling/flatten/per-position head."""
  num_classes: int
  dilations: Sequence[int] = (1, 2, 4, 8)
  width: int = 32
  kernel_size: int | Sequence[int] = 3
  strides: int | Sequence[int] = 1
  padding: str | int = "SAME"  # SAME keeps the length (dense prediction); an int pads both sides
  head: str = "global_pool"
  activation: str = "relu"
  kernel_init: str = "he_normal"

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    """x: [B, *spatial, C] -> logits [B, num_classes] (or [B, *spatial, K] per position)."""
    del train  # no dropout or batch norm: the same function in both modes
    n = len(self.dilations)
    x = conv_stack(self, x, widths=(self.width,) * n,
                   kernel_sizes=per_layer(self.kernel_size, n, "kernel_size"),
                   strides=per_layer(self.strides, n, "strides"), dilations=tuple(self.dilations),
                   padding=self.padding, activations=(self.activation,) * n,
                   kernel_init=self.kernel_init, first_index=0, prefix="conv")
    return classification_head(x, self.head, self.num_classes, self.kernel_init)


@register_model("context_module")
class ContextModuleNet(nn.Module):
  """Front end (conv + pool) then Yu & Koltun's context module, then global pooling and dense.

  The module has one 3x3 conv per entry of `context_dilations` (ReLU) and a
  final 1x1 conv without ReLU (Table 1), all `width` channels wide (the Basic
  module; the front end's last width must equal it). `context_dilations=()`
  drops the module: the front-end-alone baseline. With `context_init="identity"`
  the module computes the identity at initialization (front-end features are
  post-ReLU, so nonnegative, and the ReLUs pass them unchanged).
  """
  num_classes: int
  front_widths: Sequence[int] = (32,)
  front_kernel_size: int = 5
  pool: int = 2
  width: int = 32
  context_dilations: Sequence[int] = (1, 1, 2, 4, 8, 16, 1)
  context_init: str = "identity"
  activation: str = "relu"
  kernel_init: str = "he_normal"

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    """x: [B, *spatial, C] -> logits [B, num_classes]."""
    del train
    x = front_end(self, x)
    if self.context_dilations:
      if x.shape[-1] != self.width:
        raise UserError(f"the context module keeps {self.width} channels but gets {x.shape[-1]}: "
                        "set front_widths[-1] == width")
      x = context_module(self, x, self.width, first_index=len(self.front_widths))
    return classification_head(x, "global_pool", self.num_classes, self.kernel_init)
