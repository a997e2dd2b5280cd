"""The entry point's user-facing behaviour: clear errors, divergence, nothing lost."""
from __future__ import annotations

import gzip
import os
import shutil

import pytest

from conftest import run_module

TINY = ["--dataset=synthetic", "--data_arg=n_train=128", "--data_arg=n_test=32",
        "--data_arg=shape=(8,8,1)", "--model_arg=widths=(8,)", "--batch_size=32", "--epochs=1"]


def test_unknown_names_list_the_valid_ones():
  proc = run_module("experiments.train", "--model=transformer")
  assert proc.returncode != 0 and "cnn" in proc.stderr and "mlp" in proc.stderr
  proc = run_module("experiments.train", "--dataset=cifar10")
  assert proc.returncode != 0 and "fashion_mnist" in proc.stderr and "mnist1d" in proc.stderr
  proc = run_module("experiments.train", "--optimizer=lion")
  assert proc.returncode != 0 and "adadelta" in proc.stderr
  proc = run_module("experiments.train", *TINY, "--init=kaiming")
  assert proc.returncode == 2 and "he_normal" in proc.stderr and "Traceback" not in proc.stderr
  proc = run_module("experiments.train", *TINY, "--model_arg=depht=3")
  assert proc.returncode == 2 and "widths" in proc.stderr and "Traceback" not in proc.stderr


def test_huge_learning_rate_ends_as_diverged_without_traceback(tmp_path):
  proc = run_module("experiments.train", *TINY, "--lr=1e4", "--epochs=3", f"--workdir={tmp_path}/run")
  assert proc.returncode == 0, proc.stderr
  assert "status: diverged" in proc.stdout and "diverged at step" in proc.stdout
  assert "Traceback" not in proc.stderr
  assert '"status": "diverged"' in open(tmp_path / "run" / "status.json").read()


def test_corrupted_data_is_refused_and_nothing_is_written(tmp_path):
  data_dir = tmp_path / "mnist"
  data_dir.mkdir()
  shared = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "mnist")
  for name in os.listdir(shared):
    shutil.copy(os.path.join(shared, name), data_dir / name)
  raw = bytearray(gzip.decompress((data_dir / "t10k-labels-idx1-ubyte.gz").read_bytes()))
  raw[100] ^= 1  # one label altered
  (data_dir / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(raw)))
  workdir = tmp_path / "run"
  proc = run_module("experiments.train", "--dataset=mnist", f"--data_dir={tmp_path}", "--epochs=1",
                    f"--workdir={workdir}")
  assert proc.returncode == 2
  assert "t10k-labels-idx1-ubyte" in proc.stderr
  assert "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2" in proc.stderr
  assert "Traceback" not in proc.stderr
  assert not workdir.exists()


def test_a_different_config_never_overwrites_an_existing_run(tmp_path):
  workdir = tmp_path / "run"
  run_module("experiments.train", *TINY, f"--workdir={workdir}", check=True)
  before = {p: open(os.path.join(workdir, p), "rb").read() for p in ("config.json", "metrics.jsonl", "results.json")}
  proc = run_module("experiments.train", *TINY, "--lr=0.5", f"--workdir={workdir}")
  assert proc.returncode == 2 and "different config" in proc.stderr and "lr" not in proc.stdout
  assert {p: open(os.path.join(workdir, p), "rb").read() for p in before} == before


def test_helpfull_documents_every_training_flag():
  out = run_module("experiments.train", "--helpfull").stdout
  for flag in ("--dataset", "--model", "--optimizer", "--lr", "--batch_size", "--epochs", "--seeds",
               "--workdir", "--preset", "--init", "--lr_grid", "--sweep"):
    assert flag in out


def test_key_values_parse_literals_and_names_but_reject_broken_literals():
  from experiments.common import parse_key_values
  assert parse_key_values(["widths=(16, 8)", "activation=tanh", "init=normal:std=0.01", "p=0.5"],
                          "model_arg") == {"widths": (16, 8), "activation": "tanh",
                                           "init": "normal:std=0.01", "p": 0.5}
  with pytest.raises(ValueError, match="not a Python literal"):
    parse_key_values(["widths=(1000,)*5"], "model_arg")


def test_user_errors_print_one_line_and_bugs_keep_their_traceback(capsys):
  from absl import logging
  from experiments.common import run_cleanly
  from jaxdl.errors import UserError

  def bad_flag():
    raise UserError("batch_size 512 exceeds the 128 training examples")

  def bug():  # e.g. a shape error from inside JAX: not the user's to fix, so not hidden
    raise ValueError("Incompatible shapes for broadcasting: (3,) and (4,)")

  verbosity = logging.get_verbosity()
  try:
    assert run_cleanly(bad_flag) == 2
    assert capsys.readouterr().err == "error: batch_size 512 exceeds the 128 training examples\n"
    with pytest.raises(ValueError, match="Incompatible shapes"):
      run_cleanly(bug)
  finally:
    logging.set_verbosity(verbosity)
