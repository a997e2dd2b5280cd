"""The inception module: hand counts against GoogLeNet's Table 1 and against the Flax module's own
parameters, with and without the 1x1 bottlenecks; the small inception net trains."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.models.inception import INCEPTION_3A, InceptionModule, module_counts
from jaxdl.models import build_model


def _flax_counts(bottleneck: bool) -> tuple[int, int, tuple[int, ...]]:
  module = InceptionModule(INCEPTION_3A, bottleneck=bottleneck)
  x = jnp.zeros((1, 28, 28, 192))
  params = module.init(jax.random.PRNGKey(0), x)["params"]
  kernels = sum(int(np.prod(p["kernel"].shape)) for p in params.values())
  biases = sum(int(np.prod(p["bias"].shape)) for p in params.values())
  return kernels, biases, jax.eval_shape(lambda: module.apply({"params": params}, x)).shape


def test_inception_3a_matches_googlenet_table_1():
  counts = module_counts(192, INCEPTION_3A, 28, 28)
  # By hand: 192*64 + 192*96 + 9*96*128 + 192*16 + 25*16*32 + 192*32
  assert counts["weights"] == 12288 + 18432 + 110592 + 3072 + 12800 + 6144 == 163328
  # Table 1: "159K" parameters (K = 1024: 163,328 / 1024 = 159.5) and "128M" ops (multiply-adds).
  assert counts["weights"] // 1024 == 159
  assert round(counts["multiply_adds"] / 1e6) == 128
  assert INCEPTION_3A.out_channels(192) == 256


def test_the_bottlenecks_save_what_the_hand_count_says():
  naive = module_counts(192, INCEPTION_3A, 28, 28, bottleneck=False)
  assert naive["weights"] == 192 * 64 + 9 * 192 * 128 + 25 * 192 * 32 == 387072
  assert INCEPTION_3A.out_channels(192, bottleneck=False) == 64 + 128 + 32 + 192  # the pool passes 192 on
  assert naive["weights"] / module_counts(192, INCEPTION_3A, 28, 28)["weights"] == pytest.approx(2.37, abs=0.01)


@pytest.mark.parametrize("bottleneck", [True, False])
def test_the_flax_module_has_the_hand_counted_parameters(bottleneck):
  kernels, biases, shape = _flax_counts(bottleneck)
  counts = module_counts(192, INCEPTION_3A, 28, 28, bottleneck)
  assert (kernels, biases) == (counts["weights"], counts["biases"])
  assert shape == (1, 28, 28, INCEPTION_3A.out_channels(192, bottleneck))


def test_the_small_inception_net_runs_on_mnist_shapes():
  model = build_model("inception", num_classes=10)
  x = jnp.ones((2, 28, 28, 1))
  variables = model.init(jax.random.PRNGKey(0), x)
  logits = model.apply(variables, x)
  assert logits.shape == (2, 10) and bool(jnp.all(jnp.isfinite(logits)))


def test_a_dense_head_rewritten_as_convolutions_gives_the_same_outputs_and_slides():
  """The benchmark CNN (conv 5x5 + pool, conv 5x5 + pool, dense 100, logits) with its dense head as
  convolutions: identical logits on 28x28 inputs; on a 44x44 canvas, a 5x5 map whose entry (i, j) is
  the dense net on the 28x28 crop at (4i, 4j) (two 2x2 pools: a stride of 4 input pixels)."""
  from jaxdl.models.cnn import fully_convolutional
  dense = build_model("cnn", num_classes=10)
  conv = build_model("cnn", num_classes=10, overrides={"head": "conv", "head_window": 4})
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.normal(size=(3, 28, 28, 1)), jnp.float32)
  params = dense.init(jax.random.PRNGKey(0), x)["params"]
  converted = fully_convolutional(params, (4, 4, 40))
  same = conv.apply({"params": converted}, x)
  assert same.shape == (3, 1, 1, 10)
  np.testing.assert_allclose(same[:, 0, 0], dense.apply({"params": params}, x), rtol=1e-5, atol=1e-5)
  canvas = jnp.asarray(rng.normal(size=(1, 44, 44, 1)), jnp.float32)
  scores = conv.apply({"params": converted}, canvas)
  assert scores.shape == (1, 5, 5, 10)
  for i, j in ((0, 0), (2, 3), (4, 4)):
    crop = canvas[:, 4 * i:4 * i + 28, 4 * j:4 * j + 28]
    np.testing.assert_allclose(scores[:, i, j], dense.apply({"params": params}, crop), rtol=1e-5, atol=1e-5)
