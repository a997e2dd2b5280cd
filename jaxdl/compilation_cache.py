"""JAX's persistent compilation cache, on by default for jaxdl's entry points.

On a CPU a small study spends most of its time compiling, and its programs are
compiled again by every resume, `--report_only`, SLURM requeue and rerun on
other seeds: a warm cache loads them instead. JAX keys each entry on the
program, the compile options, the backend and the jax/jaxlib versions, so a
cache is safe to share between versions and machines; with a size bound, its
reads and writes take a file lock (the `filelock` package), so processes can
share it. A $JAX_COMPILATION_CACHE_DIR the user set (the tests set one per run)
is used unless a directory is given explicitly.
"""
from __future__ import annotations

import os

import jax
from jax.experimental.compilation_cache import compilation_cache

# Under the user's cache directory, beside (not inside) ~/.cache/jaxdl, where datasets are looked for.
DEFAULT_DIR = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "jaxdl-xla")
MAX_BYTES = 4 * 2**30  # least recently used entries are removed beyond this
# JAX's default keeps only programs that took over 1 s to compile; a small study's programs take
# 0.2-1 s each on a CPU and are most of its compile time (a loaded one costs ~10 ms).
MIN_COMPILE_SECONDS = 0.2


def configure(path: str | None) -> str | None:
  """Caches compiled programs in `path` ('' turns the cache off; None: $JAX_COMPILATION_CACHE_DIR
  if set, else DEFAULT_DIR), size-bounded and locked unless $JAX_COMPILATION_CACHE_MAX_SIZE says
  otherwise. Returns the directory used. A cache JAX had already opened is closed first, so the
  setting holds whenever it is called."""
  if path is None:
    path = os.environ.get("JAX_COMPILATION_CACHE_DIR") or DEFAULT_DIR
  compilation_cache.reset_cache()
  if not path:
    jax.config.update("jax_enable_compilation_cache", False)
    return None
  jax.config.update("jax_enable_compilation_cache", True)
  jax.config.update("jax_compilation_cache_dir", path)
  # Every writer of one directory must bound it alike: a bounded one reads the access stamps
  # that only bounded writers leave (the tests' conftest sets the same bound for its processes).
  if "JAX_COMPILATION_CACHE_MAX_SIZE" not in os.environ:
    jax.config.update("jax_compilation_cache_max_size", MAX_BYTES)
  if "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS" not in os.environ:
    jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_SECONDS)
  return path
