"""Cloud TPU VMs: the `gcloud compute tpus tpu-vm ssh --worker=all` command that runs one run on a slice.

Every worker of the slice runs the same command; `jaxdl.train.parallel` sees
the TPU VM and calls `jax.distributed.initialize()`, which finds the other
workers by itself. The repository (and its virtualenv) must be at `repo_dir`
on every worker (`~` is each worker's home), and the run directory on storage
that all of them and the launcher share at the same path (a shared disk, or a
bucket mounted with gcsfuse), so that `launch.collect` reads the results.
"""
from __future__ import annotations

import shlex
import subprocess

from jaxdl.errors import UserError
from launch.plan import Run


def remote_path(path: str) -> str:
  """`path` quoted for the workers' shell, a leading ~ left to it ('~/x' quoted would not expand)."""
  if path == "~":
    return '"$HOME"'
  if path.startswith("~/"):
    return '"$HOME"/' + shlex.quote(path[2:])
  return shlex.quote(path)


def tpu_ssh_command(run: Run, experiment: str, *, tpu_name: str, zone: str, repo_dir: str,
                    python: str = "python3", project: str = "") -> list[str]:
  """The gcloud argv that runs `run` on every worker of TPU VM `tpu_name`."""
  if not tpu_name or not zone:
    raise UserError("the tpu backend needs --tpu_name and --tpu_zone")
  remote = f"cd {remote_path(repo_dir)} && {run.shell(python, experiment)}"
  cmd = ["gcloud", "compute", "tpus", "tpu-vm", "ssh", tpu_name, f"--zone={zone}"]
  if project:
    cmd.append(f"--project={project}")
  return cmd + ["--worker=all", f"--command={remote}"]


def run_commands(commands: list[list[str]]) -> list[int]:
  """Runs the commands one after the other (each one uses the whole slice); their exit codes."""
  return [subprocess.run(cmd).returncode for cmd in commands]
