"""experiments.init_study: He's variance recursion, outcome labels, claim logic, and the study end to end."""
from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

from experiments.init_study import analysis, cells, claims
from experiments.init_study.config import get_config
from jaxdl.optim import OptimConfig
from jaxdl.study import CellRecord
from jaxdl.train import RunStatus
from conftest import run_module

STUDY = "experiments.init_study"
SMOKE = "--config=experiments/init_study/config.py:smoke"


def test_predicted_std_follows_he_recursion():
  """Var[y_0] = n Var[w] E[x^2]; then each ReLU layer multiplies Var by n Var[w] / 2."""
  he = analysis.predicted_preact_std(np.full(5, 2.0), input_mean_square=0.25)
  np.testing.assert_allclose(he, np.sqrt(0.5))  # He: constant
  lecun = analysis.predicted_preact_std(np.full(5, 1.0), input_mean_square=0.25)
  np.testing.assert_allclose(lecun, 0.5 * 2.0 ** (-np.arange(5) / 2))  # "Xavier": 1/sqrt(2) per layer
  mixed = analysis.predicted_preact_std(np.array([3.0, 8.0, 0.5]), input_mean_square=1.0)
  np.testing.assert_allclose(mixed, np.sqrt([3.0, 3.0 * 4.0, 3.0 * 4.0 * 0.25]))


def _replicas(train_losses, statuses=None):
  statuses = statuses or ["done"] * len(train_losses)
  return [{"train_loss": loss, "status": st, "diverged_step": 7 if st == "diverged" else None}
          for loss, st in zip(train_losses, statuses)]


def test_outcome_labels():
  chance = math.log(10)
  assert analysis.outcome(_replicas([0.1, 0.3]), 10) == "converged"
  assert analysis.outcome(_replicas([chance, 0.99 * chance]), 10) == "stalled"
  assert analysis.outcome(_replicas([0.7 * chance]), 10) == "slow"
  assert analysis.outcome(_replicas([math.nan, math.nan], ["diverged"] * 2), 10) == "diverged (step 7)"
  assert analysis.outcome(_replicas([0.2, math.nan], ["done", "diverged"]), 10) == "converged, 1/2 diverged"


def _record(replicas, init_stats, train_loss=None):
  """A finished cell's record: the epoch-0 hook record (layer statistics [K, L]), then one epoch."""
  history = [{"epoch": 0, **{f"diag_{k}": v.tolist() for k, v in init_stats.items()}}]
  if train_loss is not None:
    history.append({"epoch": 1, "train_loss": list(train_loss)})
  return CellRecord("c", "", {}, RunStatus.DONE, replicas, history, {}, {})


def _he_cell(depth, scale, losses, statuses=None, grad=1.0):
  k = len(losses)
  std = np.tile(scale ** (np.arange(depth) / 2), (k, 1))  # the per-layer pre-activation std
  return _record(_replicas(losses, statuses), {"preact_std": std, "kernel_grad_norm": np.full((k, depth), grad)},
                 train_loss=losses)


def _he_verdicts(he_cells):
  return {c.source: c.held for c in claims.he_claims(he_cells, 10)}


def test_he_claims_do_not_count_a_cell_with_a_diverged_seed_as_converged():
  he_cells = {(d, "he_normal"): _he_cell(d, 1.0, [0.1, 0.1]) for d in (4, 6)}
  he_cells.update({(d, "lecun_normal"): _he_cell(d, 0.5, [0.2, 0.2], grad=1e-3) for d in (4, 6)})
  held = _he_verdicts(he_cells)
  assert held["He et al. 2015, Sec. 2.2"] and held["He et al. 2015, eq. (10)"]
  assert held["He et al. 2015, Fig. 2"]  # both converge, He's first-epoch loss lower
  he_cells[4, "he_normal"] = _he_cell(4, 1.0, [0.1, math.nan], ["done", "diverged"])  # "converged, 1/2 diverged"
  assert not _he_verdicts(he_cells)["He et al. 2015, Fig. 2"]
  # Fig. 3 needs Xavier stalled AND its gradient < 1/10 of He's
  he_cells[6, "lecun_normal"] = _he_cell(6, 0.5, [2.3, 2.3], grad=0.5)
  assert not _he_verdicts(he_cells)["He et al. 2015, Fig. 3"]
  he_cells[6, "lecun_normal"] = _he_cell(6, 0.5, [2.3, 2.3], grad=0.01)
  assert _he_verdicts(he_cells)["He et al. 2015, Fig. 3"]


def _glorot_cell(test_accs):
  return _record([{"test_acc": a} for a in test_accs], {"preact_grad_std": np.ones((len(test_accs), 3))})


def test_glorot_table_claims_need_a_gap_beyond_the_seed_std_and_finite_cells():
  verdicts = lambda glorot_cells: [c.held for c in claims.glorot_claims(glorot_cells)][1:]  # noqa: E731
  glorot_cells = {"tanh": _glorot_cell([0.80, 0.86]), "tanh-N": _glorot_cell([0.88, 0.82]),
                  "sigmoid": _glorot_cell([0.5, 0.5])}
  assert verdicts(glorot_cells) == [False, True]  # tanh-N's mean is lower, but by less than the std
  glorot_cells["tanh-N"] = _glorot_cell([0.95, 0.96])
  assert verdicts(glorot_cells) == [True, True]
  glorot_cells["sigmoid"] = _glorot_cell([0.5, math.nan])  # a diverged seed: not comparable
  assert verdicts(glorot_cells) == [True, None]


def test_quick_variant_cells_are_the_papers_nets_on_a_5k_subset():
  config = get_config("quick")
  built = {c.name: c.config for c in cells.cells(config)}
  assert len(built) == 2 * 6 + 5 and list(built)[-1] == "glorot_sigmoid"
  he = built["he_d30_normal_std_0_01"]
  assert he.model_options == {"widths": (64,) * 30, "activation": "relu", "kernel_init": "normal:std=0.01"}
  assert (he.optim, he.batch_size, he.epochs, he.seeds) == (OptimConfig(name="momentum", lr=0.01, momentum=0.9),
                                                            64, 4, (0, 1))
  glorot = built["glorot_tanh_n"]
  assert glorot.model_options == {"widths": (256,) * 5, "activation": "tanh", "kernel_init": "glorot_uniform"}
  assert (glorot.optim, glorot.batch_size, glorot.epochs) == (OptimConfig(name="sgd", lr=0.1), 10, 2)
  assert {c.train_size for c in built.values()} == {5000} and {c.dataset for c in built.values()} == {"mnist"}
  with pytest.raises(ValueError, match="smoke, quick, full"):
    get_config("medium")


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp("init_study") / "run")
  proc = run_module(STUDY, SMOKE, f"--workdir={workdir}", timeout=600, check=True)
  return workdir, proc.stdout


def _read(workdir, *names):
  return {n: open(os.path.join(workdir, n), "rb").read() for n in names}


def test_smoke_study_writes_tables_claims_and_figures(smoke_run):
  workdir, out = smoke_run
  for name in ("table.md", "table.csv", "claims.json", "he_activation_std.png", "he_gradient_std.png",
               "he_training_curves.png", "glorot_gradient_std.png", "glorot_jacobian.png",
               "glorot_training_curves.png"):
    assert os.path.getsize(os.path.join(workdir, name)) > 0, name
  table = open(os.path.join(workdir, "table.md")).read()
  assert "measured vs predicted" in table and "| tanh-N |" in table and "1.64" in table
  verdicts = json.load(open(os.path.join(workdir, "claims.json")))
  assert len(verdicts) == 9 and all(v["held"] in (True, False, None) and v["measured"] for v in verdicts)
  assert out.count("CLAIM ") == len(verdicts)
  he_section = table.split("## ")[1]  # the He outcome table: one row per initializer at depth 3
  rows = [line.split(" | ") for line in he_section.splitlines() if line.startswith("| 3 |")]
  assert len(rows) == 3
  assert all(row[3].split(",")[0].split(" (")[0] in ("converged", "slow", "stalled", "diverged") for row in rows)


def test_smoke_cells_log_layer_statistics_and_jacobians_at_init(smoke_run):
  workdir, _ = smoke_run
  tanh = [json.loads(line) for line in open(os.path.join(workdir, "cells", "glorot_tanh", "metrics.jsonl"))]
  assert [r["epoch"] for r in tanh] == [0, 1]
  assert [len(v) for v in tanh[0]["jacobian_singular_values"].values()] == [16, 16]  # 1 example x 16 units
  assert "jacobian_singular_values" not in tanh[1]
  assert np.asarray(tanh[0]["diag_preact_std"]).shape == (2, 2)  # [seeds, hidden layers]
  he = [json.loads(line) for line in open(os.path.join(workdir, "cells", "he_d3_he_normal", "metrics.jsonl"))]
  assert np.all(np.isfinite(np.asarray(he[0]["diag_preact_std"]))) and np.shape(he[-1]["diag_preact_std"]) == (2, 3)
  assert "jacobian_singular_values" not in he[0] and he[0]["num_classes"] == 10


def test_report_only_reproduces_the_report(smoke_run):
  workdir, _ = smoke_run
  before = _read(workdir, "table.md", "claims.json")
  os.remove(os.path.join(workdir, "table.md"))
  out = run_module(STUDY, f"--workdir={workdir}", "--report_only", check=True).stdout
  assert "epoch 1/" not in out
  assert _read(workdir, "table.md", "claims.json") == before
