"""Corrupt checkpoints fall back to an intact step; finished results stand; signals never kill the writes."""
from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import time

import pytest

from conftest import assert_trees_equal, start_module
from jaxdl.data import load_dataset
from jaxdl.errors import UserError
from jaxdl.optim import OptimConfig
from jaxdl.train import TrainConfig, load_run, train_and_evaluate, trainer
from jaxdl.train.checkpoint import MANIFEST, Checkpointer

DATA = load_dataset("synthetic", val_size=32, n_train=160, n_test=32, shape=(4, 4, 1))
SPE = (160 - 32) // 32  # steps per epoch: checkpoints at 4, 8, 12
CFG = TrainConfig(dataset="synthetic", model="mlp", model_options={"widths": (8,), "dropout_rate": 0.1},
                  optim=OptimConfig(name="momentum", lr=0.05), batch_size=32, epochs=3, val_size=32,
                  seeds=(0, 1), epoch_runner="loop")
OUTPUTS = ("results.json", "table.md", "table.csv")


def train(workdir: str, **kw):
  lines = []
  return train_and_evaluate(CFG, workdir, data=DATA, echo=lines.append, **kw), lines


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp("finished") / "run")
  return train(workdir)[0], workdir


@pytest.fixture
def copy(finished, tmp_path):
  """A copy of the finished run's directory, to corrupt."""
  workdir = str(tmp_path / "run")
  shutil.copytree(finished[1], workdir)
  return workdir


def step_dir(workdir: str, step: int) -> str:
  return os.path.join(workdir, "checkpoints", str(step))


def array_file(workdir: str, step: int) -> str:
  """The largest file of the step's array data (OCDBT)."""
  root = os.path.join(step_dir(workdir, step), "state")
  files = [os.path.join(r, f) for r, _, fs in os.walk(root) if os.path.basename(r) == "d" for f in fs]
  return max(files, key=os.path.getsize)


def flip_bytes(path: str, n: int = 64) -> None:
  with open(path, "r+b") as f:
    data = bytearray(f.read())
    start = len(data) // 2 - n // 2
    data[start:start + n] = bytes(b ^ 0xFF for b in data[start:start + n])
    f.seek(0)
    f.write(data)


def truncate(path: str) -> None:
  with open(path, "r+b") as f:
    f.truncate(os.path.getsize(path) // 2)


def contents(workdir: str, names=OUTPUTS) -> dict[str, bytes]:
  return {n: open(os.path.join(workdir, n), "rb").read() for n in names}


def checkpoint_warnings(caplog) -> list[str]:
  return [r.getMessage() for r in caplog.records
          if r.levelno >= logging.WARNING and "checkpoint step" in r.getMessage()]


def test_flipped_bytes_fall_back_a_step_retrain_the_same_bits_and_leave_the_results(finished, copy, caplog):
  whole, _ = finished
  flip_bytes(array_file(copy, 3 * SPE))
  before = contents(copy)
  result, lines = train(copy)
  [warning] = checkpoint_warnings(caplog)
  assert f"checkpoint step {3 * SPE} in {os.path.join(copy, 'checkpoints')} fails its checksums" in warning
  assert "\n" not in warning
  assert f"resumed from step {2 * SPE} ({copy})" in lines
  assert_trees_equal(result.state, whole.state)
  assert result.replicas == whole.replicas
  assert contents(copy) == before  # the finished run's results are not rewritten
  assert any(line.startswith("finished earlier: results.json") for line in lines)
  assert json.load(open(os.path.join(copy, "status.json")))["status"] == "done"
  # The corrupt step was replaced by the retrained one: it verifies and restores.
  caplog.clear()
  assert_trees_equal(Checkpointer(os.path.join(copy, "checkpoints")).restore(whole.state)[0], whole.state)
  assert not checkpoint_warnings(caplog)


@pytest.mark.parametrize("fault", ["truncated array data", "truncated _METADATA without a manifest"])
def test_a_truncated_file_falls_back_in_one_line(finished, copy, caplog, fault):
  whole, _ = finished
  last = step_dir(copy, 3 * SPE)
  if fault == "truncated array data":
    truncate(array_file(copy, 3 * SPE))
    expected = "fails its checksums"
  else:  # a step saved before manifests (or killed before its manifest): Orbax's error, in one line
    os.remove(os.path.join(last, MANIFEST))
    truncate(os.path.join(last, "state", "_METADATA"))
    expected = "cannot be read ("
  result, lines = train(copy)
  [warning] = checkpoint_warnings(caplog)
  assert f"checkpoint step {3 * SPE} " in warning and expected in warning and "\n" not in warning
  assert f"resumed from step {2 * SPE} ({copy})" in lines
  assert_trees_equal(result.state, whole.state)


def test_every_step_corrupt_is_one_user_error_and_the_results_are_untouched(copy):
  steps = sorted(int(d) for d in os.listdir(os.path.join(copy, "checkpoints")) if d.isdigit())
  assert steps == [SPE, 2 * SPE, 3 * SPE]
  for step in steps:
    flip_bytes(array_file(copy, step))
  before = contents(copy, (*OUTPUTS, "metrics.jsonl"))
  with pytest.raises(UserError, match=f"no intact checkpoint in {os.path.join(copy, 'checkpoints')} ") as e:
    train(copy)
  assert "\n" not in str(e.value) and all(f"step {s} fails its checksums" in str(e.value) for s in steps)
  assert contents(copy, (*OUTPUTS, "metrics.jsonl")) == before
  assert sorted(int(d) for d in os.listdir(os.path.join(copy, "checkpoints")) if d.isdigit()) == steps


def test_load_run_refuses_a_corrupt_last_step_rather_than_load_an_older_one(copy):
  flip_bytes(array_file(copy, 3 * SPE))
  with pytest.raises(UserError, match=f"checkpoint step {3 * SPE} in .* fails its checksums"):
    load_run(CFG, copy, data=DATA)


def test_ctrl_c_checkpoints_and_exits_like_sigterm_then_resumes_to_the_same_bits(finished, tmp_path):
  whole, _ = finished
  workdir = str(tmp_path / "run")
  handler = signal.getsignal(signal.SIGINT)

  def ctrl_c_in_epoch_2(state, program, hp):
    if int(state.step[0]) == SPE:
      os.kill(os.getpid(), signal.SIGINT)
    return {}

  try:
    stopped, lines = train(workdir, epoch_hook=ctrl_c_in_epoch_2)
  except KeyboardInterrupt:
    pytest.fail("Ctrl-C raised KeyboardInterrupt instead of checkpointing")
  assert stopped.status == "incomplete" and f"preempted at step {SPE + 1}: checkpoint saved, exiting" in lines
  assert str(SPE + 1) in os.listdir(os.path.join(workdir, "checkpoints"))
  assert signal.getsignal(signal.SIGINT) is handler  # restored after the run
  resumed, lines = train(workdir, epoch_hook=lambda *_: {})
  assert f"resumed from step {SPE + 1} ({workdir})" in lines
  assert_trees_equal(resumed.state, whole.state)


def test_signals_during_the_final_writes_are_ignored_until_they_are_written(tmp_path, monkeypatch):
  reached = []
  stand_in = lambda signum, frame: reached.append(signum)  # noqa: E731 - for the default handlers
  previous = {sig: signal.signal(sig, stand_in) for sig in (signal.SIGTERM, signal.SIGINT)}
  write_outputs = trainer._write_outputs

  def signalled_write_outputs(*args, **kw):
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGTERM):
      os.kill(os.getpid(), sig)
    time.sleep(0.01)  # let the handlers run before the writes
    return write_outputs(*args, **kw)

  monkeypatch.setattr(trainer, "_write_outputs", signalled_write_outputs)
  try:
    result, _ = train(str(tmp_path / "run"), epoch_hook=None)
    handlers = {sig: signal.getsignal(sig) for sig in previous}
  finally:
    for sig, handler in previous.items():
      signal.signal(sig, handler)
  assert reached == []
  assert json.load(open(tmp_path / "run" / "results.json"))["status"] == result.status == "done"
  assert all(handler is stand_in for handler in handlers.values())  # restored once written


def test_repeated_signals_during_shutdown_still_write_results(tmp_path):
  workdir = str(tmp_path / "run")
  proc = start_module("experiments.train", "--dataset=synthetic", "--data_arg=n_train=640",
                      "--data_arg=n_test=64", "--data_arg=shape=(8,8,1)", "--model=mlp",
                      "--model_arg=widths=(16,)", "--batch_size=16", "--epochs=50",
                      "--checkpoint_every_steps=10", "--epoch_runner=loop", f"--workdir={workdir}")
  deadline = time.time() + 120
  while not os.path.exists(os.path.join(workdir, "checkpoints", "10")):
    assert proc.poll() is None and time.time() < deadline, "no first checkpoint"
    time.sleep(0.05)
  proc.send_signal(signal.SIGTERM)
  # Signals until the results appear: with the handlers reset after the loop, one of
  # these killed the run while it wrote them.
  sent = 0
  while proc.poll() is None and not os.path.exists(os.path.join(workdir, "results.json")):
    proc.send_signal((signal.SIGINT, signal.SIGTERM)[sent % 2])
    sent += 1
    time.sleep(0.02)
  out, _ = proc.communicate(timeout=120)
  assert proc.returncode == 3, out
  assert "Traceback" not in out and "preempted at step" in out and "again: ignored" in out
  assert json.load(open(os.path.join(workdir, "results.json")))["status"] == "incomplete"
  assert json.load(open(os.path.join(workdir, "status.json")))["status"] == "incomplete"
