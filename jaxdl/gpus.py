"""The NVIDIA GPUs a process may use, read from its environment without importing JAX (launchers use it)."""
from __future__ import annotations

import os
from typing import Mapping


def visible_gpu_ids(env: Mapping[str, str] | None = None) -> list[str]:
  """$CUDA_VISIBLE_DEVICES's entries when it is set (SLURM sets it per task), else the node's /dev/nvidiaN."""
  env = os.environ if env is None else env
  visible = env.get("CUDA_VISIBLE_DEVICES")
  if visible is not None:
    return [v.strip() for v in visible.split(",") if v.strip()]
  if not os.path.isdir("/dev"):
    return []
  return sorted((d[6:] for d in os.listdir("/dev") if d.startswith("nvidia") and d[6:].isdigit()), key=int)


def share_gpus(runs_at_once: int, env: Mapping[str, str] | None = None) -> list[dict[str, str]]:
  """Environment settings for each of `runs_at_once` processes started side by side on this machine.

  JAX gives a process every GPU it sees and preallocates most of each one's memory, so two runs
  started plainly would fight over the same GPUs. With at least as many GPUs as runs each run gets
  its own block of them; with fewer they share, and preallocation is turned off so that each takes
  only the memory it uses. No GPU (or one run): nothing to set.
  """
  ids = visible_gpu_ids(env)
  if runs_at_once <= 1 or not ids:
    return [{} for _ in range(max(runs_at_once, 1))]
  if len(ids) >= runs_at_once:
    per = len(ids) // runs_at_once
    return [{"CUDA_VISIBLE_DEVICES": ",".join(ids[i * per:(i + 1) * per])} for i in range(runs_at_once)]
  return [{"XLA_PYTHON_CLIENT_PREALLOCATE": "false"} for _ in range(runs_at_once)]
