"""A character-level language model: embedding, stacked recurrent layers (tanh | lstm | gru), a
softmax over the vocabulary at every position (Karpathy's char-rnn, on `lax.scan`).

x [B, T, 1] holds character ids as floats (a `DenseDataset` from `jaxdl.data.text`); the logits
are [B, T, V], position t predicting character t + 1, so `DensePredictionProgram` trains it with a
cross-entropy per position. Every window starts from a zero state: truncated back-propagation
through time over `seq_len` steps. `sample` draws text from a trained model with a temperature.
"""
from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxdl.errors import UserError
from jaxdl.initializers import get_initializer
from jaxdl.models.registry import register_model
from jaxdl.models.rnn import CELLS, recurrent_layer


@register_model("char_rnn")
class CharRNN(nn.Module):
  """Embedding -> `layers` recurrent layers of `hidden_size` -> logits over the vocabulary, per position."""
  num_classes: int  # the vocabulary size
  cell: str = "lstm"
  hidden_size: int = 128
  layers: int = 1
  embed_size: int = 32
  kernel_init: str = "glorot_uniform"
  recurrent_init: str = "orthogonal"
  forget_bias: float = 1.0  # LSTM only

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    """x: [B, T, 1] character ids (floats) -> logits [B, T, num_classes]."""
    del train
    if self.layers < 1:
      raise UserError(f"char_rnn: layers must be >= 1, got {self.layers}")
    h = nn.Embed(self.num_classes, self.embed_size, name="embed")(x[..., 0].astype(jnp.int32))
    for layer in range(self.layers):
      h = recurrent_layer(self, h, self.cell, self.hidden_size, self.kernel_init, self.recurrent_init,
                          self.forget_bias, prefix=f"layer{layer}_")
    return nn.Dense(self.num_classes, kernel_init=get_initializer(self.kernel_init), name="output")(h)


def parameter_count(vocab: int, cell: str, hidden_size: int, layers: int = 1, embed_size: int = 32) -> int:
  """CharRNN's parameter count, by hand: embedding, per layer input + recurrent kernels and bias, output."""
  gates = CELLS[cell].gates
  count, features = vocab * embed_size, embed_size
  for _ in range(layers):
    count += features * gates * hidden_size + gates * hidden_size * hidden_size + gates * hidden_size
    features = hidden_size
  return count + hidden_size * vocab + vocab


def sample(model: CharRNN, variables: dict, prompt: jax.Array, length: int, temperature: float,
           key: jax.Array) -> jax.Array:
  """`prompt` (int ids [P]) followed by `length` characters drawn one at a time from
  softmax(logits / temperature); a temperature near 0 picks the most likely character.

  Each draw reruns the model on the text so far in a fixed-length buffer (the model is causal, so
  the positions after the current one do not matter): quadratic in the length, one compiled loop,
  compiled once per (model, prompt length, length): the temperature is an input.
  """
  if temperature <= 0:
    raise UserError(f"temperature must be > 0, got {temperature}")
  buffer = jnp.zeros((prompt.shape[0] + length,), jnp.int32).at[:prompt.shape[0]].set(prompt.astype(jnp.int32))
  return _draw(model, variables, buffer, prompt.shape[0], jnp.float32(temperature), key)


@functools.partial(jax.jit, static_argnums=(0, 3))
def _draw(model: CharRNN, variables: dict, buffer: jax.Array, start: int, temperature: jax.Array,
          key: jax.Array) -> jax.Array:
  def draw(t, carry):
    text, key = carry
    key, sub = jax.random.split(key)
    logits = model.apply(variables, text.astype(jnp.float32)[None, :, None])[0, t - 1]
    return text.at[t].set(jax.random.categorical(sub, logits / temperature).astype(jnp.int32)), key

  text, _ = jax.lax.fori_loop(start, buffer.shape[0], draw, (buffer, key))
  return text
