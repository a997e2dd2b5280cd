"""Maxout MLP (Goodfellow et al. 2013), the network of Goodfellow et al. 2015's MNIST results.

Hidden layer i: Dense(width * pieces) -> reshape [B, width, pieces] -> max over
pieces -> [dropout]. The tagged pre-activation is the [B, width, pieces]
tensor and the "activation" is the max over its last axis, so the
diagnostics see every piece (and d loss / d piece, nonzero only for the
winning piece) and the unit's output [B, width].
"""
from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax

from jaxdl.initializers import get_initializer
from jaxdl.models.layers import dropout, tag_hidden
from jaxdl.models.registry import register_model


def maxout(pieces: jax.Array) -> jax.Array:
  """[..., width, k] -> [..., width]: each unit's largest piece."""
  return pieces.max(axis=-1)


@register_model("maxout")
class MaxoutMLP(nn.Module):
  """Maxout MLP: widths units per layer, each the max of `pieces` linear pieces."""
  num_classes: int
  widths: Sequence[int] = (240, 240)
  pieces: int = 5
  kernel_init: str = "glorot_uniform"
  dropout_rate: float | jax.Array = 0.0
  input_dropout_rate: float | jax.Array = 0.0

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    """x: [B, ...] (flattened) -> logits [B, num_classes]."""
    init = get_initializer(self.kernel_init)
    h = dropout(self, x.reshape(x.shape[0], -1), self.input_dropout_rate, train)
    for i, width in enumerate(self.widths):
      z = nn.Dense(width * self.pieces, kernel_init=init, name=f"dense{i}")(h)
      h = tag_hidden(self, i, z.reshape(z.shape[0], width, self.pieces), maxout)
      h = dropout(self, h, self.dropout_rate, train)
    return nn.Dense(self.num_classes, kernel_init=init, name="logits")(h)
