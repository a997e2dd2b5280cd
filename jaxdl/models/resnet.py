"""He et al. 2016's CIFAR-style residual network (6n+2 layers), and its plain twin.

Layout (Sec. 4.2 of "Deep residual learning"): a 3x3 conv with 16 filters,
then three stages of n blocks of two 3x3 convs with 16, 32, 64 filters (the
first conv of stages 2 and 3 has stride 2), global average pooling and a dense
layer: 1 + 6n + 1 weight layers. Every conv is followed by batch norm (no conv
bias: BN's shift replaces it) and initialized with He's N(0, 2/fan_in).

Shortcuts are option A: identity, subsampled by 2 and zero-padded in the new
channels where a stage begins, so the residual net has exactly the plain
net's parameters. `plain=True` drops them. `dtype` is the compute dtype (e.g.
"bfloat16" for mixed precision): parameters and batch-norm statistics stay
float32 and the logits come back float32.

Tags: hidden layer i is the i-th conv; its tagged pre-activation is what enters
the ReLU (BN output, plus the shortcut on the second conv of a residual block).
"""
from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxdl.errors import UserError
from jaxdl.initializers import get_initializer
from jaxdl.models.layers import compute_dtype, tag_hidden
from jaxdl.models.registry import register_model

STAGE_FILTERS = (16, 32, 64)


def blocks_per_stage(depth: int) -> int:
  """n of a 6n+2-layer net; depth 20, 32, 44, 56, 110 give n = 3, 5, 7, 9, 18."""
  if depth < 8 or (depth - 2) % 6:
    raise UserError(f"resnet depth must be 6n+2 with n >= 1 (8, 14, 20, 32, 44, 56, 110, ...), got {depth}")
  return (depth - 2) // 6


def option_a_shortcut(x: jax.Array, features: int, stride: int) -> jax.Array:
  """Identity shortcut, spatially subsampled by `stride`, zero-padded to `features` channels.

  x: [B, H, W, C] -> [B, ceil(H/stride), ceil(W/stride), features]; parameter-free.
  """
  if stride > 1:
    x = x[:, ::stride, ::stride, :]
  extra = features - x.shape[-1]
  if extra < 0:
    raise ValueError(f"option A shortcut cannot shrink {x.shape[-1]} channels to {features}")
  return jnp.pad(x, ((0, 0), (0, 0), (0, 0), (0, extra))) if extra else x


@register_model("resnet")
class ResNet(nn.Module):
  """CIFAR-style ResNet-(6n+2) (He et al. 2016), option-A shortcuts; plain=True removes them."""
  num_classes: int
  depth: int = 20
  plain: bool = False
  kernel_init: str = "he_normal"
  bn_momentum: float = 0.9
  dtype: str = "float32"  # compute dtype; parameters are float32 whatever it is

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    """x: [B, H, W, C] (e.g. 28x28x1 or 32x32x3) -> logits [B, num_classes]."""
    n = blocks_per_stage(self.depth)
    init = get_initializer(self.kernel_init)
    dtype = compute_dtype(self.dtype)
    layer = 0

    def conv_bn(h: jax.Array, features: int, stride: int) -> jax.Array:
      h = nn.Conv(features, (3, 3), strides=stride, padding="SAME", use_bias=False,
                  kernel_init=init, dtype=dtype, name=f"conv{layer}")(h)
      return nn.BatchNorm(use_running_average=not train, momentum=self.bn_momentum, dtype=dtype,
                          name=f"bn{layer}")(h)

    h = tag_hidden(self, layer, conv_bn(x, STAGE_FILTERS[0], 1), nn.relu)
    layer += 1
    for stage, features in enumerate(STAGE_FILTERS):
      for block in range(n):
        stride = 2 if stage > 0 and block == 0 else 1
        z = tag_hidden(self, layer, conv_bn(h, features, stride), nn.relu)
        layer += 1
        z = conv_bn(z, features, 1)
        if not self.plain:
          z = z + option_a_shortcut(h, features, stride)
        h = tag_hidden(self, layer, z, nn.relu)
        layer += 1
    h = jnp.mean(h, axis=(1, 2))
    logits = nn.Dense(self.num_classes, kernel_init=init, dtype=dtype, name="logits")(h)
    return logits.astype(jnp.float32)  # the loss in float32 whatever the compute dtype
