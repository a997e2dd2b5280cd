"""A killed run resumes to the same bits; SIGTERM checkpoints and exits cleanly."""
from __future__ import annotations

import json
import os
import signal
import time

import orbax.checkpoint as ocp
import pytest

from conftest import assert_trees_equal, run_module, start_module
from test_tensorboard import as_tensorboard_reads, read_events
from jaxdl.train.trainer import TIMING_KEYS

# Long enough (in steps) to be killed in the middle, small enough to be quick.
ARGS = ["--dataset=synthetic", "--data_arg=n_train=640", "--data_arg=n_test=64",
        "--data_arg=shape=(8,8,1)", "--model=mlp", "--model_arg=widths=(32,)",
        "--model_arg=dropout_rate=0.2", "--augment_noise=0.05", "--optimizer=adam", "--lr=0.003",
        "--batch_size=16", "--epochs=6", "--seeds=2", "--checkpoint_every_steps=20"]


def final_state(workdir: str):
  ckpt_dir = os.path.join(workdir, "checkpoints")
  last = max(int(d) for d in os.listdir(ckpt_dir) if d.isdigit())
  return ocp.StandardCheckpointer().restore(os.path.join(ckpt_dir, str(last), "state"))


def metrics_without_time(workdir: str):
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    return [{k: v for k, v in json.loads(line).items() if k not in TIMING_KEYS} for line in f]


def wait_for_checkpoint(workdir: str, proc, timeout: float = 240) -> None:
  ckpt_dir = os.path.join(workdir, "checkpoints")
  deadline = time.time() + timeout
  while time.time() < deadline:
    if os.path.isdir(ckpt_dir) and any(d.isdigit() for d in os.listdir(ckpt_dir)):
      return
    assert proc.poll() is None, f"the run ended before its first checkpoint:\n{proc.stdout.read()}"
    time.sleep(0.05)
  raise AssertionError("no checkpoint appeared")


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp("uninterrupted"))
  run_module("experiments.train", *ARGS, f"--workdir={workdir}", check=True)
  return workdir


def test_sigkill_then_rerun_equals_uninterrupted(uninterrupted, tmp_path):
  workdir = str(tmp_path / "killed")
  proc = start_module("experiments.train", *ARGS, f"--workdir={workdir}")
  wait_for_checkpoint(workdir, proc)
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  with open(os.path.join(workdir, "status.json")) as f:
    assert json.load(f)["status"] == "running"  # it really died mid-run
  with open(os.path.join(workdir, "metrics.jsonl"), "a") as f:
    f.write('{"step": 99999, "train_lo')  # as if killed in the middle of appending a line
  out = run_module("experiments.train", *ARGS, f"--workdir={workdir}", check=True).stdout
  assert "resumed from step" in out
  assert_trees_equal(final_state(workdir), final_state(uninterrupted))
  assert metrics_without_time(workdir) == metrics_without_time(uninterrupted)
  # TensorBoard: the restart purged what the killed run wrote after its checkpoint, so no step shows
  # twice or with another value; events still queued in the writer when it was killed are missing.
  for run in ("r00_seed=0", "r01_seed=1"):
    shown, want = (as_tensorboard_reads(read_events(os.path.join(w, "tb", run))) for w in (workdir, uninterrupted))
    for tag in ("step/train_loss", "test_acc"):
      steps = [step for step, _ in shown[tag]]
      assert steps == sorted(set(steps)) and set(shown[tag]) <= set(want[tag])
      assert shown[tag][-10:] == want[tag][-10:]


def test_sigterm_saves_and_exits_cleanly_then_resumes(uninterrupted, tmp_path):
  workdir = str(tmp_path / "preempted")
  proc = start_module("experiments.train", *ARGS, f"--workdir={workdir}")
  wait_for_checkpoint(workdir, proc)
  proc.send_signal(signal.SIGTERM)
  out, _ = proc.communicate(timeout=120)
  assert proc.returncode == 3, out  # stopped with its checkpoint saved: not a success
  assert "preempted at step" in out and "Traceback" not in out
  with open(os.path.join(workdir, "status.json")) as f:
    assert json.load(f)["status"] == "incomplete"
  stopped_at = int(out.split("preempted at step ")[1].split(":")[0])
  assert str(stopped_at) in os.listdir(os.path.join(workdir, "checkpoints"))
  run_module("experiments.train", *ARGS, f"--workdir={workdir}", check=True)
  assert_trees_equal(final_state(workdir), final_state(uninterrupted))
  # A clean stop closes its event files: TensorBoard shows every step once, as the uninterrupted run's.
  for run in ("r00_seed=0", "r01_seed=1"):
    shown, want = (as_tensorboard_reads(read_events(os.path.join(w, "tb", run))) for w in (workdir, uninterrupted))
    assert shown["step/train_loss"] == want["step/train_loss"] and shown["test_acc"] == want["test_acc"]


def test_a_finished_run_is_not_retrained(uninterrupted):
  before = metrics_without_time(uninterrupted)
  out = run_module("experiments.train", *ARGS, f"--workdir={uninterrupted}", check=True).stdout
  assert "epoch 1/" not in out
  assert metrics_without_time(uninterrupted) == before


def test_a_metrics_line_altered_in_the_middle_is_refused_with_its_line_number(tmp_path):
  from jaxdl.errors import UserError
  from jaxdl.report.rundir import RunDir
  run = RunDir(str(tmp_path / "run"), {"lr": 0.1})
  for step in (10, 20, 30):
    run.log_metrics({"step": step, "train_loss": 1.0 / step})
  lines = open(run.file("metrics.jsonl")).read().splitlines(keepends=True)
  lines[1] = lines[1][:12] + "\n"  # a complete line, but not JSON: not a kill's torn tail
  open(run.file("metrics.jsonl"), "w").write("".join(lines))
  with pytest.raises(UserError, match="metrics.jsonl line 2"):
    run.metrics()
