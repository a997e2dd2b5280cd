"""The persistent compilation cache every entry point turns on: a second run loads what the first compiled."""
from __future__ import annotations

import os
import subprocess
import sys

from conftest import REPO

TINY = ["--dataset=synthetic", "--data_arg=n_train=128", "--data_arg=n_test=32",
        "--data_arg=shape=(8,8,1)", "--model_arg=widths=(8,)", "--batch_size=32", "--epochs=1"]


def _train(workdir, *flags: str, **env_changes: str) -> None:
  # Not the suite's cache, nor its unbounded size: the entry points' own defaults.
  suite_only = ("JAX_COMPILATION_CACHE_DIR", "JAX_COMPILATION_CACHE_MAX_SIZE")
  env = {k: v for k, v in os.environ.items() if k not in suite_only}
  env.update(JAX_PLATFORMS="cpu", JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0", **env_changes)  # tiny programs too
  proc = subprocess.run([sys.executable, "-m", "experiments.train", *TINY, f"--workdir={workdir}", *flags],
                        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr


def _entries(cache) -> set[str]:
  return {name for name in os.listdir(cache) if name.endswith("-cache")} if os.path.isdir(cache) else set()


def _last_reads(cache) -> dict[str, bytes]:
  """Each entry's access stamp, which JAX's cache rewrites on every read (a hit)."""
  return {name: (cache / name).read_bytes() for name in os.listdir(cache) if name.endswith("-atime")}


def test_on_by_default_a_second_run_loads_every_program_and_an_empty_directory_turns_it_off(tmp_path):
  xdg = str(tmp_path / "xdg")
  default = tmp_path / "xdg" / "jaxdl-xla"  # jaxdl.compilation_cache.DEFAULT_DIR under this XDG_CACHE_HOME
  _train(tmp_path / "off", "--compilation_cache_dir=", XDG_CACHE_HOME=xdg)
  assert not default.exists()
  _train(tmp_path / "a", XDG_CACHE_HOME=xdg)
  first, stamps = _entries(default), _last_reads(default)
  assert first and len(stamps) == len(first), os.listdir(default) if default.exists() else "no cache directory"
  # another run, the same programs; a failure to load an entry raises instead of recompiling quietly
  _train(tmp_path / "b", f"--compilation_cache_dir={default}", JAX_RAISE_PERSISTENT_CACHE_ERRORS="1")
  assert _entries(default) == first
  again = _last_reads(default)
  assert all(again[name] != stamps[name] for name in stamps)  # every program was loaded from the cache
