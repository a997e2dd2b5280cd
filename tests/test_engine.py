"""The trainer's core properties: replicas, determinism, divergence, early stopping."""
from __future__ import annotations

import dataclasses
import os
import shutil

import jax
import numpy as np
import pytest

from conftest import assert_trees_equal
from jaxdl.data import load_dataset
from jaxdl.optim import OptimConfig
from jaxdl.train import TrainConfig, train_and_evaluate, trainer
from jaxdl.train.runner import CompiledReplicas, choose_batching
from jaxdl.train.steps import ReplicaProgram
from jaxdl.train.trainer import TIMING_KEYS, replica_hparams

DATA = load_dataset("synthetic", val_size=64, n_train=320, n_test=64, shape=(8, 8, 1))
BASE = TrainConfig(dataset="synthetic", model="mlp", model_options={"widths": (16,), "dropout_rate": 0.1},
                   optim=OptimConfig(name="momentum", lr=0.05), batch_size=32, epochs=2,
                   val_size=64, augment_noise=0.05)


def run(cfg: TrainConfig, **kw):
  return train_and_evaluate(cfg, None, data=DATA, echo=lambda s: None, **kw)


def replica(tree, k):
  return jax.tree_util.tree_map(lambda x: np.asarray(x)[k], tree)


def test_replica_i_equals_single_run_with_seed_i():
  many = run(dataclasses.replace(BASE, seeds=(0, 1, 2)))
  single = run(dataclasses.replace(BASE, seeds=(1,)))
  # vmapped and unvmapped programs may order float reductions differently:
  # equal to float tolerance, and the data order / dropout masks exactly.
  for a, b in zip(jax.tree_util.tree_leaves(replica(many.state.params, 1)),
                  jax.tree_util.tree_leaves(replica(single.state.params, 0))):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
  assert many.replicas[1]["test_acc"] == pytest.approx(single.replicas[0]["test_acc"], abs=1e-6)
  # Different seeds really differ.
  assert not np.allclose(replica(many.state.params, 0)["logits"]["kernel"],
                         replica(many.state.params, 1)["logits"]["kernel"])


def test_lr_grid_replica_equals_single_run_with_that_lr():
  grid = run(dataclasses.replace(BASE, sweep={"lr": (0.01, 0.2)}))
  single = run(dataclasses.replace(BASE, optim=OptimConfig(name="momentum", lr=0.2)))
  assert [r["lr"] for r in grid.replicas] == pytest.approx([0.01, 0.2])
  for a, b in zip(jax.tree_util.tree_leaves(replica(grid.state.params, 1)),
                  jax.tree_util.tree_leaves(replica(single.state.params, 0))):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_same_config_twice_gives_the_same_bits():
  cfg = dataclasses.replace(BASE, seeds=(0, 1))
  a, b = run(cfg), run(cfg)
  assert_trees_equal(a.state, b.state)
  strip = lambda h: [{k: np.asarray(v).tolist() for k, v in r.items() if k not in TIMING_KEYS} for r in h]  # noqa: E731
  assert strip(a.history) == strip(b.history)


def test_a_diverging_replica_is_frozen_and_the_others_go_on():
  res = run(dataclasses.replace(BASE, sweep={"lr": (0.05, 1e4)}, epochs=3))
  ok, bad = res.replicas
  assert bad["status"] == "diverged" and bad["diverged_step"] >= 0
  assert np.isnan(bad["test_acc"])
  assert ok["status"] == "done" and ok["test_acc"] > 0.5
  assert res.status == "done"  # not every replica diverged
  # The diverged replica's parameters are the last finite ones.
  assert all(np.all(np.isfinite(x)) for x in jax.tree_util.tree_leaves(replica(res.state.params, 1)))
  assert "diverged" in res.table.splitlines()[-1] or "1/1" in res.table


def test_all_replicas_diverged_ends_the_run_as_diverged():
  res = run(dataclasses.replace(BASE, optim=OptimConfig(name="sgd", lr=1e4), epochs=5))
  assert res.status == "diverged"
  assert res.history[-1]["epoch"] < 5  # stopped once nothing was left to train


def test_early_stopping_stops_a_replica_that_does_not_improve():
  # lr 0 never improves on epoch 1's validation accuracy: patience 2 stops it after epoch 3.
  res = run(dataclasses.replace(BASE, sweep={"lr": (0.0, 0.05)}, epochs=6, early_stopping_patience=2,
                                model_options={"widths": (16,)}, augment_noise=0.0))
  frozen, learning = res.replicas
  assert frozen["status"] == "stopped_early"
  assert frozen["best_epoch"] == 1
  assert res.history[2]["stopped"][0] and not res.history[1]["stopped"][0]


def test_scan_epoch_runner_matches_the_python_loop():
  loop = run(dataclasses.replace(BASE, epoch_runner="loop", seeds=(0, 1)))
  scan = run(dataclasses.replace(BASE, epoch_runner="scan", seeds=(0, 1)))
  for a, b in zip(jax.tree_util.tree_leaves(loop.state.params), jax.tree_util.tree_leaves(scan.state.params)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_batch_norm_cnn_trains_and_records_hook_metrics():
  cfg = dataclasses.replace(BASE, model="cnn", model_options={
      "conv_features": (4,), "kernel_size": 3, "dense_widths": (8,), "batch_norm": True}, seeds=(0, 1))
  calls = []

  def hook(state, program, hp):
    calls.append(int(state.step[0]))
    return {"hook_value": np.asarray(state.step)}

  res = run(cfg, epoch_hook=hook)
  spe = (320 - 64) // 32
  assert calls == [0, spe, 2 * spe]
  assert [h["hook_value"].tolist() for h in res.history] == [[0, 0], [spe, spe], [2 * spe, 2 * spe]]
  # Running statistics were kept and moved away from their initial values (mean 0, var 1).
  stats = jax.tree_util.tree_leaves_with_path(res.state.batch_stats)
  assert stats
  for path, leaf in stats:
    start = 0.0 if "mean" in jax.tree_util.keystr(path) else 1.0
    assert np.abs(np.asarray(leaf) - start).max() > 1e-3, jax.tree_util.keystr(path)
  assert res.replicas[0]["train_acc"] > 0.3


def test_config_rejects_unknown_sweeps_and_runners():
  with pytest.raises(ValueError, match="sweepable"):
    TrainConfig(sweep={"momentum": (0.9,)})
  with pytest.raises(ValueError, match="auto, loop, scan"):
    TrainConfig(epoch_runner="fast")


def test_settings_that_would_silently_do_nothing_are_rejected():
  no_val = load_dataset("synthetic", n_train=320, n_test=64, shape=(8, 8, 1))
  with pytest.raises(ValueError, match="validation split"):
    train_and_evaluate(dataclasses.replace(BASE, val_size=0, early_stopping_patience=2), None,
                       data=no_val, echo=lambda s: None)
  # resnet has no dropout: a dropout_rate sweep would train identical replicas.
  with pytest.raises(ValueError, match="no dropout_rate option"):
    run(dataclasses.replace(BASE, model="resnet", model_options={}, sweep={"dropout_rate": (0.0, 0.5)}))


def test_scan_runner_resumes_a_mid_epoch_checkpoint(tmp_path, monkeypatch):
  """A loop-runner checkpoint taken mid-epoch (CPU), resumed under scan (GPU's default):
  the partial epoch is finished step by step, then scanned epochs go on, as uninterrupted."""
  cfg = dataclasses.replace(BASE, seeds=(0, 1), epochs=3, checkpoint_every_steps=3,
                            keep_checkpoints=100)
  workdir = str(tmp_path / "run")
  whole = train_and_evaluate(cfg, workdir, data=DATA, echo=lambda s: None)
  spe = (320 - 64) // 32
  ckpt_dir = os.path.join(workdir, "checkpoints")
  mid = 9  # a checkpoint_every_steps multiple inside epoch 2 (steps 8..15)
  assert str(mid) in os.listdir(ckpt_dir)
  for d in os.listdir(ckpt_dir):
    if d.isdigit() and int(d) > mid:
      shutil.rmtree(os.path.join(ckpt_dir, d))
  monkeypatch.setattr(trainer, "choose_runner", lambda name: "scan")
  lines = []
  resumed = train_and_evaluate(cfg, workdir, data=DATA, echo=lines.append)
  assert f"resumed from step {mid} ({workdir})" in lines
  assert [int(s) for s in np.asarray(resumed.state.step)] == [3 * spe] * 2
  for a, b in zip(jax.tree_util.tree_leaves(whole.state.params),
                  jax.tree_util.tree_leaves(resumed.state.params)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
  assert [h["step"] for h in resumed.history] == [spe, 2 * spe, 3 * spe]


def test_unrolled_replicas_equal_vmapped_ones_and_auto_unrolls_conv_nets_on_cpu():
  cfg = dataclasses.replace(BASE, model="cnn", seeds=(0, 1), model_options={
      "conv_features": (4,), "kernel_size": 3, "dense_widths": (8,), "dropout_rate": 0.1})
  spe = (320 - 64) // 32
  states = {}
  for batching in ("vmap", "unroll"):
    compiled = CompiledReplicas(ReplicaProgram(cfg, 10, (8, 8, 1), spe), 256, batching=batching)
    _, hp = replica_hparams(cfg)
    state = compiled.init(hp)
    perms = compiled.permutations(state.data_key, 0)
    for _ in range(3):
      state, _ = compiled.step(state, hp, DATA.x_train[:256], DATA.y_train[:256], perms)
    states[batching] = state
  for a, b in zip(jax.tree_util.tree_leaves(states["vmap"].params),
                  jax.tree_util.tree_leaves(states["unroll"].params)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
  conv = ReplicaProgram(cfg, 10, (8, 8, 1), spe)
  mlp = ReplicaProgram(BASE, 10, (8, 8, 1), spe)
  assert choose_batching("auto", conv, None) == "unroll"  # the suite runs on CPU
  one_conv = ReplicaProgram(dataclasses.replace(cfg, seeds=(0,)), 10, (8, 8, 1), spe)
  assert choose_batching("auto", one_conv, None) == "vmap"  # one replica: nothing to unroll
  assert choose_batching("auto", mlp, None) == "vmap"
  with pytest.raises(ValueError, match="auto, vmap, unroll"):
    choose_batching("pmap", mlp, None)
