"""The inception module (Szegedy et al. 2015, GoogLeNet) and a small inception net.

A module runs four branches on the same input and concatenates their channels: a 1x1 conv; a
3x3 conv; a 5x5 conv; a 3x3 max pool (stride 1). With `bottleneck=True` (the paper's Fig. 2b)
1x1 convs reduce the channels before the 3x3 and 5x5 convs, and a 1x1 "pool projection" follows
the pool; without (Fig. 2a, the "naive" module) the large convs read every input channel and the
pool passes them all through. Every conv is 'SAME', stride 1, followed by ReLU.

`module_counts` counts a module's weights, biases and multiply-adds by hand, from the branch
widths: the reasoning of the paper's Sec. 4 (1x1 reductions before the expensive convolutions),
checked against the Flax module's parameters and against GoogLeNet's Table 1 in the tests.
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxdl.initializers import get_initializer
from jaxdl.models.registry import register_model


@dataclasses.dataclass(frozen=True)
class InceptionSpec:
  """Branch widths, as the columns of GoogLeNet's Table 1."""
  c1: int          # #1x1
  c3_reduce: int   # #3x3 reduce
  c3: int          # #3x3
  c5_reduce: int   # #5x5 reduce
  c5: int          # #5x5
  pool_proj: int   # pool proj

  def out_channels(self, in_channels: int, bottleneck: bool = True) -> int:
    return self.c1 + self.c3 + self.c5 + (self.pool_proj if bottleneck else in_channels)


# GoogLeNet's inception (3a): 28x28x192 in, 28x28x256 out; Table 1 lists 159K parameters, 128M ops.
INCEPTION_3A = InceptionSpec(c1=64, c3_reduce=96, c3=128, c5_reduce=16, c5=32, pool_proj=32)


def module_counts(in_channels: int, spec: InceptionSpec, height: int, width: int,
                  bottleneck: bool = True) -> dict[str, int]:
  """Weights, biases and multiply-adds of one module on an [height, width, in_channels] input."""
  convs = [(1, in_channels, spec.c1)]  # (kernel size, input channels, output channels)
  if bottleneck:
    convs += [(1, in_channels, spec.c3_reduce), (3, spec.c3_reduce, spec.c3),
              (1, in_channels, spec.c5_reduce), (5, spec.c5_reduce, spec.c5), (1, in_channels, spec.pool_proj)]
  else:
    convs += [(3, in_channels, spec.c3), (5, in_channels, spec.c5)]
  weights = sum(k * k * cin * cout for k, cin, cout in convs)
  biases = sum(cout for _, _, cout in convs)
  # 'SAME', stride 1: every conv computes its weights once per output position.
  return {"weights": weights, "biases": biases, "multiply_adds": weights * height * width}


class InceptionModule(nn.Module):
  spec: InceptionSpec
  bottleneck: bool = True
  kernel_init: str = "he_normal"

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    init = get_initializer(self.kernel_init)
    conv = lambda features, k, name: nn.Conv(features, (k, k), padding="SAME", kernel_init=init,  # noqa: E731
                                             name=name)
    s = self.spec
    branch1 = nn.relu(conv(s.c1, 1, "b1_1x1")(x))
    if self.bottleneck:
      branch3 = nn.relu(conv(s.c3, 3, "b3_3x3")(nn.relu(conv(s.c3_reduce, 1, "b3_reduce")(x))))
      branch5 = nn.relu(conv(s.c5, 5, "b5_5x5")(nn.relu(conv(s.c5_reduce, 1, "b5_reduce")(x))))
    else:
      branch3 = nn.relu(conv(s.c3, 3, "b3_3x3")(x))
      branch5 = nn.relu(conv(s.c5, 5, "b5_5x5")(x))
    pooled = nn.max_pool(x, (3, 3), strides=(1, 1), padding="SAME")
    if self.bottleneck:
      pooled = nn.relu(conv(s.pool_proj, 1, "pool_proj")(pooled))
    return jnp.concatenate([branch1, branch3, branch5, pooled], axis=-1)


@register_model("inception")
class InceptionNet(nn.Module):
  """A small inception net for 28x28 inputs: a 3x3 stem conv, inception modules (a 2x2 max pool
  after the first), global average pooling, a dense layer."""
  num_classes: int
  stem: int = 32
  modules: Sequence[Sequence[int]] = ((16, 16, 32, 4, 8, 8), (32, 32, 48, 8, 16, 16))  # InceptionSpec fields
  bottleneck: bool = True
  kernel_init: str = "he_normal"

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    del train
    init = get_initializer(self.kernel_init)
    h = nn.relu(nn.Conv(self.stem, (3, 3), padding="SAME", kernel_init=init, name="stem")(x))
    for i, widths in enumerate(self.modules):
      h = InceptionModule(InceptionSpec(*widths), self.bottleneck, self.kernel_init, name=f"inception{i}")(h)
      if i == 0:
        h = nn.max_pool(h, (2, 2), strides=(2, 2))
    return nn.Dense(self.num_classes, kernel_init=init, name="logits")(h.mean(axis=(1, 2)))
