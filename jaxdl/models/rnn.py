"""Recurrent sequence models on `lax.scan`: tanh RNN, LSTM, GRU.

`rnn` reads a sequence x [B, T, F] with one recurrent layer and maps its last
hidden state h_T through a dense layer to num_classes outputs (logits, or
num_classes=1 real predictions for a regression such as the adding problem).

The input projection of every time step is one matmul before the scan; the
scan carries only the recurrent part. A cell is a pure function
`(weights, carry, projected input_t) -> (carry, h_t)` over the gates stacked
along the last axis.

Tags: the perturbation `hidden_states` [B, T, H] is added to h_t inside the
recurrence, so its gradient is the total dL/dh_t that flows back through time
(`hidden_state_grad_norms` reads it). h_T, the hidden layer that feeds the
output, goes through `tag_hidden` as layer 0 (identity activation: the cell's
own nonlinearities come before it).
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxdl.errors import UserError
from jaxdl.initializers import get_initializer
from jaxdl.losses import get_loss
from jaxdl.models.layers import tag_hidden
from jaxdl.models.registry import register_model


class CellSpec(NamedTuple):
  gates: int  # stacked pre-activations per unit
  step: Callable[[jax.Array, tuple, jax.Array], tuple[tuple, jax.Array]]
  carries: int  # 1: (h,); 2: (h, c)


def tanh_step(w_h: jax.Array, carry: tuple, xw: jax.Array) -> tuple[tuple, jax.Array]:
  """Elman RNN: h_t = tanh(x_t W_x + h_{t-1} W_h + b)."""
  h = jnp.tanh(xw + carry[0] @ w_h)
  return (h,), h


def lstm_step(w_h: jax.Array, carry: tuple, xw: jax.Array) -> tuple[tuple, jax.Array]:
  """LSTM with forget gate (Gers et al. 2000): gates i, f, g, o; c_t = f c + i g, h_t = o tanh(c_t)."""
  h, c = carry
  i, f, g, o = jnp.split(xw + h @ w_h, 4, axis=-1)
  c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
  h = jax.nn.sigmoid(o) * jnp.tanh(c)
  return (h, c), h


def gru_step(w_h: jax.Array, carry: tuple, xw: jax.Array) -> tuple[tuple, jax.Array]:
  """GRU (Cho et al. 2014): z, r gates; n = tanh(x W_n + (r h) W_hn); h_t = (1 - z) n + z h."""
  h = carry[0]
  hidden = h.shape[-1]
  xz, xr, xn = jnp.split(xw, 3, axis=-1)
  hz, hr = jnp.split(h @ w_h[:, :2 * hidden], 2, axis=-1)
  z, r = jax.nn.sigmoid(xz + hz), jax.nn.sigmoid(xr + hr)
  n = jnp.tanh(xn + (r * h) @ w_h[:, 2 * hidden:])
  h = (1.0 - z) * n + z * h
  return (h,), h


CELLS = {"tanh": CellSpec(1, tanh_step, 1), "lstm": CellSpec(4, lstm_step, 2), "gru": CellSpec(3, gru_step, 1)}


def recurrent_layer(module: nn.Module, x: jax.Array, cell: str, hidden_size: int, kernel_init: str,
                    recurrent_init: str, forget_bias: float, prefix: str = "",
                    perturbation: jax.Array | None = None) -> jax.Array:
  """One recurrent layer of `module` over x [B, T, F]: the hidden states [B, T, H].

  Its parameters are `<prefix>input_kernel`, `<prefix>recurrent_kernel<g>` (one square matrix per
  gate, so an orthogonal init is orthogonal per gate) and `<prefix>bias`. `perturbation` [B, T, H]
  (zeros) is added to h_t inside the recurrence, so its gradient is the total dL/dh_t.
  """
  if cell not in CELLS:
    raise UserError(f"rnn cell {cell!r}; valid: {', '.join(CELLS)}")
  spec = CELLS[cell]
  batch, steps, features = x.shape
  width = spec.gates * hidden_size
  w_x = module.param(f"{prefix}input_kernel", get_initializer(kernel_init), (features, width), jnp.float32)
  w_h = jnp.concatenate(
      [module.param(f"{prefix}recurrent_kernel{g}", get_initializer(recurrent_init),
                    (hidden_size, hidden_size), jnp.float32) for g in range(spec.gates)], axis=-1)
  bias_init = jnp.zeros((width,), jnp.float32)
  if cell == "lstm":
    bias_init = bias_init.at[hidden_size:2 * hidden_size].set(forget_bias)
  b = module.param(f"{prefix}bias", lambda _key, _shape: bias_init, (width,))
  xw = jnp.einsum("btf,fg->tbg", x, w_x) + b  # every step's input projection, before the scan
  eps = jnp.zeros((steps, batch, hidden_size), x.dtype) if perturbation is None else jnp.swapaxes(perturbation, 0, 1)

  def step(carry, inputs):
    xw_t, eps_t = inputs
    carry, h = spec.step(w_h, carry, xw_t)
    h = h + eps_t  # zero; its gradient is dL/dh_t
    return (h, *carry[1:]), h

  carry0 = tuple(jnp.zeros((batch, hidden_size), x.dtype) for _ in range(spec.carries))
  _, hs = jax.lax.scan(step, carry0, (xw, eps), unroll=1)
  return jnp.swapaxes(hs, 0, 1)


@register_model("rnn")
class RNN(nn.Module):
  """One recurrent layer (tanh | lstm | gru) over x [B, T, F], dense on the last hidden state."""
  num_classes: int
  cell: str = "lstm"
  hidden_size: int = 128
  kernel_init: str = "glorot_uniform"
  recurrent_init: str = "orthogonal"
  forget_bias: float = 1.0  # LSTM only: initial forget-gate bias (Gers et al.; 0 = none)

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    """x: [B, T, F] (or [B, T]: one feature) -> outputs [B, num_classes]."""
    del train
    if self.cell not in CELLS:
      raise UserError(f"rnn cell {self.cell!r}; valid: {', '.join(CELLS)}")
    if x.ndim == 2:
      x = x[..., None]
    batch = x.shape[0]
    eps = self.perturb("hidden_states", jnp.zeros((batch, x.shape[1], self.hidden_size), x.dtype))
    hs = recurrent_layer(self, x, self.cell, self.hidden_size, self.kernel_init, self.recurrent_init,
                         self.forget_bias, perturbation=eps)
    h_last = tag_hidden(self, 0, hs[:, -1], lambda z: z)
    return nn.Dense(self.num_classes, kernel_init=get_initializer(self.kernel_init), name="output")(h_last)


def hidden_state_grad_norms(model: nn.Module, variables: dict, x: jax.Array, y: jax.Array,
                            loss: str = "mse") -> jax.Array:
  """||dL/dh_t||_2 for t = 1..T, averaged over the batch: [T].

  L is the mean per-example loss over the batch; each example's norm is taken
  over its hidden units, so the value is that of one example's loss gradient
  (times 1/B, removed here).
  """
  params_only = {k: v for k, v in variables.items() if k != "perturbations"}
  batch, steps = x.shape[:2]
  zeros = {"hidden_states": jnp.zeros((batch, steps, model.hidden_size), jnp.float32),
           "pre0": jnp.zeros((batch, model.hidden_size), jnp.float32)}
  loss_fn = get_loss(loss)

  def total_loss(perturb):
    out = model.apply({**params_only, "perturbations": perturb}, x, train=False)
    return jnp.mean(loss_fn(out, y, model.num_classes))

  grads = jax.grad(total_loss)(zeros)["hidden_states"] * batch
  return jnp.mean(jnp.linalg.norm(grads, axis=-1), axis=0)
