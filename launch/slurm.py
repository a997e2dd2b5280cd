"""SLURM: a sweep as one job array (one run per array task), submitted with sbatch.

The script it writes (<sweep_dir>/sweep.sbatch):
- one array task per run, its log in <sweep_dir>/logs/<jobid>_<task>.out
  (appended to when the task is requeued);
- `--processes N`: each run is one data-parallel job over N tasks, started
  with `srun`; jax.distributed finds its coordinator in SLURM's environment;
- the time limit and preemption: `--signal=B:USR1@90` asks SLURM to signal the
  batch shell 90 s before the time limit (or send it yourself:
  `scancel --signal=USR1 --batch`); the shell sends SIGTERM to the run (to
  every task of an srun step, through `scancel --signal=TERM`), which
  checkpoints and exits, and requeues the task (`scontrol requeue`), which
  then resumes from the checkpoint in its run directory;
- a plain `scancel` (SIGTERM): the run checkpoints and exits, and the job stays
  CANCELLED: the script does not requeue it;
- the run's exit code is written to its run directory (`launch_exit_code`),
  so `--resubmit` can submit the unfinished tasks only.
"""
from __future__ import annotations

import dataclasses
import os
import re
import shlex
import subprocess
from typing import Sequence

from jaxdl.errors import UserError
from launch.plan import EXIT_CODE_FILE, Run

SCRIPT = "sweep.sbatch"


@dataclasses.dataclass(frozen=True)
class SlurmOptions:
  job_name: str = "jaxdl-sweep"
  processes: int = 1                # tasks per run (data-parallel processes)
  nodes: int = 0                    # --nodes (0: SLURM places the tasks)
  ntasks_per_node: int = 0          # --ntasks-per-node
  cpus_per_task: int = 1
  gpus_per_task: int = 0            # one GPU per task: --gpus-per-task=1
  gpus_per_node: int = 0            # one task per node using all its GPUs: --gpus-per-node=N
  mem: str = ""                     # e.g. "16G"
  time: str = ""                    # e.g. "04:00:00"
  partition: str = ""
  max_concurrent: int = 0           # array throttle (%N); 0 = no limit
  signal: str = "B:USR1@90"         # preemption warning to the batch shell
  extra: tuple[str, ...] = ()       # more #SBATCH options, e.g. "--account=abc"


def array_spec(indices: Sequence[int], max_concurrent: int = 0) -> str:
  """[0, 1, 2, 5] -> "0-2,5" (with "%N" when throttled)."""
  idx = sorted(set(indices))
  if not idx:
    raise UserError("no array tasks to submit")
  parts, start = [], idx[0]
  for prev, cur in zip(idx, idx[1:] + [None]):
    if cur != prev + 1:
      parts.append(str(start) if start == prev else f"{start}-{prev}")
      start = cur
  return ",".join(parts) + (f"%{max_concurrent}" if max_concurrent else "")


def sbatch_script(runs: Sequence[Run], experiment: str, python: str, sweep_dir: str,
                  opts: SlurmOptions, repo: str) -> str:
  """The job-array batch script (bash) for `runs`; the array range is given at submission."""
  sweep_dir = os.path.abspath(sweep_dir)
  if opts.nodes and opts.ntasks_per_node and opts.nodes * opts.ntasks_per_node != opts.processes:
    raise UserError(f"--processes={opts.processes} must equal --nodes x --ntasks_per_node "
                    f"({opts.nodes} x {opts.ntasks_per_node})")
  if opts.gpus_per_task and opts.gpus_per_node:
    raise UserError("give --gpus_per_task (one GPU per task) or --gpus_per_node (tasks share a node's GPUs), "
                    "not both")
  header = [f"--job-name={opts.job_name}", f"--output={sweep_dir}/logs/%A_%a.out",
            "--open-mode=append", f"--ntasks={opts.processes}", f"--cpus-per-task={opts.cpus_per_task}",
            f"--signal={opts.signal}", "--requeue"]
  header += [f"--{k}={v}" for k, v in (("nodes", opts.nodes), ("ntasks-per-node", opts.ntasks_per_node),
                                        ("gpus-per-task", opts.gpus_per_task),
                                        ("gpus-per-node", opts.gpus_per_node)) if v]
  header += [f"--{k}={v}" for k, v in (("mem", opts.mem), ("time", opts.time),
                                        ("partition", opts.partition)) if v]
  header += list(opts.extra)
  cases = "\n".join(f"  {r.index}) workdir={shlex.quote(r.workdir)}; set -- {r.shell(python, experiment)} ;;"
                    for r in runs)
  if opts.processes > 1:
    # srun would turn a SIGTERM it is sent into SIGKILL for its tasks ("forcing job termination"):
    # the tasks are signalled directly, through SLURM, and srun waits for them to exit.
    launcher, signal_run = "srun --kill-on-bad-exit=1 ", 'scancel --signal=TERM "$SLURM_JOB_ID" 2>/dev/null'
  else:
    launcher, signal_run = "", 'kill -TERM "$child" 2>/dev/null'
  return f"""#!/bin/bash
{chr(10).join('#SBATCH ' + h for h in header)}
# Written by `python -m launch.sweep --backend=slurm`; one array task per run.
set -u
# Progress reaches the log as it is printed, not when the run exits.
export PYTHONUNBUFFERED=1
cd {shlex.quote(os.path.abspath(repo))}
i=$SLURM_ARRAY_TASK_ID
case $i in
{cases}
  *) echo "jaxdl-launch: no run $i in this sweep" >&2; exit 2 ;;
esac
echo "jaxdl-launch: task $i (job $SLURM_JOB_ID, restart ${{SLURM_RESTART_COUNT:-0}}) on $(hostname): $*"
# USR1 (SLURM's warning before the time limit, --signal=B:USR1@N, or a preemption notice sent
# with `scancel --signal=USR1 --batch`): checkpoint, stop, requeue. TERM (a user's scancel, or
# SLURM ending the job): checkpoint and stop; SLURM decides what follows, this script does not requeue.
stop=""
on_usr1() {{
  stop=requeue
  echo "jaxdl-launch: warning signal: the run checkpoints and stops, then this task is requeued"
  {signal_run}
}}
on_term() {{
  [[ -n $stop ]] || stop=cancel
  echo "jaxdl-launch: SIGTERM (scancel or the end of the job): the run checkpoints and stops; no requeue"
  {signal_run}
}}
trap on_usr1 USR1
trap on_term TERM
rm -f "$workdir/{EXIT_CODE_FILE}"  # an earlier attempt's code must not label this one
{launcher}"$@" &
child=$!
wait "$child"; rc=$?
# `wait` returns early (rc > 128) when a trap fires: wait for the checkpoint too.
while kill -0 "$child" 2>/dev/null; do wait "$child"; rc=$?; done
mkdir -p "$workdir" && echo "$rc" > "$workdir/{EXIT_CODE_FILE}"
if [[ $stop == requeue ]]; then
  scontrol requeue "$SLURM_JOB_ID" && echo "jaxdl-launch: requeued job $SLURM_JOB_ID"
  exit 0
fi
exit "$rc"
"""


def write_script(sweep_dir: str, text: str) -> str:
  os.makedirs(os.path.join(sweep_dir, "logs"), exist_ok=True)
  path = os.path.join(sweep_dir, SCRIPT)
  with open(path, "w") as f:
    f.write(text)
  os.chmod(path, 0o755)
  return path


def sbatch_command(script: str, indices: Sequence[int], max_concurrent: int = 0,
                   extra: Sequence[str] = ()) -> list[str]:
  """`sbatch --parsable --array=...` (the command line's --array wins over the script's);
  `extra`: more sbatch options, e.g. `--dependency=afterok:<job>`."""
  return ["sbatch", "--parsable", f"--array={array_spec(indices, max_concurrent)}", *extra, script]


def submit(script: str, indices: Sequence[int], max_concurrent: int = 0) -> str:
  """Submits the array tasks `indices`; returns the job id."""
  return submit_command(sbatch_command(script, indices, max_concurrent))


def submit_command(cmd: Sequence[str]) -> str:
  """Runs an `sbatch --parsable` command; returns the job id."""
  proc = subprocess.run(list(cmd), capture_output=True, text=True)
  if proc.returncode:
    raise RuntimeError(f"{shlex.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")
  match = re.match(r"\d+", proc.stdout.strip())
  if not match:
    raise RuntimeError(f"sbatch printed no job id: {proc.stdout!r}")
  return match.group(0)
