"""The dropout vs batch norm study: its bookkeeping, its claims, and one smoke run with its report."""
import json
import os

import pytest

from experiments.dropout_vs_batchnorm import claims
from experiments.dropout_vs_batchnorm.cells import cells
from experiments.dropout_vs_batchnorm.config import get_config
from experiments.dropout_vs_batchnorm.rows import REGULARIZERS, add_steps_to_target, after_dropout, lr_behaviour, \
    regularizer
from jaxdl.errors import UserError
from conftest import run_module

STUDY = "experiments.dropout_vs_batchnorm"
SMOKE = "--config=experiments/dropout_vs_batchnorm/config.py:smoke"


def test_regularizers_and_bn_layers_after_dropout():
  assert [regularizer(bn, p) for bn in (False, True) for p in (0.0, 0.5)] == list(REGULARIZERS)
  assert [after_dropout(n) for n in ("bn0", "bn1", "bn2", "conv_bn1", "dense_bn0", "dense_bn1")] == \
      [False, True, True, False, False, True]


def test_cells_are_one_program_per_net_and_batch_norm():
  config = get_config("quick")
  built = cells(config)
  assert [c.name for c in built] == [f"{net}_{bn}" for net in ("sigmoid_mlp", "relu_mlp", "cnn")
                                     for bn in ("plain", "bn")]
  relu_bn = built[3].config
  assert relu_bn.model_options == {"widths": (256, 256), "activation": "relu", "batch_norm": True}
  # replicas: lr (outer) x dropout x seeds (inner), as the old --preset=quick trained them
  assert [(r["lr"], r["dropout_rate"], r["seed"]) for r in relu_bn.replicas()][:5] == \
      [(0.01, 0.0, 0), (0.01, 0.0, 1), (0.01, 0.5, 0), (0.01, 0.5, 1), (0.05, 0.0, 0)]
  assert built[0].data_spec == {"val_size": 10000, "train_size": 3000, "val_subset": 1000, "test_subset": 2000}
  config.train.train_size = 100
  with pytest.raises(UserError, match="config.data"):
    cells(config)
  with pytest.raises(ValueError, match="smoke, quick, full"):
    get_config("tiny")


def test_lr_behaviour_classifies_each_seed():
  rows = [{"status": "done", "best_val_acc": 0.9}, {"status": "diverged", "best_val_acc": float("nan")},
          {"status": "done", "best_val_acc": 0.11}]
  assert lr_behaviour(rows[:1], stall_acc=0.5) == "trains"
  assert lr_behaviour(rows, stall_acc=0.5) == "1/3 diverges, 1/3 stalls, 1/3 trains"


def test_steps_to_target_use_the_baseline_best_val():
  rows = [{"net": "n", "regularizer": "none", "lr_mult": 1.0, "best_val_acc": 0.8, "steps_per_epoch": 10,
           "val_curve": [0.5, 0.8]},
          {"net": "n", "regularizer": "bn", "lr_mult": 5.0, "best_val_acc": 0.9, "steps_per_epoch": 10,
           "val_curve": [0.85, 0.9]},
          {"net": "n", "regularizer": "dropout", "lr_mult": 1.0, "best_val_acc": 0.7, "steps_per_epoch": 10,
           "val_curve": [0.6, 0.7]}]
  add_steps_to_target(rows)
  assert [r["steps_to_target"] for r in rows] == [20, 10, None]


def _row(reg, lr_mult=1.0, acc=0.9, steps=100, status="done", **extra):
  return {"net": "relu_mlp", "regularizer": reg, "lr_mult": lr_mult, "test_acc": acc, "best_val_acc": acc,
          "steps_to_target": steps, "status": status, **extra}


def _rows(bn5_steps=(50, 50), plain30=(0.1, 0.1), fix_both=0.02, fix_bn=0.0):
  shift = {"bn0": {"mean_ratio": 1.0}, "bn1": {"mean_ratio": 1.8}}
  rows = [_row("none", steps=100), _row("none", steps=None), _row("dropout", acc=0.91),
          _row("bn", test_acc_recomputed_bn=0.9 + fix_bn), _row("both", acc=0.9, variance_shift=shift,
                                                                test_acc_recomputed_bn=0.9 + fix_both)]
  rows += [_row("bn", 5.0, steps=s) for s in bn5_steps]
  rows += [_row("none", 30.0, acc=a) for a in plain30] + [_row("bn", 30.0, acc=0.9)]
  return rows


def test_claims_need_every_seed_and_beat_the_no_dropout_control():
  held = lambda rows: [c.held for c in claims.check(rows, stall_acc=0.5)]  # noqa: E731
  assert held(_rows()) == [True, True, True, True, True]
  # one BN@5x seed never reached the target; one plain seed still trains at 30x
  assert held(_rows(bn5_steps=(50, None), plain30=(0.1, 0.9)))[:2] == [False, False]
  # recomputing helps the dropout replicas no more than the control: that is lag, not variance shift
  assert held(_rows(fix_both=0.01, fix_bn=0.02))[4] is False


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("dropout_vs_batchnorm")
  proc = run_module(STUDY, SMOKE, f"--workdir={workdir}", timeout=600, check=True)
  return workdir, proc.stdout


def test_smoke_run_writes_tables_measurements_and_verdicts(smoke_run):
  workdir, stdout = smoke_run
  for name in ("table.md", "table.csv", "claims.json", "val_curves.png"):
    assert os.path.getsize(workdir / name) > 0
  table = (workdir / "table.md").read_text()
  assert "| relu_mlp | both |" in table and "| sigmoid_mlp | both | bn1 | yes |" in table
  verdicts = json.loads((workdir / "claims.json").read_text())
  assert len(verdicts) == 5 and stdout.count("CLAIM ") == 5
  both = json.loads((workdir / "cells" / "relu_mlp_bn" / "measurements.json").read_text())
  measured = [m for m in both["bn"] if m]  # the non-diverged replicas at 1x lr: none at 5x or 30x
  assert measured and len(both["bn"]) == 3 * 2 * 2
  assert [s["layer"] for s in measured[0]["variance_shift"]] == ["bn0", "bn1"]
  plain = json.loads((workdir / "cells" / "relu_mlp_plain" / "measurements.json").read_text())
  assert plain == {"steps_per_epoch": 5}  # 300 examples / batch 60


def test_report_only_remakes_the_report_from_the_cell_directories(smoke_run):
  workdir, _ = smoke_run
  before = {name: (workdir / name).read_bytes() for name in ("table.md", "claims.json")}
  os.remove(workdir / "table.md")
  run_module(STUDY, "--report_only", f"--workdir={workdir}", check=True)
  assert {name: (workdir / name).read_bytes() for name in before} == before
