"""Where the small CNN's CPU training step spends its time, jaxdl (XLA:CPU) against PyTorch (oneDNN).

  pip install -e '.[bench]' && python -m benchmarks.cnn_step_profile

One process, one batch of 128 random 28x28x1 images, the engine's small CNN (benchmarks/reference.py).
jaxdl: the whole training step as the engine compiles it (`CompiledReplicas.step`, one replica), then
each convolution's three parts compiled alone with the step's shapes: forward, weight gradient, input
gradient (the first layer needs none). PyTorch: its whole step, then its profiler's self time per op.
Milliseconds per step, the median of `--repeats` timings of `--steps` calls each.
"""
from __future__ import annotations

import statistics
import time
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
from absl import app, flags

from benchmarks import reference
from benchmarks.reference import BATCH, CNN_LR, MOMENTUM
from jaxdl.optim import OptimConfig
from jaxdl.train.config import TrainConfig
from jaxdl.train.runner import CompiledReplicas
from jaxdl.train.steps import ReplicaProgram
from jaxdl.train.trainer import replica_hparams

flags.DEFINE_integer("steps", 50, "Calls per timing.")
flags.DEFINE_integer("repeats", 3, "Timings; the median is reported.")
flags.DEFINE_bool("torch", True, "Profile the PyTorch reference too.")
FLAGS = flags.FLAGS

# The convolutions of the small CNN at batch 128 (NHWC input, HWIO kernel), as Flax runs them.
CONVS = {"conv0": ((BATCH, 28, 28, 1), (5, 5, 1, 20)), "conv1": ((BATCH, 12, 12, 20), (5, 5, 20, 40))}


def ms_per_call(fn: Callable[[], object]) -> float:
  jax.block_until_ready(fn())  # compiles
  times = []
  for _ in range(FLAGS.repeats):
    start = time.perf_counter()
    for _ in range(FLAGS.steps):
      out = fn()
    jax.block_until_ready(out)
    times.append((time.perf_counter() - start) / FLAGS.steps * 1e3)
  return statistics.median(times)


def conv(x: jax.Array, w: jax.Array) -> jax.Array:
  return jax.lax.conv_general_dilated(x, w, (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"))


def jaxdl_profile(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
  cfg = TrainConfig(model="cnn", optim=OptimConfig(name="momentum", lr=CNN_LR, momentum=MOMENTUM),
                    batch_size=BATCH, seeds=(0,), epoch_runner="loop")
  compiled = CompiledReplicas(ReplicaProgram(cfg, 10, x.shape[1:], 1), len(y))
  _, hp = replica_hparams(cfg)
  state = compiled.init(hp)
  xd, yd = jnp.asarray(x), jnp.asarray(y)
  perms = compiled.permutations(state.data_key, 0)
  # The step donates its state: each call hands the new state to the next.
  holder = {"state": state}

  def step():
    holder["state"], loss = compiled.step(holder["state"], hp, xd, yd, perms)
    return loss

  rows = {"whole step": ms_per_call(step)}
  rng = np.random.default_rng(0)
  for name, (x_shape, w_shape) in CONVS.items():
    xs = jnp.asarray(rng.normal(size=x_shape), jnp.float32)
    ws = jnp.asarray(rng.normal(size=w_shape), jnp.float32)
    out = conv(xs, ws)
    forward = jax.jit(conv)
    weight_grad = jax.jit(lambda a, w, g: jax.vjp(lambda v: conv(a, v), w)[1](g)[0])
    rows[f"{name} forward"] = ms_per_call(lambda: forward(xs, ws))
    rows[f"{name} weight gradient"] = ms_per_call(lambda: weight_grad(xs, ws, out))
    if name != "conv0":  # the input needs no gradient
      input_grad = jax.jit(lambda a, w, g: jax.vjp(lambda v: conv(v, w), a)[1](g)[0])
      rows[f"{name} input gradient"] = ms_per_call(lambda: input_grad(xs, ws, out))
  rows["the convolutions' parts together"] = sum(v for k, v in rows.items() if k.startswith("conv"))
  return rows


def torch_profile(x: np.ndarray, y: np.ndarray) -> tuple[float, list[tuple[str, float]]]:
  import torch
  from torch.profiler import ProfilerActivity, profile

  torch.manual_seed(0)
  net = reference.small_cnn()
  opt = torch.optim.SGD(net.parameters(), lr=CNN_LR, momentum=MOMENTUM)
  xt, yt = torch.from_numpy(x.transpose(0, 3, 1, 2).copy()), torch.from_numpy(y.astype(np.int64))

  def step():
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(net(xt), yt)
    loss.backward()
    opt.step()
    return loss

  whole = ms_per_call(step)
  with profile(activities=[ProfilerActivity.CPU]) as prof:
    for _ in range(FLAGS.steps):
      step()
  ops = sorted(((e.key, e.self_cpu_time_total / 1e3 / FLAGS.steps) for e in prof.key_averages()),
               key=lambda kv: -kv[1])
  return whole, ops[:8]


def main(argv: list[str]) -> None:
  del argv
  rng = np.random.default_rng(0)
  x = rng.normal(size=(BATCH, 28, 28, 1)).astype(np.float32)
  y = rng.integers(0, 10, BATCH).astype(np.int32)
  print(f"jax {jax.__version__} ({jax.default_backend()}), batch {BATCH}, ms per step (median of "
        f"{FLAGS.repeats} x {FLAGS.steps} calls)\n\n| jaxdl (XLA) | ms |\n|---|---|")
  rows = jaxdl_profile(x, y)
  for name, ms in rows.items():
    print(f"| {name} | {ms:.1f} |")
  if FLAGS.torch:
    import torch
    whole, ops = torch_profile(x, y)
    print(f"\n| PyTorch {torch.__version__} ({torch.get_num_threads()} threads) | ms |\n|---|---|\n"
          f"| whole step | {whole:.1f} |")
    for name, ms in ops:
      print(f"| {name} (self time) | {ms:.2f} |")
    print(f"\nratio jaxdl / PyTorch, whole step: {rows['whole step'] / whole:.2f}x")


if __name__ == "__main__":
  app.run(main)
