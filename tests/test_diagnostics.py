"""jaxdl.diagnostics: layer order and kernels, and statistics with known closed forms."""
from __future__ import annotations

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl import diagnostics
from jaxdl.data import Dataset
from jaxdl.models import build_model
from jaxdl.models.layers import tag_hidden
from jaxdl.optim import OptimConfig
from jaxdl.train import TrainConfig, train_and_evaluate


def _gaussian_batch(n: int, dim: int, seed: int = 1) -> tuple[jax.Array, jax.Array]:
  x = jax.random.normal(jax.random.PRNGKey(seed), (n, dim))
  return x, jnp.arange(n, dtype=jnp.int32) % 10


def _mlp(width: int, depth: int, activation: str, init: str, seed: int = 0, **options):
  model = build_model("mlp", 10, {"widths": (width,) * depth, "activation": activation,
                                  "kernel_init": init, **options})
  return model, jax.jit(model.init)(jax.random.PRNGKey(seed), jnp.zeros((1, width)))


class _Block(nn.Module):
  """A submodule that tags its own hidden layer: tags need not live in the top module."""
  index: int

  @nn.compact
  def __call__(self, x):
    return tag_hidden(self, self.index, nn.Dense(6, name="inner")(x), jax.nn.tanh)


class _Nested(nn.Module):
  num_classes: int = 3
  activation: str = "tanh"

  @nn.compact
  def __call__(self, x, train: bool = False):
    x = _Block(0, name="zz_first")(x)  # named to sort AFTER "mid": the order must not come from names
    x = tag_hidden(self, 1, nn.Dense(6, name="mid")(x), jax.nn.tanh)
    x = _Block(2, name="aa_last")(x)
    return nn.Dense(self.num_classes, name="out")(x)


def test_layers_and_kernels_in_forward_order():
  mlp, mlp_vars = _mlp(8, 3, "relu", "he_normal")
  layers = diagnostics.tagged_layers(mlp, mlp_vars, jnp.ones((2, 8)))
  assert [l.name for l in layers] == ["0", "1", "2"]
  assert [l.kernels for l in layers] == [((f"dense{i}", "kernel"),) for i in range(3)]

  cnn = build_model("cnn", 10, {"conv_features": (3, 4), "kernel_size": 3, "dense_widths": (5,)})
  x = jnp.ones((2, 12, 12, 1))
  layers = diagnostics.tagged_layers(cnn, jax.jit(cnn.init)(jax.random.PRNGKey(0), x), x)
  assert [l.kernels for l in layers] == [(("conv0", "kernel"),), (("conv1", "kernel"),),
                                         (("dense0", "kernel"),)]

  nested = _Nested()
  x = jnp.ones((2, 5))
  layers = diagnostics.tagged_layers(nested, jax.jit(nested.init)(jax.random.PRNGKey(0), x), x)
  assert [l.name for l in layers] == ["zz_first/0", "1", "aa_last/2"]
  assert [l.kernels for l in layers] == [(("zz_first", "inner", "kernel"),), (("mid", "kernel"),),
                                         (("aa_last", "inner", "kernel"),)]


def test_gradients_match_a_hand_written_backward_pass():
  """One hidden ReLU layer: dL/dpre = ((softmax - onehot) W_out^T) * 1[pre > 0], per example."""
  model, variables = _mlp(16, 1, "relu", "he_normal")
  x, y = _gaussian_batch(32, 16)
  stats = diagnostics.layer_statistics(model, variables, x, y)
  p = variables["params"]
  pre = x @ p["dense0"]["kernel"] + p["dense0"]["bias"]
  logits = jax.nn.relu(pre) @ p["logits"]["kernel"] + p["logits"]["bias"]
  g_logits = jax.nn.softmax(logits) - jax.nn.one_hot(y, 10)
  g_pre = (g_logits @ p["logits"]["kernel"].T) * (pre > 0)
  np.testing.assert_allclose(stats["preact_grad_std"][0], jnp.std(g_pre), rtol=1e-5)
  np.testing.assert_allclose(stats["preact_grad_norm"][0],
                             jnp.sqrt(jnp.mean(jnp.sum(g_pre ** 2, axis=1))), rtol=1e-5)
  g_kernel = x.T @ g_pre / len(x)  # gradient of the batch-mean loss
  np.testing.assert_allclose(stats["kernel_grad_norm"][0], jnp.linalg.norm(g_kernel), rtol=1e-5)
  np.testing.assert_allclose(stats["act_std"][0], jnp.std(jax.nn.relu(pre)), rtol=1e-5)


def test_orthogonal_linear_net_preserves_norms_exactly():
  """Saxe et al.: a deep linear net with orthogonal square weights is an isometry.

  Every layer's Jacobian is orthogonal (all singular values 1), and the
  back-propagated gradient keeps its norm through every layer.
  """
  width, depth = 24, 4
  model, variables = _mlp(width, depth, "linear", "orthogonal")
  x, y = _gaussian_batch(16, width)
  layers = diagnostics.tagged_layers(model, variables, x)
  for values in diagnostics.jacobian_singular_values(model, variables, x, num_examples=3, layers=layers):
    assert values.shape == (3 * width,)
    np.testing.assert_allclose(values, 1.0, atol=1e-5)
  stats = diagnostics.layer_statistics(model, variables, x, y, layers=layers)
  np.testing.assert_allclose(stats["preact_grad_norm"], stats["preact_grad_norm"][-1], rtol=1e-5)
  # Forward: each example's norm is kept, so the mean square over the batch is too.
  np.testing.assert_allclose(stats["act_std"] ** 2 + stats["act_mean"] ** 2,
                             float(jnp.mean(x ** 2)), rtol=1e-4)


def test_gaussian_linear_net_keeps_forward_and_backward_variance():
  """Linear layers with Var[W] = 1/n (n_in = n_out = n): Var[act] and Var[dL/dpre] constant."""
  model, variables = _mlp(256, 6, "linear", "lecun_normal", seed=3)
  x, y = _gaussian_batch(128, 256)
  stats = diagnostics.layer_statistics(model, variables, x, y)
  np.testing.assert_allclose(stats["act_std"], 1.0, rtol=0.05)
  np.testing.assert_allclose(stats["preact_grad_std"] / stats["preact_grad_std"][-1], 1.0, rtol=0.05)


def test_relu_he_keeps_variance_and_lecun_halves_it_per_layer():
  """He et al. 2015: Var[pre_l] = (n Var[w] / 2) Var[pre_{l-1}] in a ReLU net.

  He (n Var[w] = 2): constant. LeCun/"Xavier" (n Var[w] = 1): std times
  1/sqrt(2) per layer, so 2^(-L/2) of He's after L more layers.
  """
  width, depth = 256, 12
  # 512 examples span all 256 directions; a batch of 128 spans half, and the
  # per-layer gain then fluctuates by ~sqrt(2/128) (a random walk over layers).
  x, y = _gaussian_batch(512, width)
  std = {}
  for init, seed in [("he_normal", 5), ("lecun_normal", 6)]:  # different draws: not a rescaled copy
    model, variables = _mlp(width, depth, "relu", init, seed=seed)
    std[init] = diagnostics.layer_statistics(model, variables, x, y)["preact_std"]
  layers = np.arange(depth)
  np.testing.assert_allclose(std["he_normal"] / std["he_normal"][0], 1.0, rtol=0.15)
  np.testing.assert_allclose(std["lecun_normal"] / std["lecun_normal"][0], 2.0 ** (-layers / 2), rtol=0.15)


def test_saturated_and_dead_fractions():
  x = jax.random.uniform(jax.random.PRNGKey(0), (32, 4), minval=0.1, maxval=1.0)
  y = jnp.zeros(32, jnp.int32)
  model, variables = _mlp(4, 1, "relu", "he_normal")
  kernel = jnp.array([[-1.0, 1.0, 1.0, 1.0]] * 4)  # positive inputs: unit 0 always off
  variables = {"params": {**variables["params"], "dense0": {"kernel": kernel, "bias": jnp.zeros(4)}}}
  stats = diagnostics.layer_statistics(model, variables, x, y)
  assert stats["dead_frac"][0] == pytest.approx(0.25)
  assert np.isnan(stats["saturated_frac"][0])

  sigmoid = dataclasses.replace(model, activation="sigmoid")
  big = {"params": {**variables["params"], "dense0": {"kernel": 100.0 * kernel, "bias": jnp.zeros(4)}}}
  stats = diagnostics.layer_statistics(sigmoid, big, x, y)
  assert stats["saturated_frac"][0] == pytest.approx(1.0)  # |pre| >= 40: every unit at 0 or 1
  assert np.isnan(stats["dead_frac"][0])
  stats = diagnostics.layer_statistics(sigmoid, variables, 0.01 * x, y)
  assert stats["saturated_frac"][0] == 0.0  # |pre| <= 0.04: every unit near 0.5


def test_batch_norm_statistics_are_the_training_pass():
  """At init, train mode normalizes each unit over the batch; eval mode (running 0/1) does not."""
  model, variables = _mlp(32, 3, "relu", "normal:std=1", batch_norm=True)
  x, y = _gaussian_batch(64, 32)
  train = diagnostics.layer_statistics(model, variables, x, y)
  np.testing.assert_allclose(train["preact_std"], 1.0, rtol=1e-3)
  np.testing.assert_allclose(train["preact_mean"], 0.0, atol=1e-5)
  evaluation = diagnostics.layer_statistics(model, variables, x, y, train=False)
  assert evaluation["preact_std"][0] > 3.0  # N(0,1) weights, 32 inputs: std ~ sqrt(32)


def test_sigmoid_jacobian_is_derivative_times_kernel():
  """For a dense sigmoid layer J_i = diag(sigma'(pre_i)) W_i^T: compare with numpy's SVD."""
  model, variables = _mlp(10, 2, "sigmoid", "glorot_uniform")
  x, _ = _gaussian_batch(2, 10)
  values = diagnostics.jacobian_singular_values(model, variables, x, num_examples=2)
  p = variables["params"]
  h0 = jax.nn.sigmoid(x @ p["dense0"]["kernel"] + p["dense0"]["bias"])
  pre1 = h0 @ p["dense1"]["kernel"] + p["dense1"]["bias"]
  s1 = jax.nn.sigmoid(pre1)
  expected = np.concatenate([np.linalg.svd(np.asarray((s1[n] * (1 - s1[n]))[:, None] * p["dense1"]["kernel"].T),
                                           compute_uv=False) for n in range(2)])
  np.testing.assert_allclose(values[1], expected, rtol=1e-4)


def test_logger_matches_layer_statistics_per_replica():
  """The epoch hook's [K, L] arrays: row k is replica k's layer_statistics on the fixed batch
  (checked for k = 1, so the replica axis is not just replica 0's)."""
  rng = np.random.default_rng(0)
  x = rng.normal(size=(64, 6, 6, 1)).astype(np.float32)
  labels = rng.integers(0, 3, 64).astype(np.int32)
  empty_x, empty_y = np.zeros((0, 6, 6, 1), np.float32), np.zeros((0,), np.int32)
  data = Dataset("tiny", x, labels, empty_x, empty_y, x[:16], labels[:16], 3, None)
  cfg = TrainConfig(dataset="synthetic", model="mlp", model_options={"widths": (8, 8), "activation": "tanh"},
                    optim=OptimConfig(name="sgd", lr=0.1), batch_size=16, epochs=1, seeds=(0, 1))
  hook = diagnostics.diagnostic_logger(x[:16], labels[:16])
  result = train_and_evaluate(cfg, data=data, echo=lambda _: None, epoch_hook=hook)
  first, last = result.history[0], result.history[-1]
  assert first["diag_kernel_grad_norm"].shape == (2, 2)
  assert not np.allclose(first["diag_act_std"], last["diag_act_std"])  # training moved the weights
  stats = diagnostics.layer_statistics(result.model(1), result.variables(1), x[:16], labels[:16])
  for name in ("act_std", "preact_grad_std", "kernel_grad_norm", "saturated_frac"):
    np.testing.assert_allclose(last[f"diag_{name}"][1], stats[name], rtol=1e-4)
