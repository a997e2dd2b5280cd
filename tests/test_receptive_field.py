"""Tests of jaxdl.receptive_field: analytical fields vs fields measured by gradients."""
import jax
import numpy as np
import pytest

from jaxdl import receptive_field as rf
from jaxdl.models import build_model


@pytest.mark.parametrize("dilations, expected", [
    ((1, 1, 1, 1), [3, 5, 7, 9]),         # 2i + 1
    ((1, 2, 4, 8), [3, 7, 15, 31]),       # 2^(i+1) - 1
    ((1, 1, 2, 4, 8, 16, 1), [3, 5, 9, 17, 33, 65, 67]),  # Yu & Koltun's context module
])
def test_analytical_fields_match_closed_forms(dilations, expected):
  assert rf.analytical_receptive_fields(rf.conv_layers(3, dilations)) == expected


def test_analytical_field_with_strides_and_pooling():
  # Greydanus's CNN (k 5,3,3, stride 2): 5, 5 + 2*2, 9 + 2*4; then a 2-pool widens by one jump of 8.
  layers = rf.conv_layers((5, 3, 3), (1, 1, 1), 2) + [rf.ConvLayer(2, 2)]
  assert rf.analytical_receptive_fields(layers) == [5, 9, 17, 25]


def _measured(model, input_shape, draws=3):
  grads = rf.input_gradient_maps(model, input_shape, jax.random.PRNGKey(1), draws)
  return grads, rf.measured_receptive_fields(grads)


@pytest.mark.parametrize("options", [
    {"dilations": (1, 1, 1)},
    {"dilations": (1, 2, 4, 8)},
    {"dilations": (1, 1, 1), "kernel_size": (5, 3, 3), "strides": 2, "padding": 1},
    {"dilations": (2, 3), "kernel_size": 3, "activation": "linear"},
])
def test_measured_field_equals_analytical_1d(options):
  model = build_model("dilated", 10, {"width": 8, **options})
  n = len(options["dilations"])
  layers = rf.conv_layers(options.get("kernel_size", 3), options["dilations"], options.get("strides", 1))
  _, measured = _measured(model, (71, 1))
  assert len(measured) == n
  assert [m["extent"][0] for m in measured] == rf.analytical_receptive_fields(layers)


def test_gridding_holes_when_dilation_one_is_skipped():
  # Dilations 2 then 2 (kernel 3): the field spans 9 positions but only even offsets reach the unit.
  model = build_model("dilated", 10, {"dilations": (2, 2), "width": 4, "activation": "linear"})
  _, measured = _measured(model, (31, 1), draws=1)
  assert measured[1] == {"extent": (9,), "holes": 4}


def test_measured_field_of_2d_context_module():
  # Linear: with 4 channels and 2 draws, closed ReLUs leave holes near the corners (the
  # experiment uses 8 channels and 8 draws); the structure is what is tested here.
  model = build_model("context_module", 10, {
      "front_widths": (), "pool": 1, "width": 4, "context_dilations": (1, 1, 2, 4, 8, 16, 1),
      "context_init": "he_normal", "activation": "linear"})
  _, measured = _measured(model, (75, 75, 4), draws=2)
  assert [m["extent"] for m in measured] == [(f, f) for f in [3, 5, 9, 17, 33, 65, 67, 67]]
  assert all(m["holes"] == 0 for m in measured)


def test_union_over_draws_recovers_paths_a_relu_closes():
  # Width 1: a ReLU that is off for one input kills whole paths, so a single
  # draw often sees a smaller field; the union over many draws sees all of it.
  model = build_model("dilated", 10, {"dilations": (1, 2, 4), "width": 1})
  grads, measured = _measured(model, (41, 1), draws=32)
  single = [rf.measured_receptive_fields(g[None])[2]["extent"][0] for g in grads]
  assert min(single) < 15
  assert measured[2]["extent"] == (15,)


def test_erf_normalized_and_radius_grows_with_depth():
  model = build_model("dilated", 10, {"dilations": (1,) * 4, "width": 8})
  grads, _ = _measured(model, (41, 1), draws=4)
  erf = rf.effective_receptive_fields(grads)
  np.testing.assert_allclose(erf.sum(axis=1), 1.0, rtol=1e-6)
  radius = rf.erf_radius(erf)
  assert np.all(np.diff(radius) > 0)
  # Each radius lies inside the theoretical half-width (field - 1) / 2.
  assert np.all(radius <= (np.array([3, 5, 7, 9]) - 1) / 2)


def test_erf_radius_of_known_profiles():
  erf = np.zeros((2, 11))
  erf[0, 5] = 1.0                 # all mass at the centre
  erf[1, [3, 7]] = 0.5            # half at -2, half at +2
  np.testing.assert_allclose(rf.erf_radius(erf), [0.0, 2.0])
