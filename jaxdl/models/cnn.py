"""A stack of conv(/pool) stages then dense layers: LeNet-style nets, 1-D or 2-D.

Covers Nielsen's chapter-6 nets (conv 20x5x5 + pool, conv 40x5x5 + pool,
FC100) and the benchmark CNN. The number of spatial axes follows the input:
[B, L, C] gives 1-D convolutions, [B, H, W, C] 2-D ones. `dtype` is the compute
dtype (e.g. "bfloat16" for mixed precision): parameters stay float32 and the
logits come back float32.
"""
from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxdl.errors import UserError
from jaxdl.initializers import get_initializer
from jaxdl.models.layers import compute_dtype, dropout, get_activation, max_pool, tag_hidden
from jaxdl.models.registry import register_model

@register_model("cnn")
class CNN(nn.Module):
  """CNN: conv stages (features, kernel, stride, pool) then dense layers."""
  num_classes: int
  conv_features: Sequence[int] = (20, 40)
  kernel_size: int = 5
  strides: int = 1
  padding: str = "VALID"
  pool: int = 2
  dense_widths: Sequence[int] = (100,)
  activation: str = "relu"
  kernel_init: str = "he_normal"
  batch_norm: bool = False
  dropout_rate: float | jax.Array = 0.0
  dtype: str = "float32"  # compute dtype; parameters are float32 whatever it is
  # "conv": the dense layers as convolutions (the first one's window `head_window`, the feature map
  # of the input size the net was trained at; the rest 1x1), so the net takes any input size and
  # returns a map of class scores [B, H', W', num_classes] (`fully_convolutional` converts the params).
  # "gap": Lin et al.'s global average pooling head: the dense layers as 1x1 convolutions on every
  # position, a 1x1 convolution to one map per class, the maps' spatial means as the logits.
  head: str = "dense"
  head_window: int = 4

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    """x: [B, *spatial, C] -> logits [B, num_classes]."""
    act_fn = get_activation(self.activation)
    init = get_initializer(self.kernel_init)
    dtype = compute_dtype(self.dtype)
    ndim = x.ndim - 2
    layer = 0
    for i, features in enumerate(self.conv_features):
      z = nn.Conv(features, (self.kernel_size,) * ndim, strides=self.strides, padding=self.padding,
                  kernel_init=init, use_bias=not self.batch_norm, dtype=dtype, name=f"conv{i}")(x)
      if self.batch_norm:
        z = nn.BatchNorm(use_running_average=not train, momentum=0.9, dtype=dtype, name=f"conv_bn{i}")(z)
      x = max_pool(tag_hidden(self, layer, z, act_fn), self.pool)
      layer += 1
    if self.head == "conv":
      return self._convolutional_head(x, self.head_window, act_fn, init, dtype)
    if self.head == "gap":  # one map per class at every position (1x1 windows), their spatial means
      return self._convolutional_head(x, 1, act_fn, init, dtype).mean(axis=tuple(range(1, x.ndim - 1)))
    if self.head != "dense":
      raise UserError(f"cnn head {self.head!r}; valid: dense, conv, gap")
    h = x.reshape(x.shape[0], -1)
    for i, width in enumerate(self.dense_widths):
      z = nn.Dense(width, kernel_init=init, use_bias=not self.batch_norm, dtype=dtype, name=f"dense{i}")(h)
      if self.batch_norm:
        z = nn.BatchNorm(use_running_average=not train, momentum=0.9, dtype=dtype, name=f"dense_bn{i}")(z)
      h = dropout(self, tag_hidden(self, layer, z, act_fn), self.dropout_rate, train)
      layer += 1
    logits = nn.Dense(self.num_classes, kernel_init=init, dtype=dtype, name="logits")(h)
    return logits.astype(jnp.float32)  # the loss in float32 whatever the compute dtype

  def _convolutional_head(self, x: jax.Array, first_window: int, act_fn, init, dtype) -> jax.Array:
    """The dense layers as 'VALID' convolutions, the first with a `first_window` window, the rest 1x1:
    class-score maps [B, *spatial', num_classes]."""
    if self.batch_norm:
      raise UserError(f"cnn head={self.head!r} is for nets without batch norm")
    h, window = x, first_window
    for i, width in enumerate((*self.dense_widths, self.num_classes)):
      name = f"dense{i}" if i < len(self.dense_widths) else "logits"
      h = nn.Conv(width, (window,) * (x.ndim - 2), padding="VALID", kernel_init=init, dtype=dtype, name=name)(h)
      h, window = (act_fn(h) if name != "logits" else h), 1
    return h.astype(jnp.float32)


def fully_convolutional(params: dict, feature_shape: tuple[int, int, int]) -> dict:
  """A dense-head CNN's params as the params of the same net with head='conv' (Long et al. 2015):
  the first dense kernel [h*w*c, units], which reads the flattened [h, w, c] feature map, becomes a
  [h, w, c, units] convolution (the flattening is row-major, so the reshape is exact); the later
  dense kernels become 1x1 convolutions. On the training input size the outputs are identical; on
  a larger input the net slides, giving a map of class scores."""
  out = dict(params)
  first = True
  for name in [k for k in params if k.startswith("dense")] + ["logits"]:
    kernel = params[name]["kernel"]
    shape = (*feature_shape, kernel.shape[-1]) if first else (1, 1, *kernel.shape)
    out[name] = {**params[name], "kernel": kernel.reshape(shape)}
    first = False
  return out
