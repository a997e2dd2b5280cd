"""experiments.init_study: He's variance recursion, outcome labels, and the study end to end."""
from __future__ import annotations

import dataclasses
import json
import math
import os

import numpy as np

from experiments import init_study
from jaxdl.optim import OptimConfig
from jaxdl.train import TrainConfig


def test_predicted_std_follows_he_recursion():
  """Var[y_0] = n Var[w] E[x^2]; then each ReLU layer multiplies Var by n Var[w] / 2."""
  he = init_study.predicted_preact_std(np.full(5, 2.0), input_mean_square=0.25)
  np.testing.assert_allclose(he, np.sqrt(0.5))  # He: constant
  lecun = init_study.predicted_preact_std(np.full(5, 1.0), input_mean_square=0.25)
  np.testing.assert_allclose(lecun, 0.5 * 2.0 ** (-np.arange(5) / 2))  # "Xavier": 1/sqrt(2) per layer
  mixed = init_study.predicted_preact_std(np.array([3.0, 8.0, 0.5]), input_mean_square=1.0)
  np.testing.assert_allclose(mixed, np.sqrt([3.0, 3.0 * 4.0, 3.0 * 4.0 * 0.25]))


def _cell(train_losses, statuses=None):
  statuses = statuses or ["done"] * len(train_losses)
  replicas = [{"train_loss": loss, "status": st, "diverged_step": 7 if st == "diverged" else None}
              for loss, st in zip(train_losses, statuses)]
  return init_study.CellResult("c", TrainConfig(), replicas, np.zeros((1, 1)), np.zeros((1, 1)),
                               {}, {}, None, {})


def test_outcome_labels():
  chance = math.log(10)
  assert init_study.outcome(_cell([0.1, 0.3]), 10) == "converged"
  assert init_study.outcome(_cell([chance, 0.99 * chance]), 10) == "stalled"
  assert init_study.outcome(_cell([0.7 * chance]), 10) == "slow"
  assert init_study.outcome(_cell([math.nan, math.nan], ["diverged"] * 2), 10) == "diverged (step 7)"
  assert init_study.outcome(_cell([0.2, math.nan], ["done", "diverged"]), 10) == "converged, 1/2 diverged"


def test_study_smallest_setting_end_to_end(tmp_path):
  """Both parts on a tiny MNIST subset, one epoch: every output exists and is well-formed."""
  settings = dataclasses.replace(
      init_study.PRESETS["quick"], train_size=256, seeds=1, probe_size=32,
      he_depths=(3,), he_width=16, he_inits=("normal:std=1", "lecun_normal", "he_normal"),
      he_batch_size=64, he_epochs=1, glorot_cells=("tanh", "tanh-N"), glorot_depth=2, glorot_width=16,
      glorot_optim=OptimConfig(name="sgd", lr=0.1), glorot_batch_size=64, glorot_epochs=1,
      jacobian_labels=("tanh", "tanh-N"), jacobian_examples=1)
  result = init_study.run_study(settings, "mnist", echo=lambda _: None)
  init_study.write_report(result, str(tmp_path), echo=lambda _: None)
  for name in ("table.md", "table.csv", "results.json", "claims.json", "he_activation_std.png",
               "he_gradient_std.png", "he_training_curves.png", "glorot_gradient_std.png",
               "glorot_jacobian.png", "glorot_training_curves.png"):
    assert os.path.getsize(tmp_path / name) > 0, name
  for cell in result.he["cells"].values():
    assert init_study.outcome(cell, 10).split(" ")[0].rstrip(",") in ("converged", "slow", "stalled", "diverged")
  stats = result.he["cells"][3, "he_normal"].init_stats
  assert stats["preact_std"].shape == (1, 3) and np.all(np.isfinite(stats["preact_std"]))
  assert [len(s) for s in result.glorot["jacobians"]["tanh"]] == [16, 16]  # 1 example x 16 units
  claims = json.loads((tmp_path / "claims.json").read_text())
  assert len(claims) == len(result.claims) >= 5
  assert all(c["held"] in (True, False) and c["measured"] for c in claims)
  table = (tmp_path / "table.md").read_text()
  assert "measured vs predicted" in table and "tanh-N" in table and "1.64" in table
