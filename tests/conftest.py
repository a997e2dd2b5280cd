"""Shared test helpers: run an entry point in a subprocess, compare pytrees bitwise."""
from __future__ import annotations

import os
import subprocess
import sys

import jax
import numpy as np
import pytest

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
