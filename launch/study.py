"""A study's cells as separate jobs: one SLURM array task (or local process) per cell, then the report.

  python -m launch.study --study=init_study --backend=slurm --workdir=runs/init_study \\
      --gpus_per_task=1 --time=02:00:00 -- --config=experiments/init_study/config.py:full

Everything after `--` goes to every command (the config and its overrides).
The cells are read from the study itself (`--list_cells`) and grouped in
stages: a cell runs after the cells it needs (a measurement after the trained
cells it attacks). Each stage is one job array, started when the stage before
has finished (`--dependency=afterok`); the last job makes the report
(`--report_only`). Cells that have finished are not submitted again, and a
task that is preempted checkpoints and is requeued (see launch/slurm.py).
Backends: local (stages in turn, --parallel cells at once), slurm, tpu (the
commands, printed or run in turn with --tpu_run).
"""
from __future__ import annotations

import os
import shlex
import subprocess
import sys
from typing import Sequence

from absl import app, flags

from jaxdl.errors import UserError
from jaxdl.study.records import cell_dir
from launch import plan, slurm, sweep, tpu

FLAGS = flags.FLAGS

REPORT = "report"


def list_cells(experiment: str, python: str, base_args: Sequence[str], workdir: str) -> list[tuple[str, bool, list[str]]]:
  """(name, finished, needs) per cell, from `python -m <study> --list_cells`."""
  cmd = [python, "-m", experiment, *base_args, f"--workdir={workdir}", "--list_cells"]
  proc = subprocess.run(cmd, cwd=sweep.REPO, capture_output=True, text=True)
  if proc.returncode:
    raise UserError(f"{shlex.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")
  cells = []
  for line in proc.stdout.strip().splitlines():
    name, _, state, needs = (line.split("\t") + [""])[:4]
    cells.append((name, state == "finished", [n for n in needs.split(",") if n]))
  return cells


def stages(cells: Sequence[tuple[str, bool, list[str]]]) -> list[list[str]]:
  """The cells grouped so that every cell comes in a later stage than the cells it needs."""
  level: dict[str, int] = {}
  for name, _, needs in cells:  # the study lists a cell after the cells it needs
    level[name] = 1 + max((level[n] for n in needs), default=-1)
  return [[n for n, _, _ in cells if level[n] == k] for k in range(max(level.values(), default=-1) + 1)]


def plan_study(experiment: str, base_args: Sequence[str], workdir: str,
               cells: Sequence[tuple[str, bool, list[str]]], all_cells: bool) -> list[list[plan.Run]]:
  """Runs per stage (finished cells left out unless `all_cells`), the report as the last stage."""
  todo = {name for name, done, _ in cells if all_cells or not done}
  out, index = [], 0
  for stage in stages(cells):
    runs = []
    for name in stage:
      if name in todo:
        args = (*base_args, f"--workdir={workdir}", f"--cells={name}")
        runs.append(plan.Run(index, name, cell_dir(workdir, name), {"cell": name}, args))
        index += 1
    if runs:
      out.append(runs)
  out.append([plan.Run(index, REPORT, workdir, {}, (*base_args, f"--workdir={workdir}", "--report_only"))])
  return out


def launch_slurm(staged: list[list[plan.Run]], experiment: str, python: str, workdir: str,
                 options: slurm.SlurmOptions, dry_run: bool) -> int:
  runs = [r for stage in staged for r in stage]
  script = slurm.write_script(workdir, slurm.sbatch_script(runs, experiment, python, workdir, options, sweep.REPO))
  job = None
  for stage in staged:
    dependency = (f"--dependency=afterok:{job}",) if job else ()
    cmd = slurm.sbatch_command(script, [r.index for r in stage], options.max_concurrent, dependency)
    if dry_run:
      print(shlex.join(cmd))
      job = "<previous job>"
      continue
    job = slurm.submit_command(cmd)
    print(f"submitted job array {job}: {', '.join(r.name for r in stage)}", flush=True)
  return 0


def launch(study: str, base_args: Sequence[str], workdir: str, backend: str, python: str | None = None,
           dry_run: bool = False, parallel: int = 1, all_cells: bool = False,
           slurm_options: slurm.SlurmOptions = slurm.SlurmOptions(), tpu_options: dict | None = None,
           tpu_run: bool = False) -> int:
  if any(a.startswith("--workdir") or a.startswith("--cells") for a in base_args):
    raise UserError("pass --workdir to launch.study itself, and no --cells: every cell gets its own task")
  # A study named by its package (init_study) or by a module path (tests.study_fixture).
  experiment = study if "." in study else f"experiments.{study}"
  workdir = os.path.abspath(workdir)
  python = python or ("python3" if backend == "tpu" else sys.executable)
  staged = plan_study(experiment, base_args, workdir, list_cells(experiment, sys.executable, base_args, workdir),
                      all_cells)
  print(f"{sum(len(s) for s in staged) - 1} cell(s) of {experiment} to run in {len(staged) - 1} stage(s), "
        f"then the report; workdir {workdir}", flush=True)
  if backend == "slurm":
    return launch_slurm(staged, experiment, python, workdir, slurm_options, dry_run)
  if backend == "local":
    for stage in staged:
      if dry_run:
        print("\n".join(r.shell(python, experiment) for r in stage))
      elif any(sweep.run_local(stage, experiment, python, workdir, parallel)):
        return 1
    return 0
  commands = [tpu.tpu_ssh_command(r, experiment, python=python, **(tpu_options or {}))
              for stage in staged for r in stage]
  for cmd in commands:
    print(shlex.join(cmd))
  return 0 if dry_run or not tpu_run or not any(tpu.run_commands(commands)) else 1


def main(argv: list[str]) -> None:
  def run() -> int:
    if not FLAGS.study:
      raise UserError("--study is required, e.g. --study=init_study")
    return launch(FLAGS.study, argv[1:], FLAGS.workdir or os.path.join("runs", FLAGS.study), FLAGS.backend,
                  FLAGS.python, FLAGS.dry_run, FLAGS.parallel, FLAGS.all_cells,
                  sweep.slurm_options(f"jaxdl-{FLAGS.study}"), sweep.tpu_options(), FLAGS.tpu_run)
  sweep.exit_with(run)


if __name__ == "__main__":
  flags.DEFINE_string("study", None, "The study, e.g. init_study (the package experiments.<study>).")
  flags.DEFINE_string("workdir", None, "The study's directory (default runs/<study>).")
  flags.DEFINE_bool("all_cells", False, "Submit finished cells too (default: only the unfinished ones).")
  sweep.define_backend_flags()
  app.run(main)
