"""Tests of the dilated models, the MNIST-1D generator and the dilated_convs study."""
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments import dilated_convs
from jaxdl.data import load_dataset
from jaxdl.models import build_model


@pytest.mark.parametrize("shape, head, out", [
    ((2, 40, 1), "global_pool", (2, 10)),
    ((2, 40, 1), "flatten", (2, 10)),
    ((2, 40, 1), "per_position", (2, 40, 10)),
    ((2, 12, 12, 3), "global_pool", (2, 10)),
    ((2, 12, 12, 3), "per_position", (2, 12, 12, 10)),
])
def test_dilated_output_shapes_and_tags(shape, head, out):
  model = build_model("dilated", 10, {"dilations": (1, 2, 4), "width": 5, "head": head})
  x = jnp.ones(shape)
  variables = model.init(jax.random.PRNGKey(0), x)
  y, state = model.apply(variables, x, mutable=["intermediates"])
  assert y.shape == out
  tags = state["intermediates"]
  assert sorted(k for k in tags if k.startswith("pre")) == ["pre0", "pre1", "pre2"]
  assert tags["pre2"][0].shape == (*shape[:-1], 5)  # SAME padding keeps the length


def test_paper_cnn_shapes_and_parameter_count():
  # Greydanus's CNN: lengths 40 -> 19 -> 10 -> 5, 25 channels, Linear(125 -> 10).
  model = build_model("dilated", 10, dilated_convs.PAPER_CNN)
  variables = model.init(jax.random.PRNGKey(0), jnp.ones((1, 40, 1)))
  _, state = model.apply(variables, jnp.ones((1, 40, 1)), mutable=["intermediates"])
  assert [state["intermediates"][f"pre{i}"][0].shape[1] for i in range(3)] == [19, 10, 5]
  n = sum(x.size for x in jax.tree_util.tree_leaves(variables["params"]))
  assert n == (5 * 25 + 25) + 2 * (3 * 25 * 25 + 25) + (125 * 10 + 10)


def test_identity_initialized_context_module_is_the_identity():
  model = build_model("context_module", 10, {"front_widths": (4,), "width": 4, "pool": 1,
                                             "context_dilations": (1, 2, 4)})
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 16, 16, 1))
  variables = model.init(jax.random.PRNGKey(1), x)
  _, state = model.apply(variables, x, mutable=["intermediates"])
  tags = state["intermediates"]
  front = tags["act0"][0]
  assert float(jnp.abs(front).max()) > 0
  for i in range(1, 5):  # 3 dilated 3x3 layers and the final 1x1
    np.testing.assert_allclose(tags[f"act{i}"][0], front, atol=1e-6)


def test_context_module_rejects_width_mismatch():
  model = build_model("context_module", 10, {"front_widths": (8,), "width": 4})
  with pytest.raises(ValueError, match="front_widths"):
    model.init(jax.random.PRNGKey(0), jnp.ones((1, 8, 8, 1)))


def test_mnist1d_shapes_and_class_balance():
  data = load_dataset("mnist1d")
  assert data.x_train.shape == (4000, 40, 1) and data.x_test.shape == (1000, 40, 1)
  assert data.num_classes == 10 and data.pixel_range is None
  y = np.concatenate([data.y_train, data.y_test])
  np.testing.assert_array_equal(np.bincount(y, minlength=10), np.full(10, 500))
  x = np.concatenate([data.x_train, data.x_test])
  assert abs(float(x.mean())) < 1e-4 and abs(float(x.std()) - 1) < 1e-4  # standardized


def test_mnist1d_deterministic_for_a_seed_and_shuffle_is_one_permutation():
  a = load_dataset("mnist1d", num_samples=500, seed=3)
  b = load_dataset("mnist1d", num_samples=500, seed=3)
  c = load_dataset("mnist1d", num_samples=500, seed=4)
  np.testing.assert_array_equal(a.x_train, b.x_train)
  np.testing.assert_array_equal(a.y_train, b.y_train)
  assert not np.array_equal(a.x_train, c.x_train)
  s = load_dataset("mnist1d", num_samples=500, seed=3, shuffle_seq=True)
  np.testing.assert_array_equal(s.y_train, a.y_train)
  # Every shuffled position is one original position, the same for all examples.
  cols = a.x_train[..., 0].T
  perm = [int(np.flatnonzero((np.abs(cols - col) < 1e-5).all(axis=1))[0]) for col in s.x_train[..., 0].T]
  assert sorted(perm) == list(range(40)) and perm != list(range(40))


def test_study_smallest_setting(tmp_path):
  tiny = dilated_convs.StudyPreset(
      rf_depth=3, rf_depth_2d=2, rf_draws=2, rf_width=4, seeds=1, mnist1d_samples=500,
      mnist1d_epochs=1, image_train_size=256, image_test_size=200, image_epochs=1, image_width=4,
      image_dilations=(1, 2))
  out = dilated_convs.run_study(tiny, str(tmp_path), (0,), "mnist", echo=lambda line: None)
  for name in ("table.md", "table.csv", "results.json", "claims.json", "erf.png"):
    assert (tmp_path / name).stat().st_size > 0
  results = json.loads((tmp_path / "results.json").read_text())
  assert len(results["mnist1d"]) == 10 and len(results["context_module"]["cells"]) == 3
  assert all(r["agree"] for r in results["receptive_fields"])
  claims = json.loads((tmp_path / "claims.json").read_text())
  assert len(claims) == len(out["claims"]) and all(c["held"] in (True, False, None) for c in claims)
  assert "| cnn | shuffled |" in (tmp_path / "table.md").read_text()
