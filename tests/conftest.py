"""Shared test helpers: run an entry point in a subprocess, compare pytrees bitwise."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

# The suite's nets are tiny, so XLA:CPU compilation, not execution, is most of its time;
# LLVM's optimization level 0 halves a compile (measured: 7.3 s -> 3.5 s for one small
# MLP's programs). Set before JAX starts its backend; subprocesses inherit it. Tests compare
# runs made under the same flags, never against numbers from an optimized build.
os.environ["XLA_FLAGS"] = " ".join(
    filter(None, [os.environ.get("XLA_FLAGS", ""), "--xla_backend_optimization_level=0"]))

# The suite compiles the same small programs in many processes (a run, then its resume; a
# study's cells, then its report): one compilation cache for this run's processes, xdist's
# workers and their subprocesses included, saves the repeats (measured: 215 -> 168 s for
# test_resume/cli/study/engine). A fresh directory per run, made by the first process
# (xdist's controller, whose environment the workers inherit) and removed at its end.
_OWN_CACHE = "JAX_COMPILATION_CACHE_DIR" not in os.environ
if _OWN_CACHE:
  os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(prefix="jaxdl-tests-xla-cache-")
  os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"  # the tests' programs compile fast
  # Unbounded, and so for every process here (jaxdl.compilation_cache leaves a size set in the
  # environment alone; one directory's writers must agree): a bound makes every write scan every
  # entry under a file lock, which cost the suite about 200 s (983 s against ~780 s).
  os.environ["JAX_COMPILATION_CACHE_MAX_SIZE"] = "-1"

from jaxdl import xla_cpu_flags  # noqa: E402

xla_cpu_flags.apply()  # what every entry point does before JAX starts its backend

import jax  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_module(module: str, *args: str, timeout: float = 300, check: bool = False,
               **popen_kw) -> subprocess.CompletedProcess:
  """`python -m module args...` from the repo root, on CPU, output captured."""
  env = {**os.environ, "JAX_PLATFORMS": "cpu", "PYTHONUNBUFFERED": "1"}
  proc = subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, env=env,
                        capture_output=True, text=True, timeout=timeout, **popen_kw)
  if check and proc.returncode != 0:
    raise AssertionError(f"{module} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
  return proc


def start_module(module: str, *args: str) -> subprocess.Popen:
  env = {**os.environ, "JAX_PLATFORMS": "cpu", "PYTHONUNBUFFERED": "1"}
  return subprocess.Popen([sys.executable, "-m", module, *args], cwd=REPO, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def assert_trees_equal(a, b) -> None:
  """Bitwise equality of two pytrees of arrays (same structure, same bits)."""
  la, ta = jax.tree_util.tree_flatten(a)
  lb, tb = jax.tree_util.tree_flatten(b)
  assert ta == tb, f"tree structures differ:\n{ta}\n{tb}"
  for x, y in zip(la, lb):
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.fixture
def repo_root() -> str:
  return REPO


def pytest_unconfigure(config) -> None:
  if _OWN_CACHE and not hasattr(config, "workerinput"):  # the process that made the cache
    shutil.rmtree(os.environ["JAX_COMPILATION_CACHE_DIR"], ignore_errors=True)
