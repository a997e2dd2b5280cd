"""Where a result came from: the command, the code's commit, the library versions, the devices."""
from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
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


def command() -> str:
  """The command line as typed: `python -m <module> ...` for a module run with -m (whose argv[0] is
  its file's absolute path, which says nothing on another machine)."""
  spec = getattr(sys.modules.get("__main__"), "__spec__", None)
  name = spec.name.removesuffix(".__main__") if spec is not None else None
  start = ["-m", name] if name else sys.argv[:1]
  return shlex.join([os.path.basename(sys.executable), *start, *sys.argv[1:]])


def host() -> dict[str, Any]:
  """The machine the process runs on: CPU model, cores this process may use, memory (GiB)."""
  model = platform.processor() or platform.machine()
  try:
    with open("/proc/cpuinfo") as f:
      model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), model)
  except OSError:
    pass
  cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
  try:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
  except (ValueError, OSError, AttributeError):
    memory = None
  return {"cpu": model, "cores": cores,
          "memory_gib": None if memory is None else round(memory, 1), "machine": platform.machine()}


def provenance(**extra: Any) -> dict[str, Any]:
  """The provenance record saved with every run (`extra`: e.g. the config variant)."""
  devices = jax.devices()
  return {"command": command(),
          "cwd": os.getcwd(),
          "time_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
          **git_state(), "versions": versions(),
          "backend": jax.default_backend(), "devices": [str(d) for d in devices],
          "process_count": jax.process_count(), "host": host(), **extra}
