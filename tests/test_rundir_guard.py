"""A run directory never lies: one writer, dead runs shown dead, config as identity, filesystem errors in one line."""
from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import stat
import subprocess
import time

import pytest

from conftest import run_module, start_module
from jaxdl.data import load_dataset
from jaxdl.errors import UserError
from jaxdl.optim import OptimConfig
from jaxdl.report import rundir
from jaxdl.report.rundir import RunDir, RunDirConflict, RunDirUnwritable, write_atomic
from jaxdl.train import TrainConfig, train_and_evaluate
from launch import collect, plan

DATA = load_dataset("synthetic", val_size=64, n_train=320, n_test=64, shape=(8, 8, 1))
CFG = TrainConfig(dataset="synthetic", model="mlp", model_options={"widths": (16,)},
                  optim=OptimConfig(name="momentum", lr=0.05), batch_size=32, epochs=2, val_size=64)
# A run that lasts until it is killed.
LONG_ARGS = ["--dataset=synthetic", "--data_arg=n_train=320", "--data_arg=n_test=64",
             "--data_arg=shape=(8,8,1)", "--model=mlp", "--model_arg=widths=(16,)", "--batch_size=32",
             "--epochs=100000"]


def train(workdir: str, cfg: TrainConfig = CFG, **kw):
  return train_and_evaluate(cfg, workdir, data=DATA, echo=lambda s: None, **kw)


def status_of(workdir) -> dict:
  with open(os.path.join(workdir, "status.json")) as f:
    return json.load(f)


def snapshot(workdir: str) -> dict[str, bytes]:
  """Every file's bytes (the lock file aside: taking a lock writes its holder)."""
  out = {}
  for root, _, files in os.walk(workdir):
    for name in files:
      if name != rundir.LOCK:
        path = os.path.join(root, name)
        out[os.path.relpath(path, workdir)] = open(path, "rb").read()
  return out


def test_a_second_process_is_refused_naming_the_holder_and_a_killed_run_shows_dead(tmp_path):
  workdir = str(tmp_path / "run")
  first = start_module("experiments.train", *LONG_ARGS, f"--workdir={workdir}")
  try:
    deadline = time.time() + 120
    while not (os.path.exists(os.path.join(workdir, "status.json"))
               and status_of(workdir)["status"] == "running"):
      assert first.poll() is None and time.time() < deadline, first.stdout.read()
      time.sleep(0.1)
    assert plan.run_status(workdir) == "running"  # alive: the reader did not need the lock
    second = run_module("experiments.train", *LONG_ARGS, f"--workdir={workdir}", timeout=120)
    assert second.returncode == 2, second.stderr
    error = second.stderr.strip().splitlines()[-1]
    assert error.startswith("error: ") and "Traceback" not in second.stderr
    assert f"host {rundir.HOST} pid {first.pid}" in error and "another process" in error
    assert first.poll() is None  # the holder went on
  finally:
    first.send_signal(signal.SIGKILL)
    first.wait()
  assert status_of(workdir)["status"] == "running"  # what the file says after a kill...
  shown = plan.run_status(workdir)
  assert shown.startswith("dead (last heartbeat "), shown  # ...and what readers show
  assert "dead (last heartbeat" in collect.collect([workdir], str(tmp_path / "out"))


def test_a_heartbeat_from_another_host_is_judged_by_its_age():
  old = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - rundir.STALE_S - 60))
  new = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
  elsewhere = {"status": "running", "host": rundir.HOST + "-other", "pid": 1}
  assert "over 600 s ago" in rundir.dead_run("/nonexistent", {**elsewhere, "heartbeat": old})
  assert rundir.dead_run("/nonexistent", {**elsewhere, "heartbeat": new}) is None


def test_a_finished_run_gives_up_its_lock(tmp_path):
  """A process that trains runs in turn (a study, a notebook) keeps no descriptor per run."""
  workdir = str(tmp_path / "run")
  train(workdir)
  assert rundir.lock_held(workdir) is False and workdir not in rundir._held_locks


@pytest.mark.parametrize("damage", ["deleted", "empty", "invalid"])
def test_run_files_without_a_readable_config_are_refused_not_adopted(tmp_path, damage):
  workdir = str(tmp_path / "run")
  train(workdir)
  config = os.path.join(workdir, "config.json")
  if damage == "deleted":
    os.remove(config)
  else:
    open(config, "w").write("" if damage == "empty" else '{"lr": 0.1,')
  before = snapshot(workdir)
  other = dataclasses.replace(CFG, optim=OptimConfig(name="momentum", lr=0.5))
  with pytest.raises(RunDirConflict, match="config.json (is missing|is empty or not JSON)") as e:
    train(workdir, other)
  assert "\n" not in str(e.value) and "nothing was changed" in str(e.value)
  assert snapshot(workdir) == before


def test_write_atomic_cleans_up_on_error_and_respects_the_umask(tmp_path, monkeypatch):
  previous = os.umask(0o022)
  try:
    write_atomic(str(tmp_path / "a.json"), "{}")
    assert stat.S_IMODE(os.stat(tmp_path / "a.json").st_mode) == 0o644  # mkstemp alone: 0600
    os.umask(0o027)
    write_atomic(str(tmp_path / "b.json"), "{}")
    assert stat.S_IMODE(os.stat(tmp_path / "b.json").st_mode) == 0o640
  finally:
    os.umask(previous)

  def disk_full(src, dst):
    raise OSError(28, "No space left on device", dst)
  monkeypatch.setattr(os, "replace", disk_full)
  with pytest.raises(OSError):
    write_atomic(str(tmp_path / "c.json"), "{}")
  assert sorted(os.listdir(tmp_path)) == ["a.json", "b.json"]


def test_a_workdir_under_a_regular_file_is_one_line_naming_the_path(tmp_path):
  (tmp_path / "file").write_text("")
  with pytest.raises(RunDirUnwritable, match=f"{tmp_path}/file/run: Not a directory"):
    RunDir(str(tmp_path / "file" / "run"), {"lr": 0.1}, exclusive=True)


def test_a_full_disk_ends_in_one_line_and_status_failed(tmp_path):
  mount = tmp_path / "small_disk"
  mount.mkdir()
  proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                        capture_output=True, text=True)
  if proc.returncode:
    pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.strip()}): the full-disk case needs one")
  try:
    workdir = str(mount / "run")

    def fill_disk_after_first_epoch(state, program, hparams):
      if int(state.step[0]) and not (mount / "filler").exists():
        fd = os.open(mount / "filler", os.O_WRONLY | os.O_CREAT)
        try:
          while True:
            os.write(fd, b"\0" * 65536)
        except OSError:  # full
          os.close(fd)
      return {}

    with pytest.raises(UserError) as e:
      train(workdir, epoch_hook=fill_disk_after_first_epoch)
    assert re.fullmatch(f"cannot use the run directory: {workdir}(/\\S+)?: No space left on device", str(e.value))
    assert status_of(workdir)["status"] == "failed"
    assert status_of(workdir)["error"] == str(e.value)
    assert plan.run_status(workdir) == "failed"
    assert f"FAILED ({e.value})" in collect.collect([workdir], str(tmp_path / "out"))
    assert not [n for _, _, files in os.walk(workdir) for n in files if n.startswith(".tmp-")]
  finally:
    subprocess.run(["umount", "-l", str(mount)], check=True)
