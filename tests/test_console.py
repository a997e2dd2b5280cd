"""What a user sees while a run goes: progress as it happens in a log file, throughput, ETA, compile time, --help."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import jax
import jax.numpy as jnp

from conftest import REPO, run_module
from jaxdl.train.compile_clock import compile_totals, compiles_by_program

TINY = ["--dataset=synthetic", "--data_arg=n_train=128", "--data_arg=n_test=32",
        "--data_arg=shape=(8,8,1)", "--model_arg=widths=(8,)", "--batch_size=32"]


def test_progress_reaches_a_log_file_while_the_run_goes(tmp_path):
  # stdout is a file and PYTHONUNBUFFERED is not set: as under SLURM, nohup or tee.
  env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
  env["JAX_PLATFORMS"] = "cpu"
  env["JAX_COMPILATION_CACHE_DIR"] = str(tmp_path / "xla-cache")  # its own: the first epoch really compiles
  log = tmp_path / "log.txt"
  with open(log, "w") as out:
    proc = subprocess.Popen([sys.executable, "-m", "experiments.train", *TINY, "--epochs=100000",
                             f"--workdir={tmp_path}/run"], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
      deadline = time.time() + 240
      while "epoch 1/" not in log.read_text() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.5)
      text = log.read_text()
      assert proc.poll() is None, f"the run ended first (exit {proc.returncode}):\n{text}"
      assert "epoch 1/100000" in text, text
    finally:
      proc.send_signal(signal.SIGTERM)  # checkpoints and exits cleanly
      proc.wait(timeout=120)
  line = next(l for l in log.read_text().splitlines() if "epoch 1/" in l)
  assert re.search(r"\(compiling \d+\.\d+s\)", line), line  # the first epoch compiles the train step
  assert re.search(r"[\d,]+ ex/s", line) and re.search(r"ETA \d+:\d\d:\d\d", line), line
  first = json.loads(open(tmp_path / "run" / "metrics.jsonl").readline())
  assert first["compile_seconds"] > 0 and first["examples_per_second"] > 0


def test_compile_clock_counts_each_program_built_by_name():
  before = compile_totals()

  def jaxdl_test_only_program(x):
    return jnp.sin(x) * 3.0

  jax.jit(jaxdl_test_only_program)(jnp.arange(3.0)).block_until_ready()
  jax.jit(jaxdl_test_only_program)(jnp.arange(3.0)).block_until_ready()  # cached in memory: no new build
  spent = compile_totals() - before
  assert spent.count >= 1 and spent.seconds > 0
  built = {name: t for name, t in compiles_by_program().items() if "jaxdl_test_only_program" in name}
  assert sum(t.count for t in built.values()) == 1, built


def test_compile_clock_tells_programs_loaded_from_the_persistent_cache(tmp_path):
  from jax.experimental.compilation_cache import compilation_cache as jax_cache

  from jaxdl import compilation_cache
  saved = {name: getattr(jax.config, name) for name in ("jax_enable_compilation_cache", "jax_compilation_cache_dir",
                                                         "jax_persistent_cache_min_compile_time_secs")}
  try:
    compilation_cache.configure(str(tmp_path / "cache"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)

    def jaxdl_test_cached_program(x):
      return jnp.cos(x) + 2.0

    before = compile_totals()
    jax.jit(jaxdl_test_cached_program)(jnp.arange(4.0)).block_until_ready()  # compiled, written to the cache
    jax.clear_caches()  # forget the in-memory executable: the next call reads the persistent cache
    jax.jit(jaxdl_test_cached_program)(jnp.arange(4.0)).block_until_ready()
    spent = compile_totals() - before
  finally:
    jax_cache.reset_cache()
    for name, value in saved.items():
      jax.config.update(name, value)
  built = {name: t for name, t in compiles_by_program().items() if "jaxdl_test_cached_program" in name}
  assert sum(t.count for t in built.values()) == 2 and sum(t.cached for t in built.values()) == 1, built
  assert spent.cached >= 1 and "from the cache" in spent.describe()


def test_help_lists_the_entry_points_own_flags():
  train = run_module("experiments.train", "--help").stdout  # absl's --help exits 1
  assert "--lr:" in train and "--model:" in train and "--workdir:" in train
  study = run_module("experiments.ablation_ladder", "--help").stdout
  assert "--config:" in study and "--[no]report_only:" in study and "--cells:" in study
  assert "Nielsen" in study  # the study's own description, not the scaffold's
