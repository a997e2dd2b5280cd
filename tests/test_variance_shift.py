"""Batch norm's variance shift and test-mode statistics (jaxdl.variance_shift)."""
import jax
import numpy as np

from jaxdl.models import build_model
from jaxdl.variance_shift import bn_inputs, recompute_bn_statistics, variance_shift


def _net():
  model = build_model("mlp", 3, {"widths": (5, 4), "batch_norm": True, "activation": "tanh"})
  x = jax.random.normal(jax.random.PRNGKey(0), (64, 6))
  return model, model.init(jax.random.PRNGKey(1), x[:1], train=False), x


def test_bn_inputs_are_what_each_batch_norm_receives():
  model, variables, x = _net()
  inputs = bn_inputs(model, variables, x, batch_size=16)
  assert list(inputs) == [("bn0",), ("bn1",)]
  # bn0's input is the first dense layer (no bias under BN) applied to x.
  expected = np.asarray(x @ variables["params"]["dense0"]["kernel"])
  np.testing.assert_allclose(inputs[("bn0",)], expected, rtol=1e-5, atol=1e-5)
  assert inputs[("bn1",)].shape == (64, 4)


def test_ratio_is_running_var_over_test_var():
  model, variables, x = _net()
  fixed = recompute_bn_statistics(model, variables, x)
  for layer, stats in variance_shift(model, fixed, x).items():
    np.testing.assert_allclose(stats["mean_ratio"], 1.0, rtol=1e-4, err_msg=layer)
  # Running variances 4x the true ones: every unit's ratio is 4.
  scaled = jax.tree_util.tree_map(lambda v: v, fixed)
  for layer in ("bn0", "bn1"):
    scaled["batch_stats"][layer]["var"] = 4.0 * fixed["batch_stats"][layer]["var"]
  shift = variance_shift(model, scaled, x)
  np.testing.assert_allclose(shift["bn0"]["min_ratio"], 4.0, rtol=1e-4)
  np.testing.assert_allclose(shift["bn0"]["max_ratio"], 4.0, rtol=1e-4)


def test_recomputed_statistics_are_the_population_ones_layer_by_layer():
  model, variables, x = _net()  # initial running stats (mean 0, var 1) are wrong for x
  fixed = recompute_bn_statistics(model, variables, x)
  inputs = bn_inputs(model, fixed, x)
  for path, values in inputs.items():
    stats = fixed["batch_stats"][path[0]]
    np.testing.assert_allclose(stats["mean"], values.mean(0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(stats["var"], values.var(0), rtol=1e-4, atol=1e-6)
  assert not np.allclose(variables["batch_stats"]["bn1"]["var"], fixed["batch_stats"]["bn1"]["var"])
