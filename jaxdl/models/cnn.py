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
    h = x.reshape(x.shape[0], -1)
    for i, width in enumerate(self.dense_widths):
      z = nn.Dense(width, kernel_init=init, use_bias=not self.batch_norm, dtype=dtype, name=f"dense{i}")(h)
      if self.batch_norm:
        z = nn.BatchNorm(use_running_average=not train, momentum=0.9, dtype=dtype, name=f"dense_bn{i}")(z)
      h = dropout(self, tag_hidden(self, layer, z, act_fn), self.dropout_rate, train)
      layer += 1
    logits = nn.Dense(self.num_classes, kernel_init=init, dtype=dtype, name="logits")(h)
    return logits.astype(jnp.float32)  # the loss in float32 whatever the compute dtype
