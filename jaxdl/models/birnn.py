"""A bidirectional recurrent classifier that reads every hidden state (Greydanus 2020's MNIST-1D GRU).

`birnn` runs one recurrent layer (the cells of `jaxdl.models.rnn`: tanh, lstm,
gru) forward and one backward over x [B, T, F], concatenates the two hidden
states of every step, flattens them over time ([B, T * 2H]) and maps them
through a dense layer: Greydanus's `GRUBase` (hidden 6, bidirectional, 40
steps -> Linear(480 -> 10)). The two directions run in one scan, vmapped over
a direction axis, so the sequential depth is T steps, not 2T.
"""
from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxdl.errors import UserError
from jaxdl.initializers import get_initializer
from jaxdl.models.layers import tag_hidden
from jaxdl.models.registry import register_model
from jaxdl.models.rnn import CELLS

DIRECTIONS = 2  # forward, backward


@register_model("birnn")
class BidirectionalRNN(nn.Module):
  """Bidirectional recurrent layer (tanh | lstm | gru), all hidden states flattened, then dense."""
  num_classes: int
  cell: str = "gru"
  hidden_size: int = 6
  kernel_init: str = "glorot_uniform"
  recurrent_init: str = "orthogonal"

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    """x: [B, T, F] (or [B, T]: one feature) -> logits [B, num_classes]."""
    del train
    if self.cell not in CELLS:
      raise UserError(f"birnn cell {self.cell!r}; valid: {', '.join(CELLS)}")
    spec = CELLS[self.cell]
    if x.ndim == 2:
      x = x[..., None]
    batch, steps, features = x.shape
    hidden, width = self.hidden_size, spec.gates * self.hidden_size
    kernel_init, recurrent_init = get_initializer(self.kernel_init), get_initializer(self.recurrent_init)
    # Per direction: an input kernel, one square recurrent matrix per gate (orthogonal per gate), a bias.
    w_x = jnp.stack([self.param(f"input_kernel{d}", kernel_init, (features, width), jnp.float32)
                     for d in range(DIRECTIONS)])
    w_h = jnp.stack([jnp.concatenate([self.param(f"recurrent_kernel{d}_{g}", recurrent_init, (hidden, hidden),
                                                 jnp.float32) for g in range(spec.gates)], axis=-1)
                     for d in range(DIRECTIONS)])
    b = self.param("bias", nn.initializers.zeros, (DIRECTIONS, width), jnp.float32)
    # The backward direction reads the sequence reversed: inputs [T, 2, B, F].
    xs = jnp.stack([x, x[:, ::-1]], axis=0).transpose(2, 0, 1, 3)
    xw = jnp.einsum("tdbf,dfg->tdbg", xs, w_x) + b[None, :, None]
    step = jax.vmap(spec.step)  # over the direction axis of w_h, the carry and the inputs
    carry0 = tuple(jnp.zeros((DIRECTIONS, batch, hidden), x.dtype) for _ in range(spec.carries))
    _, hs = jax.lax.scan(lambda carry, xw_t: step(w_h, carry, xw_t), carry0, xw)  # [T, 2, B, H]
    forward, backward = hs[:, 0], hs[::-1, 1]  # the backward states back in time order
    states = jnp.concatenate([forward, backward], axis=-1).transpose(1, 0, 2)  # [B, T, 2H]
    flat = tag_hidden(self, 0, states.reshape(batch, steps * DIRECTIONS * hidden), lambda z: z)
    return nn.Dense(self.num_classes, kernel_init=kernel_init, name="output")(flat)
