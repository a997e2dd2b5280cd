"""The study shape on a three-cell fixture study (tests/study_fixture): resume after SIGKILL,
skip finished cells, --cells / --list_cells / --report_only, config overrides and their errors,
provenance."""
from __future__ import annotations

import json
import os
import re
import signal
import time

import pytest

from conftest import run_module, start_module

STUDY = "tests.study_fixture"
CONFIG = "--config=tests/study_fixture/config.py:smoke"


def _files(workdir, *names) -> dict[str, bytes]:
  return {n: open(os.path.join(workdir, n), "rb").read() for n in names}


def _replicas(workdir, cell) -> list[dict]:
  with open(os.path.join(workdir, "cells", cell, "results.json")) as f:
    return json.load(f)["replicas"]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp("study") / "run")
  proc = run_module(STUDY, CONFIG, f"--workdir={workdir}", check=True)
  return workdir, proc.stdout


def test_study_writes_cells_report_and_provenance(uninterrupted):
  workdir, out = uninterrupted
  assert "CLAIM HELD: the larger lr reaches a higher test accuracy" in out
  assert "| lr_small |" in open(os.path.join(workdir, "table.md")).read()
  for cell in ("lr_small", "lr_large"):
    files = set(os.listdir(os.path.join(workdir, "cells", cell)))
    assert {"config.json", "metrics.jsonl", "status.json", "results.json", "checkpoints", "tb"} <= files
  with open(os.path.join(workdir, "cells", "lr_small", "config.json")) as f:
    prov = json.load(f)["provenance"]
  assert prov["config_variant"] == "smoke" and "--workdir=" in prov["command"]
  assert prov["versions"]["jax"] and prov["backend"] == "cpu" and "commit" in prov and "dirty" in prov
  with open(os.path.join(workdir, "config.json")) as f:
    assert json.load(f)["config"]["train"]["epochs"] == 3
  # compile time per cell and per study: every cell trained a program, and the training step is named
  assert re.search(r"\[1/3 lr_small\] done in [\d.]+ s \(compiling [\d.]+ s: [1-9]\d* programs(, \d+ from the cache)?\)", out), out
  with open(os.path.join(workdir, "compiles.json")) as f:
    compiles = json.load(f)
  assert compiles["programs"] == sum(p["count"] for p in compiles["by_program"]) > 0
  assert any("step" in p["name"] or "epoch" in p["name"] for p in compiles["by_program"]), compiles
  # each cell's timing.json has its own table, which adds up to the cell's totals
  with open(os.path.join(workdir, "cells", "lr_small", "timing.json")) as f:
    timing = json.load(f)
  assert timing["programs"] == sum(p["count"] for p in timing["by_program"].values()) > 0, timing
  assert timing["cached_programs"] == sum(p["cached"] for p in timing["by_program"].values()), timing


def test_rerun_skips_finished_cells_and_report_only_reproduces_the_report(uninterrupted):
  workdir, _ = uninterrupted
  before = _files(workdir, "table.md", "claims.json")
  out = run_module(STUDY, CONFIG, f"--workdir={workdir}", check=True).stdout
  assert out.count("finished earlier") == 3 and "epoch 1/" not in out
  assert _files(workdir, "table.md", "claims.json") == before
  os.remove(os.path.join(workdir, "table.md"))
  trained_compiles = _files(workdir, "compiles.json")
  out = run_module(STUDY, f"--workdir={workdir}", "--report_only", check=True).stdout
  assert _files(workdir, "table.md", "claims.json") == before
  # the report's own compiling goes to its own file: the training run's table is kept
  assert _files(workdir, "compiles.json") == trained_compiles and "report_compiles.json" in out


def test_sigkill_mid_cell_resumes_to_the_same_bits(uninterrupted, tmp_path):
  reference, _ = uninterrupted
  workdir = str(tmp_path / "killed")
  proc = start_module(STUDY, CONFIG, f"--workdir={workdir}")
  lines, deadline = [], time.time() + 240
  # Kill mid-cell: the epoch-2 line comes after the epoch-1 checkpoint, before the last epoch.
  while time.time() < deadline:
    line = proc.stdout.readline()
    lines.append(line)
    if line.startswith("[2/3 lr_large] epoch 2/3") or not line:
      break
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  assert lines[-1].startswith("[2/3 lr_large] epoch 2/3"), "".join(lines)
  out = run_module(STUDY, CONFIG, f"--workdir={workdir}", check=True).stdout
  assert "[1/3 lr_small] finished earlier" in out  # not retrained
  assert "[2/3 lr_large] resumed from step" in out
  for cell in ("lr_small", "lr_large"):
    assert _replicas(workdir, cell) == _replicas(reference, cell)
  assert _files(workdir, "table.md", "claims.json") == _files(reference, "table.md", "claims.json")
  # timing.json is written when a cell's run ends: a cell finished earlier is not timed again, and a
  # SIGKILLed attempt's time is lost.
  for cell in ("lr_small", "lr_large"):
    with open(os.path.join(workdir, "cells", cell, "timing.json")) as f:
      assert json.load(f)["runs"] == 1


def test_cells_list_cells_and_needs(tmp_path):
  workdir = str(tmp_path / "partial")
  listing = run_module(STUDY, CONFIG, f"--workdir={workdir}", "--list_cells", check=True).stdout
  assert listing.splitlines() == ["lr_small\tTrainCell\t-\t", "lr_large\tTrainCell\t-\t",
                                  "accuracies\tMeasureCell\t-\tlr_small,lr_large"]
  proc = run_module(STUDY, CONFIG, f"--workdir={workdir}", "--cells=accuracies")
  assert proc.returncode == 2 and "needs lr_small, lr_large finished first" in proc.stderr
  proc = run_module(STUDY, CONFIG, f"--workdir={workdir}", "--cells=nope*")
  assert proc.returncode == 2 and "no cell matches 'nope*'" in proc.stderr


def test_config_overrides_and_their_errors(uninterrupted, tmp_path):
  reference, _ = uninterrupted
  proc = run_module(STUDY, CONFIG, "--config.nope=1", f"--workdir={tmp_path}")
  assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
  assert "unknown config key --config.nope; valid keys: lr, train.augment_noise" in proc.stderr
  proc = run_module(STUDY, CONFIG, "--config.train.epochs=abc", f"--workdir={tmp_path}")
  assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
  # The same workdir with another config is refused, and nothing there changes.
  before = _files(reference, "config.json")
  proc = run_module(STUDY, CONFIG, "--config.lr=0.02", f"--workdir={reference}")
  assert proc.returncode == 2 and "different config" in proc.stderr
  assert _files(reference, "config.json") == before
  # An override reaches the cell's TrainConfig.
  other = tmp_path / "other"
  run_module(STUDY, CONFIG, "--config.train.epochs=1", "--config.lr=0.05", f"--workdir={other}",
             "--cells=lr_small", check=True)
  with open(other / "cells" / "lr_small" / "config.json") as f:
    cell = json.load(f)
  assert cell["epochs"] == 1 and cell["optim"]["lr"] == 0.05
