"""The adding problem's closed-form baseline, the claim logic, the config, and the study on its smoke variant."""
import json

import numpy as np
import pytest

from experiments.vanishing_gradients import cells as vg_cells
from experiments.vanishing_gradients.claims import degradation_claims, depth_claims
from experiments.vanishing_gradients.config import get_config
from jaxdl.data import Dataset
from jaxdl.errors import UserError
from jaxdl.tasks.adding_problem import BASELINE_MSE, adding_dataset, adding_sequences
from conftest import run_module

THRESHOLDS = get_config().thresholds
CONFIG_FILE = "experiments/vanishing_gradients/config.py"


def test_adding_sequences_mark_one_value_in_each_half():
  x, y = adding_sequences(np.random.default_rng(0), 500, 20)
  assert x.shape == (500, 20, 2) and y.shape == (500, 1) and x.dtype == y.dtype == np.float32
  markers = x[..., 1]
  assert np.all(markers.sum(1) == 2)
  assert np.all(markers[:, :10].sum(1) == 1) and np.all(markers[:, 10:].sum(1) == 1)
  marked = (x[..., 0] * markers).sum(1)
  np.testing.assert_allclose(y[:, 0], 0.5 + marked / 4, rtol=1e-6)


def test_baseline_mse_is_one_over_96():
  """Var(0.5 + (X1 + X2)/4) = 2 * (1/12) / 16 = 1/96; predicting the mean 0.75 attains it."""
  assert BASELINE_MSE == pytest.approx(2 * (1 / 12) / 16)
  _, y = adding_sequences(np.random.default_rng(1), 200_000, 4)
  assert np.mean(y) == pytest.approx(0.75, abs=1e-3)
  assert np.mean((y - 0.75) ** 2) == pytest.approx(1 / 96, rel=0.02)


def test_adding_dataset_has_float_targets_and_a_dataset_checks_them():
  data = adding_dataset(6, 8, 4)
  assert data.num_classes == 1 and data.input_shape == (6, 2)
  assert data.y_train.dtype == np.float32 and data.y_train.shape == (8, 1)
  with pytest.raises(ValueError, match="float32 targets"):
    Dataset(name="bad", x_train=data.x_train, y_train=np.zeros(8, np.float64), x_val=data.x_val,
            y_val=data.y_val, x_test=data.x_test, y_test=data.y_test, num_classes=1, pixel_range=None)


def _degradation_row(net, depth, plain, train_curve, test_err, spread):
  grads = [[1.0] * 3 + [spread]]
  return {"net": net, "depth": depth, "plain": plain, "train_err_curve": [[e] for e in train_curve],
          "train_err": [train_curve[-1]], "test_err": [test_err], "grad_init": grads, "grad_end": grads,
          "wall_s": 1.0}


def test_degradation_claims_decide_on_the_numbers():
  rows = [_degradation_row("plain-8", 8, True, [0.5, 0.2], 0.1, 2.0),
          _degradation_row("plain-20", 20, True, [0.6, 0.3], 0.2, 3.0),
          _degradation_row("resnet-8", 8, False, [0.4, 0.1], 0.08, 2.0),
          _degradation_row("resnet-20", 20, False, [0.3, 0.05], 0.05, 2.0)]
  assert [c.held for c in degradation_claims(rows, THRESHOLDS)] == [True, True, True]
  rows[1] = _degradation_row("plain-20", 20, True, [0.6, 0.1], 0.2, 1e4)  # crosses; vanishing
  assert [c.held for c in degradation_claims(rows, THRESHOLDS)] == [False, True, False]


def _depth_row(activation, variant, ratio):
  return {"activation": activation, "variant": variant, "depth": 50, "ratio_init": [ratio, ratio],
          "test_acc": [0.5, 0.5]}


def test_depth_claims_test_both_halves_and_need_something_to_restore():
  rows = [_depth_row("sigmoid", "plain", 0.0), _depth_row("relu", "plain", 0.3),
          _depth_row("sigmoid", "batch_norm", 0.8)]
  assert [c.held for c in depth_claims(rows, THRESHOLDS)] == [True, True]
  rows[1] = _depth_row("relu", "plain", 1e-30)  # far above sigmoid's 0, yet vanished too
  rows[0] = _depth_row("sigmoid", "plain", 0.5)  # healthy: nothing for batch norm to restore
  assert [c.held for c in depth_claims(rows, THRESHOLDS)] == [False, None]
  rows[0] = _depth_row("sigmoid", "plain", float("nan"))  # NaN is not healthy, and not < 1e-2
  assert [c.held for c in depth_claims(rows, THRESHOLDS)] == [False, True]


def test_degradation_claims_refuse_what_cannot_be_compared():
  rows = [_degradation_row("plain-8", 8, True, [0.5, 0.2], 0.1, 2.0),
          _degradation_row("plain-20", 20, True, [0.6], 0.2, float("nan")),  # stopped early
          _degradation_row("resnet-8", 8, False, [0.4, 0.1], 0.08, 2.0),
          _degradation_row("resnet-20", 20, False, [0.3, 0.05], 0.05, 2.0)]
  rows[1]["grad_init"] = [[0.0, 0.0, 0.0, 0.0]]  # every layer's gradient zero: spread 0/0
  assert [c.held for c in degradation_claims(rows, THRESHOLDS)] == [None, True, False]


def test_config_variants_parts_and_seeds():
  with pytest.raises(ValueError, match="smoke, quick, full"):
    get_config("paper")
  quick = {c.name: c for c in vg_cells.cells(get_config("quick"))}
  assert len(quick) == 22 and quick["mlp_tanh_d50_residual"].config.model_options["residual"]
  # He et al.'s schedule: lr / 10 at 50% and 75% of the epochs (4 quick, 137 full).
  assert quick["resnet_d20"].config.optim.decay_epochs == (2, 3)
  full = {c.name: c for c in vg_cells.cells(get_config("full"))}
  assert full["plain_d56"].config.optim.decay_epochs == (68, 102)
  assert [n for n in full if n.startswith("adding_T200")] == ["adding_T200_tanh", "adding_T200_lstm", "adding_T200_gru"]
  config = get_config("quick")
  config.parts = ("adding,depth",)  # as --config.parts=adding,depth gives it
  config.seeds = 3  # every part's seeds, as the old --seeds
  selected = vg_cells.cells(config)
  assert [c.name for c in selected][-2:] == ["adding_T50_tanh", "adding_T50_lstm"] and len(selected) == 18
  assert {c.config.seeds for c in selected} == {(0, 1, 2)}
  config.parts = ("depth", "width")
  with pytest.raises(UserError, match="unknown part"):
    vg_cells.cells(config)


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("vanishing_gradients")
  proc = run_module("experiments.vanishing_gradients", f"--config={CONFIG_FILE}:smoke", f"--workdir={workdir}",
                    timeout=900, check=True)
  return workdir, proc.stdout


def test_smoke_study_writes_tables_claims_and_figures(smoke):
  workdir, stdout = smoke
  table = (workdir / "table.md").read_text()
  assert table.count("## ") == 3 and "| sigmoid | 3 | batch_norm |" in table and "| plain-14 |" in table
  claims = json.loads((workdir / "claims.json").read_text())
  # depth: sigmoid vs ReLU, batch norm restores; degradation: 3; adding: 1 (its verdict is always decided)
  assert len(claims) == 6 and claims[-1]["held"] in (True, False)
  assert sum("CLAIM " in line for line in stdout.splitlines()) == 6
  for name in ("depth_grad_norms.png", "depth_fixes.png", "degradation.png", "adding_grad_through_time.png"):
    assert (workdir / name).stat().st_size > 0, name
  # The per-layer gradient norms [K, L], logged through the engine at init and after each epoch.
  for cell, replicas, layers, epochs in (("mlp_sigmoid_d3", 2, 3, 1), ("plain_d8", 1, 7, 2)):
    history = [json.loads(line) for line in (workdir / "cells" / cell / "metrics.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in history] == list(range(epochs + 1))
    assert all(np.shape(h["diag_kernel_grad_norm"]) == (replicas, layers) for h in history)
  history = (workdir / "cells" / "adding_T6_lstm" / "metrics.jsonl").read_text().splitlines()
  assert np.shape(json.loads(history[-1])["hidden_grad_norm"]) == (2, 6)
  measured = json.loads((workdir / "cells" / "adding_T6_lstm" / "measurements.json").read_text())
  assert np.isfinite(measured["test_mse"]).all() and len(measured["within_tol"]) == 2


def test_report_only_reproduces_the_report(smoke):
  workdir, _ = smoke
  before = {name: (workdir / name).read_bytes() for name in ("table.md", "claims.json")}
  (workdir / "table.md").unlink()
  (workdir / "claims.json").unlink()
  run_module("experiments.vanishing_gradients", f"--workdir={workdir}", "--report_only", check=True)
  assert {name: (workdir / name).read_bytes() for name in before} == before
