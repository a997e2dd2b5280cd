"""Tests of the dilated models, the MNIST-1D generator and the dilated_convs study."""
import json
import math
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments.dilated_convs import claims
from experiments.dilated_convs.cells import MNIST1D_NETS, PAPER_CNN, cells
from experiments.dilated_convs.config import get_config
from jaxdl.data import load_dataset
from jaxdl.models import build_model
from conftest import run_module

STUDY = "experiments.dilated_convs"
SMOKE = "--config=experiments/dilated_convs/config.py:smoke"


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
  model = build_model("dilated", 10, PAPER_CNN)
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


def _rf_results(agree=True, ratios=((0.30, 0.24, 0.25, 0.20), (0.28, 0.22, 0.23, 0.19), (0.29, 0.23, 0.24, 0.20))):
  """Receptive-field results: per draw, the undilated stack's ERF radius / field per depth."""
  field = np.array([3, 5, 7, 9])
  rows = [{"stack": "1x3, undilated", "layer": i + 1, "analytical": (int(f),), "measured": (int(f),), "agree": True}
          for i, f in enumerate(field)]
  rows.append({"stack": "context module", "layer": 1, "analytical": (3, 3), "measured": (3, 3), "agree": agree})
  return {"rows": rows, "erf_radius_draws": {"1x3, undilated": (np.asarray(ratios) * field).tolist()}}


def test_receptive_field_claims_compare_depths_over_draws_not_step_by_step():
  # A non-monotone step (0.23 -> 0.24) that the old strict-monotonicity check called NOT HELD;
  # depth 1 vs the last depth differs by far more than the spread over draws.
  exact, fraction, shrinks = claims.receptive_field_claims(_rf_results())
  assert exact.held is True and "no seed noise" in exact.criterion
  assert fraction.held is True and shrinks.held is True and "std" in shrinks.measured
  # Draws that disagree about the direction: the spread decides nothing.
  noisy = claims.receptive_field_claims(_rf_results(ratios=((0.30, 0.2, 0.2, 0.15), (0.20, 0.2, 0.2, 0.31))))
  assert noisy[2].held is None and "NOT TESTED" in noisy[2].measured
  bad = claims.receptive_field_claims(_rf_results(agree=False))
  assert bad[0].held is False and "disagree: context module layer 1" in bad[0].measured


def test_paper_tolerance_is_binomial_noise_of_the_test_set_plus_rounding():
  assert claims.paper_tolerance(50) == pytest.approx(100 * 2 * math.sqrt(0.25 / 1000) + 0.5)
  assert claims.paper_tolerance(94) < claims.paper_tolerance(68)  # a high accuracy is measured tighter
  assert claims.NON_INFERIORITY_MARGIN == pytest.approx(2 * math.sqrt(2 * 0.94 * 0.06 / 1000))


def _net(label, test_acc, shuffled=False, steps=8000):
  return {"label": label, "shuffled": shuffled, "steps": steps,
          "replicas": [{"test_acc": a, "train_acc": a} for a in test_acc]}


PAPER_ACCS = {("logistic", False): (0.32, 0.33), ("mlp", False): (0.68, 0.69), ("cnn", False): (0.94, 0.945),
              ("gru", False): (0.91, 0.915), ("logistic", True): (0.32, 0.33), ("mlp", True): (0.68, 0.69),
              ("cnn", True): (0.56, 0.57), ("gru", True): (0.57, 0.58),
              ("undilated, depth 4", False): (0.80, 0.81), ("dilated 1,2,4,8, depth 4", False): (0.90, 0.91),
              ("dilated 1,2,4, depth 3", False): (0.80, 0.81), ("undilated, depth 7", False): (0.81, 0.82)}


def _mnist1d(steps=8000, **changes):
  accs = {**PAPER_ACCS, **{(k.removesuffix("_shuffled"), k.endswith("_shuffled")): v for k, v in changes.items()}}
  return [_net(net.label, accs[(net.label, net.shuffled)], net.shuffled, steps) for net in MNIST1D_NETS]


def test_mnist1d_claims_compare_to_the_paper_only_at_its_8000_steps_with_the_test_set_tolerance():
  assert [c.held for c in claims.mnist1d_claims(_mnist1d())] == [True] * 6
  assert [c.held for c in claims.mnist1d_claims(_mnist1d(steps=400))][:2] == [None, None]
  # 91.5 sat within the old bar of 3 points of the paper's 94; the test set's tolerance at 94% is 2.0
  assert claims.mnist1d_claims(_mnist1d(cnn=(0.915, 0.915)))[0].held is False
  # a mean near the band's edge, within the seed std of it, is not decided
  held, measured = claims.near_paper([0.90, 0.96], 94, "cnn")
  assert held is None and "NOT TESTED" in measured


def test_mnist1d_orderings_need_differences_beyond_the_seed_noise():
  # The old checks compared means: a 1-point lead under a 3-point std passed.
  verdicts = claims.mnist1d_claims(_mnist1d(cnn=(0.90, 0.96), gru=(0.89, 0.95)))
  assert verdicts[2].held is None and "seed noise" in verdicts[2].measured
  # shuffling that costs the MLP as much as the CNN is not the paper's effect
  assert claims.mnist1d_claims(_mnist1d(mlp_shuffled=(0.30, 0.31)))[3].held is False


def test_dilation_claims_are_own_checks_and_respect_the_noise():
  verdicts = claims.mnist1d_claims(_mnist1d())
  assert all("jaxdl's own check" in c.source for c in verdicts[4:])
  assert [c.held for c in verdicts[4:]] == [True, True]
  # The old non-inferiority check (dilated 3 >= undilated 7 - 2 points on the means) held here.
  noisy = claims.mnist1d_claims(_mnist1d(**{"dilated 1,2,4, depth 3": (0.70, 0.90)}))
  assert noisy[5].held is None


def _dense(label, miou):
  return {"label": label, "scores": [{"mean_iou": m, "pixel_acc": m} for m in miou]}


@pytest.mark.parametrize("identity, random, expected", [
    ((0.80, 0.82), (0.60, 0.62), [True, True]),
    ((0.80, 0.82), (0.79, 0.83), [True, None]),   # a tie within the seed noise decides nothing
    ((0.60, 0.62), (0.80, 0.82), [True, False]),
    ((0.50, 0.52), (0.40, 0.41), [False, True]),
])
def test_context_module_claims_on_mean_iou(identity, random, expected):
  nets = [_dense("front", (0.55, 0.56)), _dense("identity", identity), _dense("random", random)]
  assert [c.held for c in claims.context_module_claims(nets)] == expected


def test_seed_offset_moves_every_trained_cell_seeds():
  config = get_config("smoke")
  config.seed_offset = 10
  trained = [c for c in cells(config) if hasattr(c, "config")]
  assert trained and all(c.config.seeds == (10, 11) for c in trained)


def test_unknown_variant_names_the_valid_ones():
  with pytest.raises(ValueError, match="smoke, quick, full"):
    get_config("tiny")


def _read(workdir, *names):
  return {name: open(os.path.join(workdir, name), "rb").read() for name in names}


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp("dilated_convs") / "run")
  proc = run_module(STUDY, SMOKE, f"--workdir={workdir}", timeout=900, check=True)
  return workdir, proc.stdout


def test_smoke_study_writes_cells_tables_claims_and_the_erf_figure(smoke_run):
  workdir, out = smoke_run
  table = open(os.path.join(workdir, "table.md")).read()
  assert "| gru | shuffled |" in table and "| + context module, identity init |" in table
  assert "| context module | 8 | 1 | 67 | 67x67 | 67x67 | 0 | yes |" in table
  verdicts = json.load(open(os.path.join(workdir, "claims.json")))
  assert len(verdicts) == 11 and all(c["held"] in (True, False, None) and c["criterion"] for c in verdicts)
  assert verdicts[0]["held"] is True  # the measured fields equal the analytical ones at any size
  assert os.path.getsize(os.path.join(workdir, "erf.png")) > 0
  fields = json.load(open(os.path.join(workdir, "cells", "receptive_fields", "results.json")))
  assert all(r["agree"] for r in fields["rows"])
  depth = get_config("smoke").receptive_field.depth
  assert np.asarray(fields["erf"]["1x3, dilation 2^i"]).shape == (depth, 2 ** (depth + 1) - 1 + 16)
  np.testing.assert_allclose(np.asarray(fields["erf"]["context module"]).sum(), 1.0, rtol=1e-9)
  measured = json.load(open(os.path.join(workdir, "cells", "mnist1d_cnn", "measurements.json")))
  assert measured == {"params": (5 * 25 + 25) + 2 * (3 * 25 * 25 + 25) + (125 * 10 + 10), "steps": 4}
  dense = json.load(open(os.path.join(workdir, "cells", "context_identity_init", "measurements.json")))
  assert len(dense["scores"]) == 2 and all(0 <= s["mean_iou"] <= 1 for s in dense["scores"])
  assert "CLAIM" in out


def test_report_only_reproduces_the_report(smoke_run):
  workdir, _ = smoke_run
  before = _read(workdir, "table.md", "claims.json")
  for name in ("table.md", "claims.json", "erf.png"):
    os.remove(os.path.join(workdir, name))
  run_module(STUDY, f"--workdir={workdir}", "--report_only", check=True)
  assert _read(workdir, "table.md", "claims.json") == before
  assert os.path.getsize(os.path.join(workdir, "erf.png")) > 0
