"""The loss study: every registered loss against hand-computed values and a central finite difference,
loss specs with arguments, the output-bias option, calibration, the claims on synthetic records, and
one smoke run of the study with its report."""
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from conftest import run_module
from experiments.losses import claims
from experiments.losses.cells import SATURATION_ARMS, cells
from experiments.losses.config import get_config
from experiments.losses.report import first_epoch_at, output_unit_table
from experiments.losses.saturation import CROSS_ENTROPY, SQUARED, gradient_curves, train_neuron
from jaxdl import calibration
from jaxdl.errors import UserError
from jaxdl.losses import LOSSES, OUTPUT_UNITS, get_loss, multi_task_loss
from jaxdl.models import build_model
from jaxdl.registry import parse_spec
from jaxdl.train import TrainConfig

STUDY = "experiments.losses"
SMOKE = "--config=experiments/losses/config.py:smoke"


def _sigmoid(z):
  return 1 / (1 + np.exp(-z))


def _log_softmax(z):
  z = np.asarray(z, np.float64)
  return z - np.log(np.sum(np.exp(z)))


# (spec, outputs [1, K], targets, num_classes, the value computed by hand)
LOGITS = [[2.0, 0.0, -1.0]]
HAND_CASES = [
    ("softmax_cross_entropy", LOGITS, [0], 3, -_log_softmax(LOGITS[0])[0]),
    # eps = 0.1, K = 3: target (0.9 + 0.1/3, 0.1/3, 0.1/3)
    ("softmax_cross_entropy:label_smoothing=0.1", LOGITS, [0], 3,
     -np.dot([0.9 + 0.1 / 3, 0.1 / 3, 0.1 / 3], _log_softmax(LOGITS[0]))),
    ("mse", LOGITS, [0], 3, 0.5 * ((2 - 1) ** 2 + 0 + 1)),
    ("sigmoid_mse", LOGITS, [0], 3, 0.5 * ((_sigmoid(2) - 1) ** 2 + _sigmoid(0) ** 2 + _sigmoid(-1) ** 2)),
    ("binary_cross_entropy", LOGITS, [0], 3,
     -np.log(_sigmoid(2)) - np.log(1 - _sigmoid(0)) - np.log(1 - _sigmoid(-1))),
    # one sigmoid unit: the 0/1 label is the target itself
    ("binary_cross_entropy", [[1.5]], [1], 1, -np.log(_sigmoid(1.5))),
    ("binary_cross_entropy", [[1.5]], [0], 1, -np.log(1 - _sigmoid(1.5))),
    ("multi_label", LOGITS, [[1.0, 0.0, 1.0]], 3,
     (-np.log(_sigmoid(2)) - np.log(1 - _sigmoid(0)) - np.log(_sigmoid(-1))) / 3),
    # mean 1, log variance log 4: 0.5 (log 4 + (3 - 1)^2 / 4 + log 2 pi)
    ("gaussian_nll", [[1.0, np.log(4.0)]], [3.0], 1, 0.5 * (np.log(4.0) + 1.0 + np.log(2 * np.pi))),
]


@pytest.mark.parametrize("spec, outputs, targets, k, expected", HAND_CASES)
def test_each_registered_loss_on_a_hand_computed_case(spec, outputs, targets, k, expected):
  targets = jnp.asarray(targets)
  value = get_loss(spec)(jnp.asarray(outputs, jnp.float32), targets, k)
  assert value.shape == (1,)
  np.testing.assert_allclose(value, [expected], rtol=1e-5)


@pytest.mark.parametrize("spec, outputs, targets, k, expected", HAND_CASES)
def test_each_registered_loss_gradient_matches_a_central_finite_difference(spec, outputs, targets, k, expected):
  del expected
  rng = np.random.default_rng(0)
  with jax.enable_x64(True):
    x = jnp.asarray(np.asarray(outputs, np.float64) + 0.3 * rng.standard_normal(np.shape(outputs)))
    y = jnp.asarray(targets)
    if y.dtype.kind == "f":
      y = y.astype(jnp.float64)
    f = lambda out: jnp.sum(get_loss(spec)(out, y, k))  # noqa: E731
    grad = np.asarray(jax.grad(f)(x))
    assert grad.dtype == np.float64
    h = 1e-6
    numeric = np.zeros_like(grad)
    for idx in np.ndindex(grad.shape):
      step = np.zeros(grad.shape)
      step[idx] = h
      numeric[idx] = (float(f(x + step)) - float(f(x - step))) / (2 * h)
  np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


def test_multi_task_is_a_registered_weighted_sum_and_names_a_missing_task():
  logits, y = jnp.asarray(LOGITS), jnp.array([0])
  tasks = {"digit": ("softmax_cross_entropy:label_smoothing=0.1", 1.0, 3), "size": ("mse", 0.5, 3)}
  loss = LOSSES.build("multi_task", {"tasks": tasks})
  expected = HAND_CASES[1][-1] + 0.5 * HAND_CASES[2][-1]
  np.testing.assert_allclose(loss({"digit": logits, "size": logits}, {"digit": y, "size": y}), [expected], rtol=1e-5)
  np.testing.assert_allclose(multi_task_loss({"digit": logits, "size": logits}, {"digit": y, "size": y}, tasks),
                             [expected], rtol=1e-5)
  with pytest.raises(KeyError, match="size"):
    loss({"digit": logits}, {"digit": y})
  with pytest.raises(UserError, match="multi_task needs tasks"):  # not trainable by name: no tasks in a spec
    TrainConfig(loss="multi_task")


def test_saturation_gradients_are_the_closed_forms():
  out = gradient_curves(-10.0, 10.0, 21, 0.0)
  s = _sigmoid(np.asarray(out["z"]))
  np.testing.assert_allclose(out["grad"][SQUARED], s * s * (1 - s), atol=1e-6)
  np.testing.assert_allclose(out["grad"][CROSS_ENTROPY], s, atol=1e-5)
  assert out["grad"][SQUARED][-1] < 1e-4 < 0.99 < out["grad"][CROSS_ENTROPY][-1]  # z = 10: vanished vs ~1


def test_nielsens_neuron_takes_plain_gradient_steps():
  run = train_neuron(SQUARED, w=2.0, b=2.0, x=1.0, y=0.0, epochs=1, lr=0.15)
  a = _sigmoid(4.0)
  grad = a * a * (1 - a)  # dC/dw = dC/db = a s'(z) at x = 1, y = 0
  assert run["output"][0] == pytest.approx(a, rel=1e-6) and run["cost"][0] == pytest.approx(a * a / 2, rel=1e-6)
  assert (run["w"], run["b"]) == pytest.approx((2 - 0.15 * grad, 2 - 0.15 * grad), rel=1e-6)


def test_loss_specs_carry_arguments_and_old_configs_still_load():
  assert parse_spec("softmax_cross_entropy:label_smoothing=0.1") == ("softmax_cross_entropy",
                                                                      {"label_smoothing": 0.1})
  # a saved config's plain name: the same loss as before (optax's integer-label cross-entropy)
  cfg = TrainConfig.from_dict({"loss": "softmax_cross_entropy"})
  logits, y = jnp.asarray(LOGITS), jnp.array([1])
  assert np.array_equal(get_loss(cfg.loss)(logits, y, 3), optax.softmax_cross_entropy_with_integer_labels(logits, y))
  assert TrainConfig(loss="softmax_cross_entropy:label_smoothing=0.1").loss.endswith("0.1")
  with pytest.raises(UserError, match="valid: label_smoothing"):
    TrainConfig(loss="softmax_cross_entropy:smoothing=0.1")
  with pytest.raises(UserError, match=r"\[0, 1\)"):
    TrainConfig(loss="softmax_cross_entropy:label_smoothing=1.5")
  with pytest.raises(UserError, match="valid losses: .*sigmoid_mse"):
    TrainConfig(loss="squared")
  with pytest.raises(UserError, match="expected key=value"):
    TrainConfig(loss="softmax_cross_entropy:0.1")


def test_output_units_table_names_registered_losses():
  assert {row[-1] for row in OUTPUT_UNITS} == set(LOSSES.names())
  header, body = output_unit_table()
  assert header[-1] == "registered name" and len(body) == len(OUTPUT_UNITS)


def test_output_bias_init_defaults_to_the_old_init_and_saturates_when_set():
  x = jnp.ones((2, 4))
  key = jax.random.PRNGKey(0)
  plain = build_model("mlp", 3, {"widths": (5,)}).init(key, x)
  zero = build_model("mlp", 3, {"widths": (5,), "output_bias_init": 0.0}).init(key, x)
  jax.tree_util.tree_map(np.testing.assert_array_equal, plain, zero)
  saturated = build_model("mlp", 3, {"widths": (5,), "output_bias_init": 10.0}).init(key, x)
  np.testing.assert_array_equal(saturated["params"]["logits"]["bias"], [10.0] * 3)
  np.testing.assert_array_equal(saturated["params"]["logits"]["kernel"], plain["params"]["logits"]["kernel"])


def test_ece_and_reliability_bins_on_a_hand_case():
  # 4 predictions: confidence 0.95 (right, right), 0.55 (right, wrong); 15 bins of width 1/15
  conf, correct = np.array([0.95, 0.95, 0.55, 0.55]), np.array([True, True, True, False])
  bins = calibration.reliability_bins(conf, correct, 15)
  assert bins["count"][14] == 2 and bins["count"][8] == 2 and sum(bins["count"]) == 4
  assert bins["accuracy"][14] == 1.0 and bins["accuracy"][8] == 0.5 and np.isnan(bins["accuracy"][0])
  # ECE = 1/2 |1 - 0.95| + 1/2 |0.5 - 0.55| = 0.05
  assert calibration.expected_calibration_error(conf, correct, 15) == pytest.approx(0.05)
  # a bin's upper edge belongs to it: confidence exactly 1/15 is in bin 0; 0 is in bin 0 too
  assert calibration.reliability_bins([1 / 15, 0.0], [True, True], 15)["count"][0] == 2
  confidence, right = calibration.confidences(np.array([[0.0, np.log(3.0)], [2.0, 0.0]]), np.array([1, 1]))
  np.testing.assert_allclose(confidence, [0.75, _sigmoid(2.0)])
  assert right.tolist() == [True, False]


def test_cells_are_two_measurements_four_saturation_nets_and_two_smoothing_nets():
  config = get_config("quick")
  built = cells(config)
  assert [c.name for c in built] == ["gradient_curves", "nielsen_neuron", *[a.cell for a in SATURATION_ARMS],
                                     "fashion_plain", "fashion_smoothed"]
  by_name = {c.name: c for c in built}
  sq = by_name["mnist_squared_saturated"].config
  assert sq.loss == SQUARED and sq.model_options["output_bias_init"] == 10.0
  assert by_name["mnist_cross_entropy_default"].config.model_options["output_bias_init"] == 0.0
  assert by_name["mnist_cross_entropy_default"].config.loss == CROSS_ENTROPY
  assert sq.seeds == (0, 1, 2) and sq.batch_size == 10 and sq.optim.lr == 0.5
  assert by_name["fashion_plain"].config.loss == "softmax_cross_entropy"
  assert by_name["fashion_smoothed"].config.loss == "softmax_cross_entropy:label_smoothing=0.1"
  assert by_name["fashion_smoothed"].config.dataset == "fashion_mnist"
  assert by_name["nielsen_neuron"].spec == {"w": 2.0, "b": 2.0, "x": 1.0, "y": 0.0, "epochs": 300, "lr": 0.15,
                                            "nielsen_ce_lr": 0.005}
  full = {c.name: c for c in cells(get_config("full"))}
  assert full["mnist_squared_saturated"].config.train_size == 0 and full["fashion_plain"].config.train_size == 0
  with pytest.raises(ValueError, match="smoke, quick, full"):
    get_config("tiny")


def test_first_epoch_at_counts_a_miss_as_the_budget_plus_one():
  assert first_epoch_at([0.1, 0.85, 0.9], 0.8) == 2
  assert first_epoch_at([0.1, float("nan"), 0.2], 0.8) == 4


def _sat_rows(sq_first, ce_first, sq_default_first=(0.9, 0.91), sq_epochs=(9, 9), ce_epochs=(1, 1)):
  return {("squared", "saturated"): {"first_val_acc": list(sq_first), "epochs_to_target": list(sq_epochs)},
          ("cross_entropy", "saturated"): {"first_val_acc": list(ce_first), "epochs_to_target": list(ce_epochs)},
          ("squared", "default"): {"first_val_acc": list(sq_default_first)}}


def test_saturation_claims_hold_fail_or_stay_untested():
  held = claims.saturation_claims(_sat_rows((0.10, 0.11), (0.88, 0.90)))
  assert [c.held for c in held] == [True, True, True, True]
  # the squared net learns as fast as the cross-entropy one: its stall and the speed-up are NOT HELD
  fast = claims.saturation_claims(_sat_rows((0.92, 0.93), (0.88, 0.89), sq_epochs=(1, 1), ce_epochs=(2, 2)))
  assert [c.held for c in fast] == [False, False, True, False]
  # seeds that disagree by more than the difference: NOT TESTED
  noisy = claims.saturation_claims(_sat_rows((0.10, 0.90), (0.50, 0.60), sq_epochs=(1, 9), ce_epochs=(3, 4)))
  assert noisy[0].held is None and noisy[3].held is None and "NOT TESTED" in noisy[0].measured
  assert all(c.criterion for c in held)


def _cal(confs, eces):
  return [{"mean_confidence": c, "ece": e} for c, e in zip(confs, eces)]


def test_smoothing_claims_hold_fail_or_stay_untested():
  out = claims.smoothing_claims(_cal((0.95, 0.96), (0.05, 0.06)), _cal((0.85, 0.86), (0.02, 0.025)))
  assert [c.held for c in out] == [True, True]
  # smoothing overshoots into underconfidence: a larger ECE than the plain net's
  out = claims.smoothing_claims(_cal((0.95, 0.96), (0.02, 0.025)), _cal((0.80, 0.81), (0.08, 0.09)))
  assert [c.held for c in out] == [True, False]
  out = claims.smoothing_claims(_cal((0.90, 0.96), (0.02, 0.08)), _cal((0.92, 0.93), (0.05, 0.06)))
  assert [c.held for c in out] == [None, None]


def _neuron(sq_cost, ce_cost, sq_out=0.2, ce_out=0.01):
  return [{"loss": SQUARED, "lr": 0.15, "cost": sq_cost, "output": [0.98, sq_out]},
          {"loss": CROSS_ENTROPY, "lr": 0.15, "cost": ce_cost, "output": [0.98, ce_out]}]


def test_neuron_and_gradient_claims_are_deterministic_checks():
  assert [c.held for c in claims.neuron_claims(_neuron([0.48, 0.47, 0.02], [4.0, 0.1, 0.05]))] == [True, True, True]
  assert [c.held for c in claims.neuron_claims(_neuron([0.48, 0.1, 0.05], [4.0, 3.9, 0.05], 0.01, 0.2))] == \
      [False, False, False]
  z = [0.0, 10.0]
  good = {"z": z, "grad": {SQUARED: [0.125, 4.5e-5], CROSS_ENTROPY: [0.5, 0.99995]},
          "closed_form": {SQUARED: [0.125, 4.5e-5], CROSS_ENTROPY: [0.5, 0.99995]}}
  assert [c.held for c in claims.gradient_claims(good)] == [True, True]
  bad = {**good, "grad": {SQUARED: [0.125, 0.5], CROSS_ENTROPY: [0.5, 0.99995]}}
  assert [c.held for c in claims.gradient_claims(bad)] == [False, False]


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("losses")
  proc = run_module(STUDY, SMOKE, f"--workdir={workdir}", timeout=600, check=True)
  return workdir, proc.stdout


def test_smoke_run_writes_tables_figures_measurements_and_verdicts(smoke_run):
  workdir, stdout = smoke_run
  for name in ("table.md", "table.csv", "claims.json", "gradients.png", "saturation_curves.png", "reliability.png"):
    assert os.path.getsize(workdir / name) > 0
  table = (workdir / "table.md").read_text()
  assert "| binary classification | one sigmoid unit |" in table and "`softmax_cross_entropy`" in table
  assert "| squared error | saturated | 10 |" in table and "| smoothed |" in table
  verdicts = json.loads((workdir / "claims.json").read_text())
  assert len(verdicts) == 11 and stdout.count("CLAIM ") == 11
  # the deterministic checks hold at any size
  assert [v["held"] for v in verdicts[:5]] == [True] * 5
  measured = json.loads((workdir / "cells" / "fashion_smoothed" / "measurements.json").read_text())["replicas"]
  assert len(measured) == 2 and all(0 <= r["ece"] <= 1 and len(r["reliability"]["count"]) == 15 for r in measured)
  saved = json.loads((workdir / "cells" / "fashion_smoothed" / "config.json").read_text())
  assert saved["loss"] == "softmax_cross_entropy:label_smoothing=0.1"


def test_report_only_remakes_the_report_from_the_cell_directories(smoke_run):
  workdir, _ = smoke_run
  before = {name: (workdir / name).read_bytes() for name in ("table.md", "claims.json")}
  os.remove(workdir / "table.md")
  run_module(STUDY, "--report_only", f"--workdir={workdir}", check=True)
  assert {name: (workdir / name).read_bytes() for name in before} == before
