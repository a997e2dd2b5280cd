"""Saliency, guided back-propagation and occlusion on nets small enough to compute by hand."""
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl import saliency
from jaxdl.errors import UserError
from jaxdl.models import build_model
from jaxdl.models.layers import get_activation


class TinyNet(nn.Module):
  """x [N, 1, 1, 2] -> dense 2 -> activation -> dense 2 (two class scores)."""
  activation: str = "relu"

  @nn.compact
  def __call__(self, x, train=False):
    h = get_activation(self.activation)(nn.Dense(2, name="hidden")(x.reshape(x.shape[0], -1)))
    return nn.Dense(2, use_bias=False, name="out")(h)


W1 = np.array([[1.0, -2.0], [3.0, 1.0]], np.float32)   # [in, hidden]
B1 = np.array([0.5, 0.5], np.float32)
W2 = np.array([[2.0, 0.0], [-1.0, 1.0]], np.float32)   # [hidden, class]
VARIABLES = {"params": {"hidden": {"kernel": jnp.asarray(W1), "bias": jnp.asarray(B1)},
                        "out": {"kernel": jnp.asarray(W2)}}}
X = jnp.asarray([[[[1.0, 1.0]]]])  # hidden pre-activations: 1 + 3 + 0.5 = 4.5 and -2 + 1 + 0.5 = -0.5


def test_saliency_is_the_class_score_gradient_by_hand():
  # class 0: score = 2 relu(z0) - relu(z1); z1 < 0, so only unit 0 passes: d/dx = 2 * W1[:, 0]
  grad = saliency.class_score_gradient(TinyNet(), VARIABLES, X, jnp.asarray([0]))
  np.testing.assert_allclose(np.asarray(grad).reshape(2), 2 * W1[:, 0])
  np.testing.assert_allclose(np.asarray(saliency.saliency_map(TinyNet(), VARIABLES, X, jnp.asarray([0]))),
                             [[[6.0]]])


def test_guided_backpropagation_by_hand():
  x = jnp.asarray([[[[1.0, 3.0]]]])  # both hidden units on: z0 = 1 + 9 + 0.5 = 10.5, z1 = -2 + 3 + 0.5 = 1.5
  # class 0's gradient reaching the hidden units is W2[:, 0] = (2, -1): plain back-propagation passes
  # both (both units are on), guided back-propagation drops the negative one at the ReLU.
  plain = saliency.class_score_gradient(TinyNet(), VARIABLES, x, jnp.asarray([0]))
  guided = saliency.class_score_gradient(TinyNet("guided_relu"), VARIABLES, x, jnp.asarray([0]))
  np.testing.assert_allclose(np.asarray(plain).reshape(2), 2 * W1[:, 0] - 1 * W1[:, 1])
  np.testing.assert_allclose(np.asarray(guided).reshape(2), 2 * W1[:, 0])
  # the forward pass is ReLU's
  np.testing.assert_allclose(TinyNet("guided_relu").apply(VARIABLES, x), TinyNet().apply(VARIABLES, x))


def test_guided_replaces_the_relus_of_a_registered_net_and_refuses_others():
  model = build_model("cnn", num_classes=10, overrides={"conv_features": (4,), "dense_widths": (8,)})
  x = jnp.asarray(np.random.default_rng(0).normal(size=(2, 28, 28, 1)), jnp.float32)
  variables = model.init(jax.random.PRNGKey(0), x)
  guided = saliency.guided(model)
  np.testing.assert_allclose(guided.apply(variables, x), model.apply(variables, x), rtol=1e-6)
  g = saliency.class_score_gradient(guided, variables, x, jnp.asarray([1, 2]))
  assert g.shape == x.shape and bool(jnp.all(jnp.isfinite(g)))
  with pytest.raises(UserError, match="needs a ReLU net"):
    saliency.guided(build_model("mlp", num_classes=10, overrides={"activation": "tanh"}))


def test_occlusion_drop_is_the_probability_lost_per_patch():
  class Corner(nn.Module):  # class 1's logit is 10 x the top-left pixel: only that patch matters
    @nn.compact
    def __call__(self, x, train=False):
      return jnp.stack([jnp.zeros(x.shape[0]), 10 * x[:, 0, 0, 0]], axis=1)

  x = np.ones((1, 4, 4, 1), np.float32)
  drop = saliency.occlusion_drop(Corner(), {}, x, np.array([1]), patch=2, stride=2)
  p = 1 / (1 + np.exp(-10.0))  # softmax of (0, 10)
  assert drop.shape == (1, 2, 2)
  np.testing.assert_allclose(drop[0], [[p - 0.5, 0.0], [0.0, 0.0]], atol=1e-6)
