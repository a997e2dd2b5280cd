"""A TPU slice through Cloud TPU's queued resources (spot or on-demand), then wait until it is ACTIVE.

  python -m launch.tpu_queue --tpu_name=my-v4-32 --tpu_zone=us-central2-b \
      --accelerator_type=v4-32 --runtime_version=tpu-ubuntu2204-base --spot --wait

prints (and runs, unless --dry_run) `gcloud compute tpus queued-resources create <name>-qr
--node-id=<name> ...`; with --wait it polls the request until ACTIVE (exit 0) or FAILED/SUSPENDED
(exit 1). Then `python -m launch.sweep --backend=tpu --tpu_name=<name> ...` runs on the slice. A
spot slice can be taken back at any time: every run checkpoints in the shared sweep directory, so
request a slice again and `python -m launch.sweep --sweep_dir=... --backend=tpu --resubmit --tpu_run`
resumes the unfinished runs.
"""
from __future__ import annotations

import shlex
import subprocess
import sys
import time

from absl import app, flags

from jaxdl.errors import UserError

FINAL_STATES = {"ACTIVE": 0, "FAILED": 1, "SUSPENDED": 1}


def create_command(tpu_name: str, zone: str, accelerator_type: str, runtime_version: str, spot: bool = False,
                   project: str = "") -> list[str]:
  """The `gcloud ... queued-resources create` argv for one slice named `tpu_name`."""
  if not (tpu_name and zone and accelerator_type and runtime_version):
    raise UserError("a queued TPU needs --tpu_name, --tpu_zone, --accelerator_type and --runtime_version")
  cmd = ["gcloud", "compute", "tpus", "queued-resources", "create", f"{tpu_name}-qr", f"--node-id={tpu_name}",
         f"--zone={zone}", f"--accelerator-type={accelerator_type}", f"--runtime-version={runtime_version}"]
  return cmd + (["--spot"] if spot else []) + ([f"--project={project}"] if project else [])


def state_command(tpu_name: str, zone: str, project: str = "") -> list[str]:
  cmd = ["gcloud", "compute", "tpus", "queued-resources", "describe", f"{tpu_name}-qr", f"--zone={zone}",
         "--format=value(state.state)"]
  return cmd + ([f"--project={project}"] if project else [])


def wait_until_final(tpu_name: str, zone: str, project: str = "", poll_s: float = 30.0,
                     timeout_s: float = 24 * 3600) -> str:
  """Polls the request's state until ACTIVE, FAILED or SUSPENDED; returns it."""
  deadline = time.time() + timeout_s
  while True:
    state = subprocess.run(state_command(tpu_name, zone, project), capture_output=True, text=True).stdout.strip()
    print(f"{tpu_name}-qr: {state or '?'}", flush=True)
    if state in FINAL_STATES:
      return state
    if time.time() > deadline:
      raise RuntimeError(f"{tpu_name}-qr still {state or 'unknown'} after {timeout_s:.0f} s")
    time.sleep(poll_s)


def main(argv: list[str]) -> None:
  del argv
  F = flags.FLAGS
  try:
    cmd = create_command(F.tpu_name, F.tpu_zone, F.accelerator_type, F.runtime_version, F.spot, F.tpu_project)
    print(shlex.join(cmd), flush=True)
    if F.dry_run:
      sys.exit(0)
    if subprocess.run(cmd).returncode:
      raise RuntimeError(f"{shlex.join(cmd)} failed")
    sys.exit(FINAL_STATES[wait_until_final(F.tpu_name, F.tpu_zone, F.tpu_project, F.poll_seconds)] if F.wait else 0)
  except (ValueError, RuntimeError) as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
  flags.DEFINE_string("tpu_name", "", "The TPU VM's name (the queued request is <name>-qr).")
  flags.DEFINE_string("tpu_zone", "", "Zone, e.g. us-central2-b.")
  flags.DEFINE_string("tpu_project", "", "GCP project (default: gcloud's).")
  flags.DEFINE_string("accelerator_type", "", "e.g. v4-32, v5litepod-16.")
  flags.DEFINE_string("runtime_version", "", "The TPU VM image, e.g. tpu-ubuntu2204-base.")
  flags.DEFINE_bool("spot", False, "A spot slice: cheaper, and may be taken back at any time.")
  flags.DEFINE_bool("wait", False, "Wait until the request is ACTIVE (exit 0) or FAILED/SUSPENDED (exit 1).")
  flags.DEFINE_float("poll_seconds", 30.0, "--wait: seconds between state checks.")
  flags.DEFINE_bool("dry_run", False, "Print the command only.")
  app.run(main)
