"""experiments.init_study: He's variance recursion, outcome labels, the config, and the study end to end
(the claims' logic: tests/test_init_claims.py)."""
from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

from experiments.init_study import analysis, cells, draws
from experiments.init_study.config import get_config
from jaxdl.optim import OptimConfig
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


def test_quick_variant_cells_are_the_papers_nets_on_a_5k_subset():
  config = get_config("quick")
  built = {c.name: getattr(c, "config", None) for c in cells.cells(config)}
  assert list(built)[-1] == draws.CELL_NAME and built.pop(draws.CELL_NAME) is None
  assert len(built) == 2 * 4 + 5 and list(built)[-1] == "glorot_sigmoid"
  he = built["he_d30_normal_std_0_01"]
  assert he.model_options == {"widths": (64,) * 30, "activation": "relu", "kernel_init": "normal:std=0.01"}
  assert (he.optim, he.batch_size, he.epochs, he.seeds) == (OptimConfig(name="momentum", lr=0.01, momentum=0.9),
                                                            64, 4, (0, 1, 2))
  glorot = built["glorot_tanh_n"]
  assert glorot.model_options == {"widths": (256,) * 5, "activation": "tanh", "kernel_init": "glorot_uniform"}
  assert (glorot.optim, glorot.batch_size, glorot.epochs) == (OptimConfig(name="sgd", lr=0.1), 10, 2)
  assert {c.train_size for c in built.values()} == {5000} and {c.dataset for c in built.values()} == {"mnist"}
  config.seed_offset = 10
  assert {c.config.seeds for c in cells.cells(config) if hasattr(c, "config")} == {(10, 11, 12)}
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
  assert len(verdicts) == 10 and all(v["held"] in (True, False, None) and v["measured"] for v in verdicts)
  assert out.count("CLAIM ") == len(verdicts)
  he_section = table.split("## ")[1]  # the He outcome table: one row per initializer at depth 3
  rows = [line.split(" | ") for line in he_section.splitlines() if line.startswith("| 3 |")]
  assert len(rows) == 3
  assert all(row[3].split(",")[0].split(" (")[0] in ("converged", "slow", "stalled", "diverged") for row in rows)


def test_smoke_cells_log_layer_statistics_and_jacobians_at_init(smoke_run):
  workdir, _ = smoke_run
  tanh = [json.loads(line) for line in open(os.path.join(workdir, "cells", "glorot_tanh", "metrics.jsonl"))]
  assert [r["epoch"] for r in tanh] == [0, 1]
  # per seed, per hidden layer: 1 example x 16 units
  assert [[len(v) for v in by_layer.values()] for by_layer in tanh[0]["jacobian_singular_values"]] == [[16, 16]] * 2
  assert "jacobian_singular_values" not in tanh[1]
  assert np.asarray(tanh[0]["diag_preact_std"]).shape == (2, 2)  # [seeds, hidden layers]
  he = [json.loads(line) for line in open(os.path.join(workdir, "cells", "he_d3_he_normal", "metrics.jsonl"))]
  assert np.all(np.isfinite(np.asarray(he[0]["diag_preact_std"]))) and np.shape(he[-1]["diag_preact_std"]) == (2, 3)
  assert "jacobian_singular_values" not in he[0] and he[0]["num_classes"] == 10
  independent = json.load(open(os.path.join(workdir, "cells", draws.CELL_NAME, "results.json")))
  assert np.shape(independent["depth3"]["he_normal"]["group_mean"]) == (2, 3)  # [groups, layers]
  assert len(independent["depth3"]["lecun_normal"]["last"]) == 8  # 2 groups x 4 draws


def test_report_only_reproduces_the_report(smoke_run):
  workdir, _ = smoke_run
  before = _read(workdir, "table.md", "claims.json")
  os.remove(os.path.join(workdir, "table.md"))
  out = run_module(STUDY, f"--workdir={workdir}", "--report_only", check=True).stdout
  assert "epoch 1/" not in out
  assert _read(workdir, "table.md", "claims.json") == before
