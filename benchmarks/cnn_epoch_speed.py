"""Seconds per epoch of the engine's small MNIST CNN, jaxdl vs a plain PyTorch reference.

  pip install -e '.[bench]' && python -m benchmarks.cnn_epoch_speed

Model (both): conv 20x5x5 + 2x2 max-pool, conv 40x5x5 + 2x2 max-pool, FC100,
ReLU, softmax cross-entropy; SGD momentum 0.9, lr 0.05, batch 128; MNIST
training set (60000 images, 468 steps an epoch), data on the device. Both
run in this one process on the same machine, so their ratio is comparable
even when the absolute figures move with the machine's load.

jaxdl is timed through its own epoch runners (`CompiledReplicas`), both
`loop` (a jitted step called from Python) and `scan` (the epoch as one
compiled program); `--seeds=K` also times K replicas in one program
(`--batchings=vmap,unroll` compares the two ways of batching them). The first
epoch (compilation included) is reported apart; steady-state figures are
the median of the following epochs. PyTorch is a benchmark-only extra.
"""
from __future__ import annotations

import os
import time

import jax
import jax.numpy as jnp
import numpy as np
from absl import app, flags

from benchmarks import reference
from benchmarks.reference import BATCH, CNN_LR, MOMENTUM, steady
from jaxdl.data import load_dataset
from jaxdl.optim import OptimConfig
from jaxdl.train.config import TrainConfig
from jaxdl.train.runner import CompiledReplicas
from jaxdl.train.steps import ReplicaProgram
from jaxdl.train.trainer import replica_hparams

flags.DEFINE_enum("dataset", "mnist", ["mnist", "fashion_mnist", "synthetic"], "Data.")
flags.DEFINE_integer("epochs", 3, "Epochs timed per system (the first includes compilation).")
flags.DEFINE_integer("train_size", 0, "Use the first N training images (0 = all 60000).")
flags.DEFINE_list("runners", ["loop", "scan"], "jaxdl epoch runners to time.")
flags.DEFINE_integer("seeds", 1, "Also time this many replicas in one program (if > 1).")
flags.DEFINE_list("batchings", ["auto"], "How the replicas are batched: auto, vmap, unroll (see runner.py).")
flags.DEFINE_bool("torch", True, "Time the PyTorch reference.")
FLAGS = flags.FLAGS


def time_jaxdl(x: np.ndarray, y: np.ndarray, runner: str, seeds: int, epochs: int,
               batching: str = "auto") -> tuple[list[float], str]:
  cfg = TrainConfig(model="cnn", optim=OptimConfig(name="momentum", lr=CNN_LR, momentum=MOMENTUM),
                    batch_size=BATCH, epochs=epochs, seeds=tuple(range(seeds)), epoch_runner=runner)
  program = ReplicaProgram(cfg, 10, x.shape[1:], len(y) // BATCH)
  compiled = CompiledReplicas(program, len(y), batching=batching)
  _, hp = replica_hparams(cfg)
  state = compiled.init(hp)
  xd, yd = jnp.asarray(x), jnp.asarray(y)
  times = []
  for _ in range(epochs):
    start = time.perf_counter()
    if runner == "scan":
      state, _ = compiled.epoch(state, hp, xd, yd)
    else:
      state, _, _ = compiled.run_epoch_loop(state, hp, xd, yd, lambda s, losses: False)
    jax.block_until_ready(state)
    times.append(time.perf_counter() - start)
  return times, compiled.batching


def time_torch(x: np.ndarray, y: np.ndarray, epochs: int) -> tuple[list[float], str]:
  import torch
  from torch import nn

  device = "cuda" if torch.cuda.is_available() else "cpu"
  torch.manual_seed(0)
  model = reference.small_cnn().to(device)
  opt = torch.optim.SGD(model.parameters(), lr=CNN_LR, momentum=MOMENTUM)
  loss_fn = nn.CrossEntropyLoss()
  xt = torch.as_tensor(x.transpose(0, 3, 1, 2).copy(), device=device)
  yt = torch.as_tensor(y.astype(np.int64), device=device)
  steps = len(y) // BATCH
  times = []
  for epoch in range(epochs):
    perm = torch.randperm(len(y), device=device)
    start = time.perf_counter()
    for i in range(steps):
      idx = perm[i * BATCH:(i + 1) * BATCH]
      opt.zero_grad(set_to_none=True)
      loss = loss_fn(model(xt[idx]), yt[idx])
      loss.backward()
      opt.step()
    if device == "cuda":
      torch.cuda.synchronize()
    times.append(time.perf_counter() - start)
  return times, f"torch {torch.__version__} on {device}, {torch.get_num_threads()} threads"


def main(argv):
  del argv
  data = load_dataset(FLAGS.dataset)
  x, y = data.x_train, data.y_train
  if FLAGS.train_size:
    x, y = x[:FLAGS.train_size], y[:FLAGS.train_size]
  n_images = (len(y) // BATCH) * BATCH
  print(f"machine: {os.cpu_count()} CPU cores, jax {jax.__version__} backend {jax.default_backend()} "
        f"{jax.devices()}; {FLAGS.dataset} {len(y)} images, batch {BATCH}")
  rows = []

  def measured(name: str, times: list[float], k: int) -> None:
    rows.append((name, times, k))  # and say so at once: a long benchmark shows its progress
    print(f"{name}: epochs {', '.join(f'{t:.2f}' for t in times)} s", flush=True)

  if FLAGS.torch:
    t, desc = time_torch(x, y, FLAGS.epochs)
    measured("PyTorch eager (" + desc + ")", t, 1)
  for runner in FLAGS.runners:
    measured(f"jaxdl, {runner}", time_jaxdl(x, y, runner, 1, FLAGS.epochs)[0], 1)
    if FLAGS.seeds > 1:
      for batching in FLAGS.batchings:
        times, used = time_jaxdl(x, y, runner, FLAGS.seeds, FLAGS.epochs, batching)
        measured(f"jaxdl, {runner}, {FLAGS.seeds} replicas ({used})", times, FLAGS.seeds)
  reference = steady(rows[0][1]) if FLAGS.torch else None
  print("\n| system | first epoch (s, with compile) | s/epoch | s/epoch per seed | images/s | "
        "vs PyTorch (time ratio) |\n|---|---|---|---|---|---|")
  for name, times, k in rows:
    s = steady(times)
    ratio = f"{s / k / reference:.2f}x" if reference else "-"
    print(f"| {name} | {times[0]:.2f} | {s:.3f} | {s / k:.3f} | {k * n_images / s:,.0f} | {ratio} |")


if __name__ == "__main__":
  app.run(main)
