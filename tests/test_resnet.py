"""The CIFAR-style ResNet of He et al. 2016: parameter counts, shapes, option-A shortcuts."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.models import build_model
from jaxdl.models.resnet import blocks_per_stage, option_a_shortcut


def _init(depth, plain, shape, shapes_only=False):
  """The model and its variables (or only their shapes: no compute, fast for deep nets)."""
  model = build_model("resnet", 10, {"depth": depth, "plain": plain})
  init = jax.eval_shape if shapes_only else lambda f, *a: f(*a)
  return model, init(model.init, jax.random.PRNGKey(0), jnp.zeros((1, *shape)))


def _count(tree):
  return sum(x.size for x in jax.tree_util.tree_leaves(tree))


@pytest.mark.parametrize("depth,paper_params", [(20, 0.27e6), (56, 0.85e6)])
def test_parameter_count_matches_the_paper_on_cifar_input(depth, paper_params):
  """Table 6: ResNet-20 0.27M, ResNet-56 0.85M parameters; the plain twin has exactly as many."""
  residual = _count(_init(depth, False, (32, 32, 3), shapes_only=True)[1]["params"])
  plain = _count(_init(depth, True, (32, 32, 3), shapes_only=True)[1]["params"])
  assert abs(residual - paper_params) / paper_params < 0.01
  assert plain == residual


def test_mnist_shapes_and_one_tag_per_conv():
  model, variables = _init(20, False, (28, 28, 1), shapes_only=True)
  x = jax.ShapeDtypeStruct((3, 28, 28, 1), jnp.float32)
  logits, state = jax.eval_shape(lambda v, xs: model.apply(v, xs, train=False, mutable=["intermediates"]),
                                 variables, x)
  assert logits.shape == (3, 10)
  pre = sorted(k for k in state["intermediates"] if k.startswith("pre"))
  assert len(pre) == 19  # 1 + 6n convs, n = 3
  assert state["intermediates"]["pre18"][0].shape == (3, 7, 7, 64)  # 28 -> 14 -> 7


def test_shortcuts_change_the_function_and_plain_removes_them():
  res, variables = _init(8, False, (28, 28, 1))
  plain = build_model("resnet", 10, {"depth": 8, "plain": True})
  x = jax.random.uniform(jax.random.PRNGKey(2), (2, 28, 28, 1))
  assert not np.allclose(jax.jit(res.apply)(variables, x), jax.jit(plain.apply)(variables, x), atol=1e-5)


def test_option_a_shortcut_subsamples_and_zero_pads():
  x = jax.random.normal(jax.random.PRNGKey(3), (2, 6, 6, 16))
  y = option_a_shortcut(x, 32, 2)
  assert y.shape == (2, 3, 3, 32)
  np.testing.assert_array_equal(y[..., :16], x[:, ::2, ::2, :])
  assert float(jnp.max(jnp.abs(y[..., 16:]))) == 0.0
  np.testing.assert_array_equal(option_a_shortcut(x, 16, 1), x)


def test_depth_must_be_6n_plus_2():
  assert [blocks_per_stage(d) for d in (20, 32, 44, 56, 110)] == [3, 5, 7, 9, 18]
  with pytest.raises(ValueError, match="6n\\+2"):
    blocks_per_stage(21)
