"""Where a result came from: the command, the code's commit, the library versions, the devices."""
from __future__ import annotations

import datetime
import importlib.metadata
import os
import shlex
import subprocess
import sys
from typing import Any

import jax

PACKAGES = ("jax", "jaxlib", "flax", "optax", "orbax-checkpoint", "numpy")
_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def git_state(repo: str = _REPO) -> dict[str, Any]:
  """{"commit": sha or None, "dirty": bool or None}; None where the code is not a git checkout."""
  def git(*args: str) -> str | None:
    try:
      proc = subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
      return None
    return proc.stdout if proc.returncode == 0 else None
  commit = git("rev-parse", "HEAD")
  status = git("status", "--porcelain", "--untracked-files=no")
  return {"commit": commit.strip() if commit else None, "dirty": bool(status.strip()) if status is not None else None}


def versions() -> dict[str, str | None]:
  out = {}
  for name in PACKAGES:
    try:
      out[name] = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
      out[name] = None
  return out


def provenance(**extra: Any) -> dict[str, Any]:
  """The provenance record saved with every run (`extra`: e.g. the config variant)."""
  devices = jax.devices()
  return {"command": shlex.join([os.path.basename(sys.executable), *sys.argv]),
          "cwd": os.getcwd(),
          "time_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
          **git_state(), "versions": versions(),
          "backend": jax.default_backend(), "devices": [str(d) for d in devices],
          "process_count": jax.process_count(), **extra}
