"""Recurrent models on lax.scan: shapes, a hand-unrolled tanh RNN, the LSTM forget bias, dL/dh_t."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.models import build_model
from jaxdl.models.rnn import hidden_state_grad_norms


@pytest.mark.parametrize("cell", ["tanh", "lstm", "gru"])
def test_output_shape_and_finite(cell):
  model = build_model("rnn", 3, {"cell": cell, "hidden_size": 8})
  x = jax.random.normal(jax.random.PRNGKey(0), (4, 7, 2))
  variables = model.init(jax.random.PRNGKey(1), x)
  out = model.apply({"params": variables["params"]}, x)
  assert out.shape == (4, 3) and bool(jnp.all(jnp.isfinite(out)))


def test_tanh_rnn_matches_an_unrolled_loop():
  model = build_model("rnn", 1, {"cell": "tanh", "hidden_size": 5})
  x = jax.random.normal(jax.random.PRNGKey(0), (3, 6, 2))
  p = model.init(jax.random.PRNGKey(1), x)["params"]
  h = np.zeros((3, 5))
  for t in range(6):
    h = np.tanh(np.asarray(x[:, t]) @ p["input_kernel"] + h @ p["recurrent_kernel0"] + p["bias"])
  want = h @ p["output"]["kernel"] + p["output"]["bias"]
  np.testing.assert_allclose(model.apply({"params": p}, x), want, rtol=1e-4, atol=1e-5)


def test_lstm_forget_gate_bias():
  model = build_model("rnn", 1, {"cell": "lstm", "hidden_size": 4, "forget_bias": 2.5})
  bias = model.init(jax.random.PRNGKey(0), jnp.zeros((1, 3, 2)))["params"]["bias"]
  np.testing.assert_array_equal(bias, np.r_[np.zeros(4), np.full(4, 2.5), np.zeros(8)])


def test_hidden_state_grad_norm_closed_form_at_the_last_step():
  """With L = 0.5 (w.h_T + b - y)^2, dL/dh_T = (pred - y) w; earlier steps shrink for a small net."""
  model = build_model("rnn", 1, {"cell": "tanh", "hidden_size": 6, "recurrent_init": "normal:std=0.05"})
  x = jax.random.normal(jax.random.PRNGKey(0), (5, 12, 2))
  y = jax.random.normal(jax.random.PRNGKey(1), (5, 1))
  variables = {"params": model.init(jax.random.PRNGKey(2), x)["params"]}
  norms = np.asarray(hidden_state_grad_norms(model, variables, x, y))
  pred = np.asarray(model.apply(variables, x))
  w = np.asarray(variables["params"]["output"]["kernel"])[:, 0]
  assert norms.shape == (12,)
  np.testing.assert_allclose(norms[-1], np.mean(np.abs(pred - np.asarray(y))[:, 0]) * np.linalg.norm(w), rtol=1e-4)
  assert norms[0] < 1e-3 * norms[-1]  # contractive recurrence: the gradient vanishes back in time
