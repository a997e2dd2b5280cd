"""A real one-node SLURM cluster on localhost: a sweep as a job array, a 2-task data-parallel
run over srun, collection, and preemption (signal -> checkpoint -> requeue -> resume).

Uses the cluster named by $SLURM_CONF when one answers; otherwise starts one with
.ci/slurm_setup.sh (installs slurm-wlm and munge with apt-get if missing; needs root) on free
ports, and stops its daemons at the end. Under xdist each worker that runs a test here starts
its own cluster: one on fixed ports would be shared, and stopped under the other's jobs.
Skipped, with the reason, where this machine cannot.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

import pytest

from launch import collect, plan

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETUP = os.path.join(REPO, ".ci", "slurm_setup.sh")
# 768 examples / batch 32 = 24 steps per epoch, 4 epochs, a checkpoint per epoch: a few
# seconds, most of them compiling.
RUN_ARGS = ["--dataset=synthetic", "--data_arg=n_train=768", "--data_arg=n_test=64",
            "--data_arg=shape=(6,6,1)", "--model_arg=widths=(16,)", "--batch_size=32", "--epochs=4",
            "--seeds=1"]


def _answers(env: dict[str, str]) -> bool:
  try:
    return subprocess.run(["sinfo", "-h"], env=env, capture_output=True, timeout=10).returncode == 0
  except (FileNotFoundError, subprocess.TimeoutExpired):
    return False


def _free_port_pair() -> int:
  """A port p with p and p + 1 free now (slurmctld, slurmd)."""
  for _ in range(50):
    with socket.socket() as a:
      a.bind(("127.0.0.1", 0))
      port = a.getsockname()[1]
      with socket.socket() as b:
        try:
          b.bind(("127.0.0.1", port + 1))
        except OSError:
          continue
      return port
  raise RuntimeError("no two consecutive free ports on 127.0.0.1")


@pytest.fixture(scope="module")
def slurm_env():
  env = {**os.environ, "JAX_PLATFORMS": "cpu", "PYTHONUNBUFFERED": "1"}
  if env.get("SLURM_CONF") and _answers(env):
    yield env
    return
  if os.geteuid() != 0:
    pytest.skip("no SLURM cluster ($SLURM_CONF) and not root: cannot install/start slurm-wlm and munge")
  # Not under pytest's tmp (mode 700): munged runs as the munge user and must reach its socket.
  state = f"/tmp/jaxdl-slurm-test-{os.getpid()}"
  proc = subprocess.run([SETUP, "start", state, str(_free_port_pair())], capture_output=True, text=True,
                        timeout=600)
  if proc.returncode == 3:
    pytest.skip(proc.stderr.strip())
  assert proc.returncode == 0, proc.stderr
  env["SLURM_CONF"] = os.path.join(state, "slurm.conf")
  try:
    yield env
  finally:
    subprocess.run([SETUP, "stop", state], timeout=60)
    shutil.rmtree(state, ignore_errors=True)


def _sweep(env, sweep_dir, *args, run_args=()) -> str:
  """Submits a sweep of RUN_ARGS (then `run_args`, which win) with the launcher flags `args`."""
  proc = subprocess.run([sys.executable, "-m", "launch.sweep", "--experiment=experiments.train",
                         "--backend=slurm", f"--sweep_dir={sweep_dir}", *args, "--", *RUN_ARGS, *run_args],
                        cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
  assert proc.returncode == 0, proc.stdout + proc.stderr
  return re.search(r"submitted job array (\d+)", proc.stdout).group(1)


def _wait_for(predicate, timeout: float, what: str, logs: list[str], env: dict[str, str]) -> None:
  deadline = time.time() + timeout
  while not predicate():
    if time.time() > deadline:
      raise AssertionError(f"timed out waiting for {what}; logs:\n" + "\n".join(
          f"== {p}\n{open(p).read()}" for p in logs if os.path.exists(p)) + _cluster_state(env))
    time.sleep(1.0)


def _cluster_state(env: dict[str, str]) -> str:
  """What the cluster says of its jobs and node, and the end of its controller's log."""
  out = []
  for cmd in (["squeue", "-a", "-o", "%i %T %r %S"], ["sinfo", "-N", "-o", "%N %T %E"]):
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    out.append(f"== {' '.join(cmd)}\n{proc.stdout}{proc.stderr}")
  ctld_log = os.path.join(os.path.dirname(env["SLURM_CONF"]), "slurmctld.log")
  out.append(f"== {ctld_log} (end)\n" + "".join(_read(ctld_log).splitlines(True)[-30:]))
  return "\n" + "\n".join(out)


# SLURM holds a requeued job (reason BeginTime) while the node revokes the old run's credential;
# a job started inside that window is killed ("Job credential revoked": seen once here, in a suite run).
REVOCATION_SECONDS = 5.0


def _start_if_held_by_begin_time(env, job_id: str, held_since: dict[str, float]) -> None:
  """A requeued job waits (reason BeginTime, SLURM's default is minutes) before it may start again;
  let it start once it has been held REVOCATION_SECONDS.

  Checked on every poll, not once: an update made while the requeue is still completing
  is overwritten when it completes (seen under load)."""
  state = subprocess.run(["squeue", "-h", "-j", job_id, "-o", "%T %r"], env=env,
                         capture_output=True, text=True).stdout
  if "PENDING" not in state or "BeginTime" not in state:
    held_since.pop(job_id, None)
    return
  if time.time() - held_since.setdefault(job_id, time.time()) >= REVOCATION_SECONDS:
    subprocess.run(["scontrol", "update", f"JobId={job_id}", "StartTime=now"], env=env,
                   capture_output=True)


def _log(sweep_dir, job: str, task: int) -> str:
  return os.path.join(sweep_dir, "logs", f"{job}_{task}.out")


def _read(path: str) -> str:
  return open(path).read() if os.path.exists(path) else ""


def _results(run_dir: str) -> list[dict]:
  with open(os.path.join(run_dir, "results.json")) as f:
    return json.load(f)["replicas"]


def test_job_array_data_parallel_srun_collect_and_preemption(slurm_env, tmp_path):
  env = slurm_env
  array_dir, dp_dir = tmp_path / "array", tmp_path / "dp"
  # Tasks 0 and 1 are the same run (0 is preempted, 1 is not); task 2 diverges.
  array_job = _sweep(env, array_dir, "--grid", "lr=0.1,0.1,1000")
  dp_job = _sweep(env, dp_dir, "--processes=2")
  # The same 2-task run again, preempted: srun's tasks must checkpoint, not be killed.
  dp_preempted_dir = tmp_path / "dp_preempted"
  dp_preempted_job = _sweep(env, dp_preempted_dir, "--processes=2")
  logs = [_log(array_dir, array_job, i) for i in range(3)] + [_log(dp_dir, dp_job, 0),
                                                                _log(dp_preempted_dir, dp_preempted_job, 0)]

  # Preempt as soon as a run has started (its handler is in place from the startup line
  # on): SLURM signals the batch shell while the first step compiles, so the run stops
  # mid-epoch. Waiting for an epoch instead races with the run, whose later epochs take
  # milliseconds.
  requeued = []
  for job, log, startup in ((f"{array_job}_0", logs[0], "jaxdl: process 0/1"),
                            (f"{dp_preempted_job}_0", logs[4], "jaxdl: process 0/2")):
    _wait_for(lambda: startup in _read(log), 240, f"{job}'s startup line", logs, env)
    subprocess.run(["scancel", "--signal=USR1", "--batch", job], env=env, check=True)
    _wait_for(lambda: "requeued job" in _read(log), 120, f"{job}'s requeue", logs, env)
    requeued.append(re.search(r"requeued job (\d+)", _read(log)).group(1))

  runs = [r for d in (array_dir, dp_dir, dp_preempted_dir) for r in plan.read_manifest(str(d))[2]]
  jobs = ",".join((array_job, dp_job, dp_preempted_job))
  queued = lambda: subprocess.run(["squeue", "-h", "-j", jobs], env=env,  # noqa: E731
                                  capture_output=True, text=True).stdout.strip()

  held_since: dict[str, float] = {}

  def finished() -> bool:
    for job_id in requeued:
      _start_if_held_by_begin_time(env, job_id, held_since)
    return not queued() and all(plan.run_status(r.workdir) in plan.FINISHED for r in runs)

  _wait_for(finished, 420, "all runs to finish", logs, env)

  preempted = _read(logs[0])
  assert "preempted at step" in preempted and re.search(r"resumed from step \d+", preempted), preempted
  assert "restart 1" in preempted
  # Resumed equals uninterrupted: the same numbers, bit for bit (CPU, same program).
  strip = lambda rows: [{k: v for k, v in r.items()} for r in rows]  # noqa: E731
  assert strip(_results(runs[0].workdir)) == strip(_results(runs[1].workdir))
  assert plan.run_status(runs[2].workdir) == "diverged"

  # One data-parallel run over 2 SLURM tasks: jax.distributed from SLURM's environment.
  dp_log = _read(logs[3])
  assert "process 0/2" in dp_log and "process 1/2" in dp_log and "data 2 (mesh axes)" in dp_log
  dp, single = _results(runs[3].workdir)[0], _results(runs[1].workdir)[0]
  for metric in ("train_acc", "test_acc"):
    assert dp[metric] == pytest.approx(single[metric], abs=1e-6)
  assert dp["train_loss"] == pytest.approx(single["train_loss"], rel=1e-4)

  # The preempted 2-task run: both tasks were signalled and stopped at one step (one checkpoint, both
  # wrote their part), the job was requeued, resumed there and ended bit-identical to its twin.
  dp_preempted = _read(logs[4])
  assert dp_preempted.count("received SIGTERM: will checkpoint") == 2, dp_preempted
  stopped = re.search(r"preempted at step (\d+)", dp_preempted)
  assert stopped and f"resumed from step {stopped.group(1)}" in dp_preempted, dp_preempted
  assert "restart 1" in dp_preempted and "Killed" not in dp_preempted
  assert _results(runs[4].workdir) == _results(runs[3].workdir)

  table = collect.collect([str(array_dir), str(dp_dir)], str(tmp_path))
  rows = table.splitlines()[2:]
  assert len(rows) == 4
  assert "| done |" in rows[0] and "| done |" in rows[1] and "| done |" in rows[3]
  assert "diverged; 1/1 diverged" in rows[2]


def _job_field(env, job_id: str, field: str) -> str:
  shown = subprocess.run(["scontrol", "show", "job", job_id], env=env, capture_output=True, text=True).stdout
  match = re.search(rf"\b{field}=(\S+)", shown)
  return match.group(1) if match else ""


def test_a_users_scancel_cancels_the_run_after_its_checkpoint(slurm_env, tmp_path):
  """A plain scancel (SIGTERM to the job) is not a preemption: the run checkpoints and stops, and the
  job stays CANCELLED, not requeued."""
  env = slurm_env
  sweep_dir = tmp_path / "cancelled"
  job = _sweep(env, sweep_dir, run_args=["--epochs=100000"])  # runs until stopped
  log = _log(sweep_dir, job, 0)
  _wait_for(lambda: "epoch 1/" in _read(log), 240, "the first epoch", [log], env)
  subprocess.run(["scancel", job], env=env, check=True)
  _wait_for(lambda: not subprocess.run(["squeue", "-h", "-j", job], env=env, capture_output=True,
                                       text=True).stdout.strip(), 120, "the job to end", [log], env)
  text = _read(log)
  assert _job_field(env, f"{job}_0", "JobState") == "CANCELLED", text + _cluster_state(env)
  assert _job_field(env, f"{job}_0", "Restarts") == "0" and "requeued" not in text, text
  assert re.search(r"preempted at step \d+: checkpoint saved", text), text
  run = plan.read_manifest(str(sweep_dir))[2][0]
  assert plan.run_status(run.workdir) == "incomplete"


def test_the_time_limits_warning_signal_requeues_until_the_run_is_done(slurm_env, tmp_path):
  """--time=2 with --signal=B:USR1@100: SLURM warns the batch shell about 20 s in (its check runs
  every few tens of seconds); the run checkpoints, the task is requeued and resumes, as often as it
  takes. The run is long enough (~40 s of training here) that the warning always comes first."""
  env = slurm_env
  sweep_dir = tmp_path / "time_limit"
  job = _sweep(env, sweep_dir, "--time=2", "--signal=B:USR1@100", run_args=["--epochs=600"])
  log = _log(sweep_dir, job, 0)
  run = plan.read_manifest(str(sweep_dir))[2][0]
  held_since: dict[str, float] = {}

  def finished() -> bool:
    _start_if_held_by_begin_time(env, job, held_since)
    queued = subprocess.run(["squeue", "-h", "-j", job], env=env, capture_output=True, text=True).stdout.strip()
    return not queued and plan.run_status(run.workdir) in plan.FINISHED

  _wait_for(finished, 600, "the run to finish", [log], env)
  text = _read(log)
  assert "warning signal" in text and re.search(r"resumed from step \d+", text), text
  assert int(_job_field(env, f"{job}_0", "Restarts") or 0) >= 1, text
  assert _job_field(env, f"{job}_0", "JobState") == "COMPLETED" and plan.run_status(run.workdir) == "done"


def test_study_cells_as_a_job_array_then_the_report(slurm_env, tmp_path):
  """Each cell of the fixture study is one array task; the report job waits for them. Its
  tables and verdicts equal the study run in one process."""
  env = slurm_env
  config = "--config=tests/study_fixture/config.py:smoke"
  workdir, local = tmp_path / "cluster", tmp_path / "local"
  proc = subprocess.run([sys.executable, "-m", "launch.study", "--study=tests.study_fixture", "--backend=slurm",
                         f"--workdir={workdir}", "--", config], cwd=REPO, env=env, capture_output=True,
                        text=True, timeout=120)
  assert proc.returncode == 0, proc.stdout + proc.stderr
  jobs = re.findall(r"submitted job array (\d+)", proc.stdout)
  assert len(jobs) == 3, proc.stdout  # trained cells, the measurement, the report
  logs = [str(p) for p in (workdir / "logs").glob("*.out")]
  _wait_for(lambda: plan.exit_code(str(workdir)) is not None, 420, "the report job",
            [str(p) for p in (workdir / "logs").glob("*.out")] or logs, env)
  assert plan.exit_code(str(workdir)) == 0
  subprocess.run([sys.executable, "-m", "tests.study_fixture", config, f"--workdir={local}"], cwd=REPO,
                 env=env, check=True, capture_output=True, timeout=300)
  for name in ("table.md", "claims.json"):
    assert (workdir / name).read_bytes() == (local / name).read_bytes()
