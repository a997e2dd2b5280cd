"""Multi-layer perceptron with the knobs the classic studies turn.

Hidden layer i: Dense -> [BatchNorm] -> activation -> [+ residual] -> [dropout].
Batch norm sits before the nonlinearity, as in Ioffe & Szegedy 2015. A
residual connection adds the layer's input when widths match (every hidden
layer but the first of a constant-width net).
"""
from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax

from jaxdl.initializers import get_initializer
from jaxdl.models.layers import dropout, get_activation, tag_hidden
from jaxdl.models.registry import register_model


@register_model("mlp")
class MLP(nn.Module):
  """MLP: widths, activation, init, optional batch norm / dropout / residual, output bias init."""
  num_classes: int
  widths: Sequence[int] = (100,)
  activation: str = "relu"
  kernel_init: str = "he_normal"
  batch_norm: bool = False
  dropout_rate: float | jax.Array = 0.0
  input_dropout_rate: float | jax.Array = 0.0
  residual: bool = False
  # Every output unit's initial bias: 0 (Flax's zeros) by default; a large value starts sigmoid
  # outputs saturated (e.g. 10: every output s(z) ~ 1, so every wrong class is badly wrong).
  output_bias_init: float = 0.0

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    """x: [B, ...] (flattened) -> logits [B, num_classes]."""
    act_fn = get_activation(self.activation)
    init = get_initializer(self.kernel_init)
    h = x.reshape(x.shape[0], -1)
    h = dropout(self, h, self.input_dropout_rate, train)
    for i, width in enumerate(self.widths):
      z = nn.Dense(width, kernel_init=init, use_bias=not self.batch_norm, name=f"dense{i}")(h)
      if self.batch_norm:
        z = nn.BatchNorm(use_running_average=not train, momentum=0.9, name=f"bn{i}")(z)
      a = tag_hidden(self, i, z, act_fn)
      h = h + a if self.residual and h.shape == a.shape else a
      h = dropout(self, h, self.dropout_rate, train)
    return nn.Dense(self.num_classes, kernel_init=init, bias_init=nn.initializers.constant(self.output_bias_init),
                    name="logits")(h)


