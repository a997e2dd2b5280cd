"""Sweeps: expand --grid flags into runs of an experiment, and launch them.

  python -m launch.sweep --experiment=experiments.train --grid lr=0.1,0.03,0.01 \\
      --grid seed_offset=0:4 --sweep_dir=runs/lr_sweep --backend=local -- --preset=quick

Every flag after `--` goes to every run; each run gets its own
--workdir=<sweep_dir>/<run name>, and <sweep_dir>/sweep.json lists the runs.
A --grid value list is comma-separated (commas inside brackets do not split)
or an integer range start:stop (stop excluded). Backends:

- local: the runs in turn, or --parallel=N at once; logs in <sweep_dir>/logs;
- slurm: a job array, one run per task (see launch/slurm.py); --processes=N
  makes each run one data-parallel job over N tasks (srun); --dry_run writes
  the script and prints the sbatch command without submitting;
- tpu: the `gcloud compute tpus tpu-vm ssh --worker=all` command per run,
  printed, or run in turn with --tpu_run.

--resubmit launches only the runs of an existing sweep that did not finish
(a run that diverged did finish). Collect the results with
`python -m launch.collect <sweep_dir>`.
"""
from __future__ import annotations

import os
import queue
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Sequence

from absl import app, flags

from jaxdl import gpus
from jaxdl.errors import UserError
from launch import plan, slurm, tpu

FLAGS = flags.FLAGS


def define_backend_flags() -> None:
  """The flags of where runs go, shared with `launch.study`."""
  flags.DEFINE_enum("backend", "local", ["local", "slurm", "tpu"], "Where the runs go.")
  flags.DEFINE_string("python", None, "Interpreter of the runs (default: this one; tpu: python3).")
  flags.DEFINE_bool("dry_run", False, "Write the script / print the commands, launch nothing.")
  flags.DEFINE_integer("parallel", 1, "local: runs at once.")
  flags.DEFINE_integer("processes", 1, "slurm: tasks (processes) per run, one data-parallel job.")
  flags.DEFINE_integer("nodes", 0, "slurm: --nodes (0: SLURM places the tasks).")
  flags.DEFINE_integer("ntasks_per_node", 0, "slurm: --ntasks-per-node.")
  flags.DEFINE_integer("cpus_per_task", 1, "slurm: --cpus-per-task.")
  flags.DEFINE_integer("gpus_per_task", 0, "slurm: --gpus-per-task (one task per GPU: 1).")
  flags.DEFINE_integer("gpus_per_node", 0, "slurm: --gpus-per-node (one task per node using all its GPUs).")
  flags.DEFINE_string("mem", "", "slurm: --mem, e.g. 16G.")
  flags.DEFINE_string("time", "", "slurm: --time, e.g. 04:00:00.")
  flags.DEFINE_string("partition", "", "slurm: --partition.")
  flags.DEFINE_integer("max_concurrent", 0, "slurm: array tasks at once (0 = no limit).")
  flags.DEFINE_string("signal", "B:USR1@90", "slurm: --signal, the preemption warning to the batch shell.")
  flags.DEFINE_multi_string("sbatch_arg", [], "slurm: more #SBATCH options, e.g. --account=abc.")
  flags.DEFINE_string("tpu_name", "", "tpu: TPU VM name.")
  flags.DEFINE_string("tpu_zone", "", "tpu: zone, e.g. us-central2-b.")
  flags.DEFINE_string("tpu_project", "", "tpu: GCP project (default: gcloud's).")
  flags.DEFINE_string("tpu_repo_dir", "~/jaxdl", "tpu: the repository's path on the workers.")
  flags.DEFINE_bool("tpu_run", False, "tpu: run the commands (default: print them).")


def slurm_options(job_name: str) -> slurm.SlurmOptions:
  """SlurmOptions from the backend flags."""
  return slurm.SlurmOptions(
      job_name=job_name, processes=FLAGS.processes, nodes=FLAGS.nodes, ntasks_per_node=FLAGS.ntasks_per_node,
      cpus_per_task=FLAGS.cpus_per_task, gpus_per_task=FLAGS.gpus_per_task, gpus_per_node=FLAGS.gpus_per_node,
      mem=FLAGS.mem, time=FLAGS.time, partition=FLAGS.partition,
      max_concurrent=FLAGS.max_concurrent, signal=FLAGS.signal, extra=tuple(FLAGS.sbatch_arg))


def tpu_options() -> dict[str, str]:
  return dict(tpu_name=FLAGS.tpu_name, zone=FLAGS.tpu_zone, repo_dir=FLAGS.tpu_repo_dir,
              project=FLAGS.tpu_project)


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_local(runs: Sequence[plan.Run], experiment: str, python: str, sweep_dir: str,
              parallel: int = 1) -> list[int]:
  """Runs each run as a subprocess (`parallel` at once); logs to <sweep_dir>/logs/<name>.log."""
  os.makedirs(os.path.join(sweep_dir, "logs"), exist_ok=True)
  # Runs side by side get their own GPUs (or share them without preallocating); see gpus.share_gpus.
  slots: queue.Queue = queue.Queue()
  for settings in gpus.share_gpus(parallel):
    slots.put(settings)

  def one(run: plan.Run) -> int:
    plan.clear_exit_code(run.workdir)
    settings = slots.get()
    try:
      with open(os.path.join(sweep_dir, "logs", f"{run.name}.log"), "a") as log:
        code = subprocess.run(run.argv(python, experiment), cwd=REPO, stdout=log, env={**os.environ, **settings},
                              stderr=subprocess.STDOUT).returncode
    finally:
      slots.put(settings)
    plan.record_exit_code(run.workdir, code)
    print(f"{run.name}: exit {code} ({plan.run_status(run.workdir)})", flush=True)
    return code

  with ThreadPoolExecutor(max(1, parallel)) as pool:
    return list(pool.map(one, runs))


def launch(experiment: str | None, grid: Sequence[str], base_args: Sequence[str], sweep_dir: str,
           backend: str, python: str | None = None, resubmit: bool = False, dry_run: bool = False,
           parallel: int = 1, slurm_options: slurm.SlurmOptions = slurm.SlurmOptions(),
           tpu_options: dict | None = None, tpu_run: bool = False) -> int:
  """Plans (or re-reads) the sweep and launches it on `backend`; returns an exit code."""
  sweep_dir = os.path.abspath(sweep_dir)
  if resubmit:
    experiment, python, runs = plan.read_manifest(sweep_dir)
    runs = [r for r in runs if plan.run_status(r.workdir) not in plan.FINISHED]
    print(f"{len(runs)} unfinished run(s) in {sweep_dir}: {', '.join(r.name for r in runs) or '-'}")
    if not runs:
      return 0
  else:
    if not experiment:
      raise UserError("--experiment is required (a module, e.g. experiments.train)")
    python = python or ("python3" if backend == "tpu" else sys.executable)
    runs = plan.plan_sweep(grid, sweep_dir, base_args)
    plan.write_manifest(sweep_dir, experiment, runs, python)
    print(f"{len(runs)} run(s) of {experiment} in {sweep_dir}")
  if backend == "local":
    if dry_run:
      print("\n".join(r.shell(python, experiment) for r in runs))
      return 0
    codes = run_local(runs, experiment, python, sweep_dir, parallel)
    return 0 if not any(codes) else 1
  if backend == "slurm":
    script = slurm.write_script(sweep_dir, slurm.sbatch_script(
        plan.read_manifest(sweep_dir)[2], experiment, python, sweep_dir, slurm_options, REPO))
    indices = [r.index for r in runs]
    if dry_run:
      print(f"wrote {script}\n{shlex.join(slurm.sbatch_command(script, indices, slurm_options.max_concurrent))}")
      return 0
    job = slurm.submit(script, indices, slurm_options.max_concurrent)
    print(f"submitted job array {job} ({len(indices)} task(s)); logs in {sweep_dir}/logs")
    return 0
  commands = [tpu.tpu_ssh_command(r, experiment, python=python, **(tpu_options or {})) for r in runs]
  for cmd in commands:
    print(shlex.join(cmd))
  if dry_run or not tpu_run:
    return 0
  return 0 if not any(tpu.run_commands(commands)) else 1


def main(argv: list[str]) -> None:
  base_args = argv[1:]  # everything after `--`
  sweep_dir = FLAGS.sweep_dir or os.path.join("runs", f"sweep_{(FLAGS.experiment or '').rsplit('.', 1)[-1]}")
  options = slurm_options(f"jaxdl-{os.path.basename(os.path.abspath(sweep_dir))}")
  exit_with(lambda: launch(FLAGS.experiment, FLAGS.grid, base_args, sweep_dir, FLAGS.backend, FLAGS.python,
                           FLAGS.resubmit, FLAGS.dry_run, FLAGS.parallel, options, tpu_options(),
                           FLAGS.tpu_run))


def exit_with(launch_fn: Callable[[], int]) -> None:
  """Exits with `launch_fn()`'s code; bad input or a failed submission: one `error:` line, exit 2."""
  try:
    code = launch_fn()
  except (ValueError, RuntimeError, FileNotFoundError) as e:
    print(f"error: {e}", file=sys.stderr)
    code = 2
  sys.exit(code)


if __name__ == "__main__":
  flags.DEFINE_string("experiment", None, "Module run with `python -m`, e.g. experiments.train.")
  flags.DEFINE_multi_string("grid", [], "flag=v1,v2,... or flag=start:stop; repeatable (product).")
  flags.DEFINE_string("sweep_dir", None, "Where the runs' directories go (default runs/sweep_<experiment>).")
  flags.DEFINE_bool("resubmit", False, "Launch only the unfinished runs of the existing sweep in --sweep_dir.")
  define_backend_flags()
  app.run(main)
