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


def _he_cell(depth, scale, losses, statuses=None, grad=1.0):
  cell = _cell(losses, statuses)
  k = len(losses)
  std = np.tile(scale ** (np.arange(depth) / 2), (k, 1))  # the per-layer pre-activation std
  return dataclasses.replace(cell, train_loss_curve=np.tile(losses, (1, 1)),
                             init_stats={"preact_std": std, "kernel_grad_norm": np.full((k, depth), grad)})


def test_he_claims_do_not_count_a_cell_with_a_diverged_seed_as_converged():
  settings = dataclasses.replace(init_study.PRESETS["quick"], he_depths=(4, 6), he_inits=("lecun_normal", "he_normal"))
  cells = {(d, "he_normal"): _he_cell(d, 1.0, [0.1, 0.1]) for d in (4, 6)}
  cells.update({(d, "lecun_normal"): _he_cell(d, 0.5, [0.2, 0.2], grad=1e-3) for d in (4, 6)})
  held = {c.source: c.held for c in init_study.he_claims({"cells": cells}, settings, 10)}
  assert held["He et al. 2015, Sec. 2.2"] and held["He et al. 2015, eq. (10)"]
  assert held["He et al. 2015, Fig. 2"]  # both converge, He's first-epoch loss lower
  cells[4, "he_normal"] = _he_cell(4, 1.0, [0.1, math.nan], ["done", "diverged"])  # "converged, 1/2 diverged"
  assert not {c.source: c.held for c in init_study.he_claims({"cells": cells}, settings, 10)}["He et al. 2015, Fig. 2"]
  # Fig. 3 needs Xavier stalled AND its gradient < 1/10 of He's
  cells[6, "lecun_normal"] = _he_cell(6, 0.5, [2.3, 2.3], grad=0.5)
  assert not {c.source: c.held for c in init_study.he_claims({"cells": cells}, settings, 10)}["He et al. 2015, Fig. 3"]
  cells[6, "lecun_normal"] = _he_cell(6, 0.5, [2.3, 2.3], grad=0.01)
  assert {c.source: c.held for c in init_study.he_claims({"cells": cells}, settings, 10)}["He et al. 2015, Fig. 3"]


def _glorot_cell(test_accs):
  replicas = [{"test_acc": a} for a in test_accs]
  return init_study.CellResult("c", TrainConfig(), replicas, np.zeros((1, 1)), np.zeros((1, 1)),
                               {"preact_grad_std": np.ones((len(test_accs), 3))}, {}, None, {})


def test_glorot_table_claims_need_a_gap_beyond_the_seed_std_and_finite_cells():
  verdicts = lambda cells: [c.held for c in init_study.glorot_claims({"cells": cells, "jacobians": {}})][1:]  # noqa: E731
  cells = {"tanh": _glorot_cell([0.80, 0.86]), "tanh-N": _glorot_cell([0.88, 0.82]), "sigmoid": _glorot_cell([0.5, 0.5])}
  assert verdicts(cells) == [False, True]  # tanh-N's mean is lower, but by less than the std
  cells["tanh-N"] = _glorot_cell([0.95, 0.96])
  assert verdicts(cells) == [True, True]
  cells["sigmoid"] = _glorot_cell([0.5, math.nan])  # a diverged seed: not comparable
  assert verdicts(cells) == [True, None]


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
