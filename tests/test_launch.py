"""Sweeps: grid expansion, the SLURM script, the TPU command, the local backend, collection."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from launch import collect, plan, slurm, sweep, tpu
from conftest import run_module


def test_grid_expands_lists_ranges_and_bracketed_values():
  grid = plan.expand_grid(["lr=0.1,0.03", "seed=0:3"])
  assert grid == [{"lr": lr, "seed": s} for lr in ("0.1", "0.03") for s in ("0", "1", "2")]
  assert plan.parse_grid_item("model_arg=widths=(100,),widths=(50,50)") == (
      "model_arg", ["widths=(100,)", "widths=(50,50)"])
  for bad in ["lr", "lr=", "seed=3:1"]:
    with pytest.raises(ValueError):
      plan.parse_grid_item(bad)
  with pytest.raises(ValueError, match="twice"):
    plan.expand_grid(["lr=1", "lr=2"])


def test_each_run_gets_its_flags_and_its_own_workdir(tmp_path):
  runs = plan.plan_sweep(["lr=0.1,0.03", "seed_offset=0:2"], str(tmp_path), ["--epochs=1"])
  assert [r.name for r in runs] == ["r000_lr-0.1_seed_offset-0", "r001_lr-0.1_seed_offset-1",
                                    "r002_lr-0.03_seed_offset-0", "r003_lr-0.03_seed_offset-1"]
  assert runs[2].args == ("--lr=0.03", "--seed_offset=0", f"--workdir={tmp_path}/{runs[2].name}",
                          "--epochs=1")
  assert len({r.workdir for r in runs}) == 4
  with pytest.raises(ValueError, match="workdir"):
    plan.plan_sweep(["lr=1"], str(tmp_path), ["--workdir=x"])
  plan.write_manifest(str(tmp_path), "experiments.train", runs, "python3")
  assert plan.read_manifest(str(tmp_path)) == ("experiments.train", "python3", runs)


def test_runs_side_by_side_get_their_own_gpus():
  from jaxdl import gpus
  env = {"CUDA_VISIBLE_DEVICES": "0,1,2,3"}
  assert gpus.share_gpus(2, env) == [{"CUDA_VISIBLE_DEVICES": "0,1"}, {"CUDA_VISIBLE_DEVICES": "2,3"}]
  assert gpus.share_gpus(3, {"CUDA_VISIBLE_DEVICES": "4,6,7"}) == [
      {"CUDA_VISIBLE_DEVICES": "4"}, {"CUDA_VISIBLE_DEVICES": "6"}, {"CUDA_VISIBLE_DEVICES": "7"}]
  # fewer GPUs than runs: shared, without JAX's preallocation of most of each GPU's memory
  assert gpus.share_gpus(4, {"CUDA_VISIBLE_DEVICES": "0,1"}) == [{"XLA_PYTHON_CLIENT_PREALLOCATE": "false"}] * 4
  assert gpus.share_gpus(2, {"CUDA_VISIBLE_DEVICES": ""}) == [{}, {}] and gpus.share_gpus(1, env) == [{}]


def test_array_spec_compresses_ranges():
  assert slurm.array_spec([0, 1, 2, 5, 7, 8]) == "0-2,5,7-8"
  assert slurm.array_spec([3], max_concurrent=2) == "3%2"
  with pytest.raises(ValueError):
    slurm.array_spec([])


def test_sbatch_script_is_a_job_array_with_preemption_and_requeue(tmp_path):
  runs = plan.plan_sweep(["lr=0.1,0.03"], str(tmp_path))
  opts = slurm.SlurmOptions(processes=2, time="01:00:00", partition="gpu", gpus_per_task=1)
  text = slurm.sbatch_script(runs, "experiments.train", "/venv/bin/python", str(tmp_path), opts, "/repo")
  for line in [f"#SBATCH --output={tmp_path}/logs/%A_%a.out", "#SBATCH --ntasks=2",
               "#SBATCH --signal=B:USR1@90", "#SBATCH --requeue", "#SBATCH --open-mode=append",
               "#SBATCH --time=01:00:00", "#SBATCH --partition=gpu", "#SBATCH --gpus-per-task=1",
               'srun --kill-on-bad-exit=1 "$@" &', 'scontrol requeue "$SLURM_JOB_ID"', "cd /repo",
               "export PYTHONUNBUFFERED=1"]:
    assert line in text, line
  assert f"1) workdir={runs[1].workdir}; set -- {runs[1].shell('/venv/bin/python', 'experiments.train')} ;;" in text
  # srun's tasks are signalled through SLURM: srun itself would SIGKILL them
  assert 'scancel --signal=TERM "$SLURM_JOB_ID"' in text and 'kill -TERM "$child"' not in text
  one = slurm.sbatch_script(runs, "m", "python", str(tmp_path), slurm.SlurmOptions(), "/repo")
  assert "srun" not in one and "#SBATCH --ntasks=1" in one and 'kill -TERM "$child"' in one
  # multi-node layouts: one task per node with all its GPUs
  nodes = slurm.sbatch_script(runs, "m", "python", str(tmp_path), slurm.SlurmOptions(
      processes=4, nodes=4, ntasks_per_node=1, gpus_per_node=8), "/repo")
  for line in ["#SBATCH --ntasks=4", "#SBATCH --nodes=4", "#SBATCH --ntasks-per-node=1", "#SBATCH --gpus-per-node=8"]:
    assert line in nodes, line
  with pytest.raises(ValueError, match="must equal --nodes x --ntasks_per_node"):
    slurm.sbatch_script(runs, "m", "python", str(tmp_path), slurm.SlurmOptions(processes=3, nodes=2,
                                                                                 ntasks_per_node=2), "/repo")
  if shutil.which("bash"):
    path = slurm.write_script(str(tmp_path), text)
    assert subprocess.run(["bash", "-n", path]).returncode == 0
  assert slurm.sbatch_command("s.sbatch", [1, 3], 4) == ["sbatch", "--parsable", "--array=1,3%4", "s.sbatch"]


def test_tpu_command_runs_the_run_on_every_worker(tmp_path):
  run = plan.plan_sweep(["lr=0.1"], str(tmp_path))[0]
  cmd = tpu.tpu_ssh_command(run, "experiments.train", tpu_name="v4-32", zone="us-central2-b",
                            repo_dir="~/jaxdl", project="proj")
  assert cmd[:8] == ["gcloud", "compute", "tpus", "tpu-vm", "ssh", "v4-32", "--zone=us-central2-b",
                     "--project=proj"]
  assert cmd[8] == "--worker=all"
  # ~ must reach the worker's shell unquoted, or `cd` looks for a directory named "~"
  assert cmd[9] == f"--command=cd \"$HOME\"/jaxdl && python3 -m experiments.train --lr=0.1 --workdir={run.workdir}"
  assert tpu.remote_path("/srv/my repo") == "'/srv/my repo'" and tpu.remote_path("~") == '"$HOME"'
  with pytest.raises(ValueError, match="tpu_name"):
    tpu.tpu_ssh_command(run, "m", tpu_name="", zone="z", repo_dir="r")
  with pytest.raises(ValueError, match="mount the bucket"):
    plan.plan_sweep(["lr=0.1"], "gs://bucket/sweep")


GCLOUD_STUB = """#!/bin/bash
# Stands in for `gcloud compute tpus tpu-vm ssh ... --worker=all --command=C`: runs C here, as one worker's
# login shell would (from $HOME), after checking its syntax.
for a in "$@"; do case $a in --command=*) c=${a#--command=};; esac; done
echo "$*" >> "$HOME/gcloud_calls"
cd "$HOME" && bash -n -c "$c" && bash -c "$c"
"""

FAKE_PYTHON = """#!/bin/bash
# `python -m module args`: writes where it ran and its arguments into its --workdir.
for a in "$@"; do case $a in --workdir=*) w=${a#--workdir=};; esac; done
mkdir -p "$w" && pwd > "$w/cwd" && echo "$*" > "$w/args"
echo '{"status": "done"}' > "$w/status.json"
"""


def test_tpu_sweep_runs_in_the_workers_repository_through_gcloud(tmp_path, monkeypatch):
  home, bin_dir = tmp_path / "home", tmp_path / "bin"
  (home / "jaxdl").mkdir(parents=True)
  bin_dir.mkdir()
  for name, text in (("gcloud", GCLOUD_STUB), ("fake-python", FAKE_PYTHON)):
    (bin_dir / name).write_text(text)
    (bin_dir / name).chmod(0o755)
  monkeypatch.setenv("HOME", str(home))
  monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
  sweep_dir = tmp_path / "shared" / "sweep"
  code = sweep.launch("experiments.train", ["lr=0.1,0.01"], ["--epochs=1"], str(sweep_dir), "tpu",
                      python=str(bin_dir / "fake-python"), tpu_run=True,
                      tpu_options=dict(tpu_name="v4-32", zone="z", repo_dir="~/jaxdl", project=""))
  assert code == 0
  runs = plan.read_manifest(str(sweep_dir))[2]
  assert len(runs) == 2 and len((home / "gcloud_calls").read_text().splitlines()) == 2
  for run, lr in zip(runs, ("0.1", "0.01")):
    assert open(os.path.join(run.workdir, "cwd")).read().strip() == str(home / "jaxdl")
    assert open(os.path.join(run.workdir, "args")).read().split() == [
        "-m", "experiments.train", f"--lr={lr}", f"--workdir={run.workdir}", "--epochs=1"]
    assert plan.run_status(run.workdir) == "done"


QUEUE_GCLOUD_STUB = """#!/bin/bash
# queued-resources: `create` is recorded; `describe` answers WAITING_FOR_RESOURCES, then ACTIVE.
echo "$*" >> "$HOME/gcloud_calls"
if [[ $4 == describe ]]; then
  n=$(grep -c describe "$HOME/gcloud_calls")
  if (( n < 2 )); then echo WAITING_FOR_RESOURCES; else echo ACTIVE; fi
fi
"""


def test_a_queued_spot_slice_is_requested_then_waited_for(tmp_path, repo_root):
  (tmp_path / "bin").mkdir()
  stub = tmp_path / "bin" / "gcloud"
  stub.write_text(QUEUE_GCLOUD_STUB)
  stub.chmod(0o755)
  env = {**os.environ, "HOME": str(tmp_path), "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}
  queue = lambda *args: subprocess.run([sys.executable, "-m", "launch.tpu_queue", *args], cwd=repo_root, env=env,  # noqa: E731
                                       capture_output=True, text=True, timeout=60)
  proc = queue("--tpu_name=v4", "--tpu_zone=z", "--accelerator_type=v4-32", "--runtime_version=tpu-ubuntu2204-base",
               "--spot", "--wait", "--poll_seconds=0.01")
  assert proc.returncode == 0, proc.stdout + proc.stderr
  calls = (tmp_path / "gcloud_calls").read_text().splitlines()
  assert calls[0] == ("compute tpus queued-resources create v4-qr --node-id=v4 --zone=z --accelerator-type=v4-32 "
                      "--runtime-version=tpu-ubuntu2204-base --spot")
  assert [c.split()[3] for c in calls[1:]] == ["describe", "describe"]
  assert "v4-qr: WAITING_FOR_RESOURCES" in proc.stdout and "v4-qr: ACTIVE" in proc.stdout
  proc = queue("--tpu_name=v4", "--tpu_zone=z")
  assert proc.returncode == 2 and "needs --tpu_name, --tpu_zone, --accelerator_type" in proc.stderr


FAKE_EXPERIMENT = """#!/bin/bash
# A stand-in interpreter: `fake -m module --lr=X --workdir=W`: lr 0 fails, lr 9 diverges.
for a in "$@"; do case $a in --lr=*) lr=${a#--lr=};; --workdir=*) w=${a#--workdir=};; esac; done
[[ $lr == 0 ]] && { echo "boom" >&2; exit 1; }
mkdir -p "$w"
echo "{\\"optim\\": {\\"lr\\": $lr}, \\"seeds\\": [0, 1]}" > "$w/config.json"
if [[ $lr == 9 ]]; then
  echo '{"status": "diverged"}' > "$w/status.json"
  echo '{"replicas": [{"status": "diverged", "diverged_step": 3, "test_acc": "nan"},
                      {"status": "diverged", "diverged_step": 5, "test_acc": "nan"}]}' > "$w/results.json"
else
  echo '{"status": "done"}' > "$w/status.json"
  echo "{\\"replicas\\": [{\\"status\\": \\"done\\", \\"test_acc\\": 0.9, \\"train_acc\\": 0.95},
                       {\\"status\\": \\"done\\", \\"test_acc\\": 0.8, \\"train_acc\\": 0.85}]}" > "$w/results.json"
fi
echo "ran lr=$lr"
"""


def test_local_sweep_collect_and_resubmit_only_the_unfinished(tmp_path):
  fake = tmp_path / "fake_python"
  fake.write_text(FAKE_EXPERIMENT)
  fake.chmod(0o755)
  sweep_dir = tmp_path / "sweep"
  code = sweep.launch("experiments.anything", ["lr=0.1,0,9"], ["--epochs=1"], str(sweep_dir), "local",
                      python=str(fake), parallel=2)
  assert code == 1  # one run failed
  runs = plan.read_manifest(str(sweep_dir))[2]
  assert [plan.run_status(r.workdir) for r in runs] == ["done", "failed", "diverged"]
  assert "boom" in (sweep_dir / "logs" / f"{runs[1].name}.log").read_text()

  table = collect.collect([str(sweep_dir)], str(sweep_dir))
  lines = table.splitlines()
  assert lines[0].startswith("| run | optim.lr | status | replicas |")
  assert "| 0.1 | done | 2 |" in lines[2] and "85.00 ± 7.07" in lines[2]
  assert "FAILED (exit 1)" in lines[3]
  assert "diverged; 2/2 diverged (step 3, 5)" in lines[4] and "| diverged |" in lines[4]
  assert (sweep_dir / "sweep_table.csv").read_text().count("\n") == 4
  assert (sweep_dir / "sweep.png").stat().st_size > 1000

  # The failed run is fixed (the fake succeeds now), and only it runs again.
  fake.write_text(FAKE_EXPERIMENT.replace("[[ $lr == 0 ]] &&", "[[ $lr == never ]] &&"))
  for r in (runs[0], runs[2]):
    (sweep_dir / "logs" / f"{r.name}.log").write_text("")
  assert sweep.launch(None, [], [], str(sweep_dir), "local", resubmit=True) == 0
  assert [plan.run_status(r.workdir) for r in runs] == ["done", "done", "diverged"]
  assert [bool((sweep_dir / "logs" / f"{r.name}.log").read_text()) for r in runs] == [False, True, False]


def test_collect_marks_a_run_that_never_finished(tmp_path):
  (tmp_path / "a").mkdir()
  (tmp_path / "a" / "status.json").write_text(json.dumps({"status": "running"}))
  (tmp_path / "b").mkdir()
  table = collect.collect([str(tmp_path / "a"), str(tmp_path / "b")], str(tmp_path / "out"))
  assert "INCOMPLETE (running)" in table and "INCOMPLETE (missing)" in table


def test_sweep_cli_dry_run_prints_the_sbatch_command(tmp_path, repo_root):
  proc = subprocess.run([sys.executable, "-m", "launch.sweep", "--experiment=experiments.train",
                         "--grid", "lr=0.1,0.03", "--grid", "seed_offset=0:2", "--backend=slurm",
                         f"--sweep_dir={tmp_path}", "--processes=2", "--dry_run", "--", "--epochs=1"],
                        cwd=repo_root, capture_output=True, text=True, timeout=60)
  assert proc.returncode == 0, proc.stderr
  assert f"sbatch --parsable --array=0-3 {tmp_path}/sweep.sbatch" in proc.stdout
  assert "--epochs=1" in (tmp_path / "sweep.sbatch").read_text()
  bad = subprocess.run([sys.executable, "-m", "launch.sweep", "--grid", "lr=1", f"--sweep_dir={tmp_path}/x"],
                       cwd=repo_root, capture_output=True, text=True, timeout=60)
  assert bad.returncode == 2 and "--experiment is required" in bad.stderr


def test_study_cells_are_staged_after_the_cells_they_need(tmp_path):
  from launch import study
  cells = [("a", True, []), ("b", False, []), ("m", False, ["a", "b"]), ("n", False, ["m"])]
  assert study.stages(cells) == [["a", "b"], ["m"], ["n"]]
  staged = study.plan_study("experiments.x", ["--config=c.py:smoke"], str(tmp_path), cells, all_cells=False)
  assert [[r.name for r in s] for s in staged] == [["b"], ["m"], ["n"], ["report"]]  # a finished: not sent
  assert staged[0][0].args == ("--config=c.py:smoke", f"--workdir={tmp_path}", "--cells=b")
  assert staged[-1][0].args[-1] == "--report_only"


def test_study_to_slurm_dry_run_chains_the_stages(tmp_path):
  proc = run_module("launch.study", "--study=tests.study_fixture", "--backend=slurm", "--dry_run",
                    f"--workdir={tmp_path}", "--", "--config=tests/study_fixture/config.py:smoke", check=True)
  lines = [line for line in proc.stdout.splitlines() if line.startswith("sbatch")]
  assert lines == [f"sbatch --parsable --array=0-1 {tmp_path}/sweep.sbatch",
                   f"sbatch --parsable --array=2 '--dependency=afterok:<previous job>' {tmp_path}/sweep.sbatch",
                   f"sbatch --parsable --array=3 '--dependency=afterok:<previous job>' {tmp_path}/sweep.sbatch"]
  script = (tmp_path / "sweep.sbatch").read_text()
  assert "--cells=lr_small" in script and "--cells=accuracies" in script and "--report_only" in script
