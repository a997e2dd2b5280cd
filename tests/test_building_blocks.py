"""Initializers, models, optimizers and losses on tiny shapes, against closed forms."""
from __future__ import annotations

import math
import os
import subprocess
import sys

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from conftest import REPO
from jaxdl.initializers import INITIALIZERS, get_initializer
from jaxdl.losses import LOSSES, get_loss, multi_task_loss
from jaxdl.models import MODELS, build_model
from jaxdl.models.layers import max_pool
from jaxdl.optim import OPTIMIZERS, OptimConfig, apply_max_norm, build_optimizer, lr_shape
from jaxdl.registry import RegistryError

KEY = jax.random.PRNGKey(0)


@pytest.mark.parametrize("spec, expected_var", [
    ("normal", 1.0), ("normal:std=0.01", 1e-4), ("lecun_normal", 1 / 400),
    ("he_normal", 2 / 400), ("glorot_uniform", 2 / 700), ("glorot_normal", 2 / 700),
    ("standard_uniform", 1 / 1200)])
def test_initializer_variances(spec, expected_var):
  w = get_initializer(spec)(KEY, (400, 300), jnp.float32)
  assert float(jnp.var(w)) == pytest.approx(expected_var, rel=0.03)


def test_standard_uniform_bounds_and_conv_fan_in():
  w = get_initializer("standard_uniform")(KEY, (3, 3, 16, 32), jnp.float32)
  assert float(jnp.max(jnp.abs(w))) <= 1 / math.sqrt(3 * 3 * 16)
  he = get_initializer("he_normal")(KEY, (3, 3, 64, 64), jnp.float32)
  assert float(jnp.var(he)) == pytest.approx(2 / (9 * 64), rel=0.05)


def test_orthogonal_and_identity():
  q = get_initializer("orthogonal:gain=2.0")(KEY, (64, 64), jnp.float32)
  np.testing.assert_allclose(q.T @ q, 4 * np.eye(64), atol=1e-4)
  k = get_initializer("identity")(KEY, (3, 3, 4, 4), jnp.float32)
  x = jax.random.normal(KEY, (1, 5, 5, 4))
  y = jax.lax.conv_general_dilated(x, k, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
  np.testing.assert_allclose(y, x, atol=1e-6)


def test_unknown_initializer_and_argument_errors():
  with pytest.raises(RegistryError, match="he_normal"):
    get_initializer("kaiming")
  with pytest.raises(RegistryError, match="valid: std"):
    get_initializer("normal:sigma=2")
  assert {"normal", "lecun_normal", "glorot_uniform", "glorot_normal", "he_normal", "orthogonal",
          "standard_uniform"} <= set(INITIALIZERS.names())


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu", "softsign", "elu", "linear"])
def test_mlp_every_activation_and_tags(activation):
  model = build_model("mlp", 10, {"widths": (8, 8, 8), "activation": activation, "residual": True})
  x = jnp.ones((2, 4, 4, 1))
  params = model.init(KEY, x)["params"]
  logits, inter = model.apply({"params": params}, x, mutable=["intermediates"])
  assert logits.shape == (2, 10)
  assert sorted(inter["intermediates"]) == sorted(f"{k}{i}" for k in ("pre", "act") for i in range(3))


def test_cnn_shapes_2d_and_1d_and_registry():
  lenet = build_model("cnn", 10)  # Nielsen's: 28 -5+1 -> 24 -> pool 12 -> 8 -> pool 4: 40*4*4 = 640
  params = lenet.init(KEY, jnp.ones((1, 28, 28, 1)))["params"]
  assert params["dense0"]["kernel"].shape == (640, 100)
  conv1d = build_model("cnn", 10, {"conv_features": (5,), "kernel_size": 3, "pool": 2, "dense_widths": ()})
  out = conv1d.apply(conv1d.init(KEY, jnp.ones((2, 40, 1))), jnp.ones((2, 40, 1)))
  assert out.shape == (2, 10)
  assert {"mlp", "cnn"} <= set(MODELS.names())


def test_reshape_max_pool_matches_flax_max_pool():
  x = jax.random.normal(KEY, (2, 9, 8, 3))
  np.testing.assert_array_equal(max_pool(x, 2), nn.max_pool(x[:, :8], (2, 2), strides=(2, 2)))


def test_dropout_rate_may_be_traced_and_zero_is_identity():
  model = build_model("mlp", 3, {"widths": (64,)})
  x = jnp.ones((4, 5))
  params = model.init(KEY, x)["params"]

  def out(rate):
    m = build_model("mlp", 3, {"widths": (64,), "dropout_rate": rate})
    return m.apply({"params": params}, x, train=True, rngs={"dropout": KEY})

  np.testing.assert_allclose(jax.jit(out)(jnp.float32(0.0)), model.apply({"params": params}, x), rtol=1e-6)
  assert not np.allclose(jax.jit(out)(jnp.float32(0.5)), model.apply({"params": params}, x))


@pytest.mark.parametrize("name", OPTIMIZERS.names())
def test_every_optimizer_descends_a_quadratic(name):
  lr = {"adadelta": 1.0, "adagrad": 0.5}.get(name, 0.05)
  tx = build_optimizer(OptimConfig(name=name, lr=lr), steps_per_epoch=10, total_steps=100)
  params = {"w": jnp.array([3.0, -2.0])}
  state = tx.init(params)
  loss = lambda p: jnp.sum(p["w"] ** 2)  # noqa: E731
  for _ in range(100):
    updates, state = tx.update(jax.grad(loss)(params), state, params)
    params = optax.apply_updates(params, updates)
  # Adadelta starts slowly by design (its first steps are ~sqrt(eps)): 100 steps take it
  # from 13 to ~8.8; the others halve the loss easily.
  assert float(loss(params)) < 13.0 * (0.75 if name == "adadelta" else 0.5)


def test_penalties_clipping_and_max_norm():
  params = {"dense": {"kernel": jnp.array([[2.0, -1.0]]), "bias": jnp.array([5.0, 5.0])}}
  zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
  tx = build_optimizer(OptimConfig(name="sgd", lr=1.0, weight_decay=0.1, l1=0.01), 1, 1)
  updates, _ = tx.update(zeros, tx.init(params), params)
  # -lr * (wd * w + l1 * sign(w)) on kernels only; biases untouched.
  np.testing.assert_allclose(updates["dense"]["kernel"], [[-(0.2 + 0.01), -(-0.1 - 0.01)]], rtol=1e-6)
  np.testing.assert_allclose(updates["dense"]["bias"], [0.0, 0.0])
  clip = build_optimizer(OptimConfig(name="sgd", lr=1.0, clip_norm=1.0), 1, 1)
  big = jax.tree_util.tree_map(lambda p: 100 * jnp.ones_like(p), params)
  u, _ = clip.update(big, clip.init(params), params)
  assert float(optax.tree.norm(u)) == pytest.approx(1.0, rel=1e-5)
  w = {"k": jnp.array([[3.0, 0.1], [4.0, 0.1]])}  # unit 0's incoming norm is 5
  np.testing.assert_allclose(apply_max_norm(w, 2.0)["k"][:, 0], [1.2, 1.6], rtol=1e-6)
  np.testing.assert_allclose(apply_max_norm(w, 2.0)["k"][:, 1], [0.1, 0.1])


def test_schedules():
  step = lr_shape(OptimConfig(schedule="step", decay_epochs=(2, 4)), steps_per_epoch=10, total_steps=60)
  assert [float(step(s)) for s in (0, 19, 20, 39, 40)] == pytest.approx([1, 1, 0.1, 0.1, 0.01])
  cos = lr_shape(OptimConfig(schedule="cosine", warmup_epochs=1), steps_per_epoch=10, total_steps=100)
  assert float(cos(0)) == 0.0 and float(cos(10)) == pytest.approx(1.0) and float(cos(100)) < 1e-6


def test_losses_against_closed_forms():
  logits = jnp.array([[2.0, 0.0, -1.0]])
  y = jnp.array([0])
  ce = get_loss("softmax_cross_entropy")(logits, y, 3)
  np.testing.assert_allclose(ce, [-2.0 + np.log(np.exp(2) + 1 + np.exp(-1))], rtol=1e-6)
  np.testing.assert_allclose(get_loss("mse")(logits, y, 3), [0.5 * (1 + 0 + 1)], rtol=1e-6)
  bce = get_loss("binary_cross_entropy")(logits, y, 3)
  expected = np.log1p(np.exp(-2.0)) + np.log1p(np.exp(0.0)) + np.log1p(np.exp(-1.0))
  np.testing.assert_allclose(bce, [expected], rtol=1e-6)
  ml = get_loss("multi_label")(logits, jnp.array([[1.0, 0.0, 0.0]]), 3)
  np.testing.assert_allclose(ml, [expected / 3], rtol=1e-6)
  both = multi_task_loss({"a": logits, "b": logits}, {"a": y, "b": y},
                         {"a": ("softmax_cross_entropy", 1.0, 3), "b": ("mse", 0.5, 3)})
  np.testing.assert_allclose(both, ce + 0.5 * 1.0, rtol=1e-6)
  with pytest.raises(KeyError, match="c"):
    multi_task_loss({"a": logits}, {"a": y}, {"c": ("mse", 1.0, 3)})
  assert {"mse", "softmax_cross_entropy", "binary_cross_entropy", "multi_label"} <= set(LOSSES.names())


def test_vmapped_orthogonal_init_of_a_deep_net_does_not_hang():
  """XLA:CPU deadlocked on this (many QRs at once) until jaxdl.xla_cpu_flags.apply(); in a
  subprocess, so a regression fails on the timeout instead of hanging the suite."""
  code = ("import jax; from jaxdl import xla_cpu_flags; xla_cpu_flags.apply(); from jaxdl.train.config import TrainConfig; "
          "from jaxdl.train.steps import ReplicaProgram; from jaxdl.train.runner import CompiledReplicas; "
          "from jaxdl.train.trainer import replica_hparams; "
          "cfg = TrainConfig(model='mlp', model_options={'widths': (64,) * 22, 'kernel_init': 'orthogonal'}, "
          "seeds=(0, 1)); p = ReplicaProgram(cfg, 10, (28, 28, 1), 10); "
          "state = CompiledReplicas(p, 1280).init(replica_hparams(cfg)[1]); "
          "print('ok', float(jax.numpy.abs(state.params['dense3']['kernel']).sum()))")
  env = {**os.environ, "JAX_PLATFORMS": "cpu"}
  env["XLA_FLAGS"] = env.get("XLA_FLAGS", "").replace(
      "--xla_cpu_enable_concurrency_optimized_scheduler=false", "")
  proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True,
                        text=True, timeout=120)
  assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr[-2000:]
