"""The adding problem's closed-form baseline, the claim logic, and the study on its smallest setting."""
import json
import os

import numpy as np
import pytest

from experiments import vanishing_gradients as vg
from jaxdl.data import Dataset
from jaxdl.tasks.adding_problem import BASELINE_MSE, adding_dataset, adding_sequences


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
          "test_err_curve": [[e] for e in train_curve], "train_err": [train_curve[-1]], "test_err": [test_err],
          "grad_init": grads, "grad_end": grads, "status": ["done"], "diverged_step": [None], "wall_s": 1.0}


def test_degradation_claims_decide_on_the_numbers():
  part = {"rows": [_degradation_row("plain-8", 8, True, [0.5, 0.2], 0.1, 2.0),
                   _degradation_row("plain-20", 20, True, [0.6, 0.3], 0.2, 3.0),
                   _degradation_row("resnet-8", 8, False, [0.4, 0.1], 0.08, 2.0),
                   _degradation_row("resnet-20", 20, False, [0.3, 0.05], 0.05, 2.0)]}
  assert [c.held for c in vg.degradation_claims(part)] == [True, True, True]
  part["rows"][1] = _degradation_row("plain-20", 20, True, [0.6, 0.1], 0.2, 1e4)  # crosses; vanishing
  assert [c.held for c in vg.degradation_claims(part)] == [False, True, False]


def test_study_smallest_setting_writes_its_outputs(tmp_path):
  p = vg.Preset(seeds=2, probe_size=16, depths=(2,), activations=("sigmoid",), fixes=("batch_norm",),
                mlp_width=8, mlp_train_size=128, mlp_epochs=1, mlp_batch=64, lengths=(6,),
                hidden_size=8, adding_train=128, adding_test=32, adding_epochs=1, adding_batch=64,
                adding_seeds=2)
  study = vg.run_study(p, ("depth", "adding"), echo=lambda _: None)
  claims = vg.write_report(study, str(tmp_path), echo=lambda _: None)
  for name in ("table.md", "table.csv", "results.json", "claims.json", "depth_grad_norms.png",
               "depth_fixes.png", "adding_grad_through_time.png"):
    assert os.path.getsize(tmp_path / name) > 0, name
  assert len(claims) == 2 and all(c["held"] in (True, False) for c in claims)
  rows = study["adding"]["rows"]
  assert [r["cell"] for r in rows] == ["tanh", "lstm"]
  assert all(np.isfinite(r["test_mse"]).all() and np.shape(r["hidden_grad_end"]) == (2, 6) for r in rows)
  depth_rows = json.loads((tmp_path / "results.json").read_text())["depth"]["rows"]
  assert [np.shape(r["grad_init"]) for r in depth_rows] == [(2, 2), (2, 2)]
  with pytest.raises(ValueError, match="unknown part"):
    vg.run_study(p, ("depth", "width"))
