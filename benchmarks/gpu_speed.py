"""Training speed on a GPU: jaxdl's compiled epochs against PyTorch eager, in one process.

On an NVIDIA GPU machine (jax with CUDA, and a CUDA build of torch 2.13.0):

  pip install -e '.[bench]'            # torch 2.13.0: PyPI's Linux wheel is a CUDA build
  pip install 'jax[cuda13]==0.10.2'    # or jax[cuda12]: match `python -c "import torch; print(torch.version.cuda)"`
  python -m benchmarks.gpu_speed 2>&1 | tee gpu_speed.txt

(defaults: 50,000 training images an epoch, 3 epochs, every case below). A CPU smoke
run at small sizes (tests/test_gpu_speed_benchmark.py runs smaller ones still):

  JAX_PLATFORMS=cpu python -m benchmarks.gpu_speed --images=256 --epochs=2 \\
      --cases=cnn,cnn_seeds2,cnn_bf16,resnet20 --cnn_data=synthetic

Cases (`--cases`, comma-separated; the names are a small grammar, so e.g.
`resnet56_bf16` or `cnn_seeds16` work too):
  cnn            the engine's small CNN ("cnn": conv 20x5x5 + pool, conv 40x5x5 + pool,
                 FC100; as benchmarks/cnn_epoch_speed.py), SGD momentum 0.9, lr 0.05, on
                 MNIST-shaped data (`--cnn_data`: real MNIST if found, else synthetic 28x28x1);
  cnn_seedsK     K seeds of it vmapped in one program (batching "vmap"); PyTorch trains
                 the seeds one after another (at most `--torch_max_seeds` of them are
                 timed: a sequential rate does not depend on how many);
  *_bf16         bfloat16 compute, float32 parameters (the models' `dtype` option; logits
                 and loss in float32); PyTorch: `torch.autocast(dtype=torch.bfloat16)`;
  resnetD        He et al.'s CIFAR ResNet-D ("resnet", option-A shortcuts, D = 20, 56, ...)
                 on synthetic 32x32x3 data, SGD momentum 0.9, lr 0.1, weight decay 1e-4
                 on the kernels (both systems).
Batch 128 everywhere (`--batch`); the data sit on the device; every step draws its
batch from the epoch's random permutation in both systems.

jaxdl runs each epoch as one scanned program (`CompiledReplicas.epoch`). Its compile
time is measured ahead of time: `.lower(...).compile()` of the epoch program, timed
alone; the epochs then run that executable, so no epoch includes compilation (the first
epoch is still reported, for any other first-run cost). PyTorch is eager: it has no
compile time, and its first epoch's extra time over the steady state (cuDNN autotuning,
allocator warm-up) is reported instead. Steady state = the median of the epochs after
the first; images/s = images an epoch x seeds / steady seconds an epoch. The ratio is
jaxdl's images/s over PyTorch's (> 1: jaxdl is faster).

Precision: XLA's default precision on a recent NVIDIA GPU lets float32 convolutions and
matrix products use TF32; PyTorch is set to the same (`torch.set_float32_matmul_precision
("high")`, cuDNN TF32 on), with `torch.backends.cudnn.benchmark = True`. JAX does not
preallocate GPU memory here (XLA_PYTHON_CLIENT_PREALLOCATE=false), so both share the GPU.
"""
from __future__ import annotations

import dataclasses
import os
import re
import time

os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # before JAX starts its backend

import jax  # noqa: E402
import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402

from benchmarks import reference  # noqa: E402
from benchmarks.reference import CNN_LR, MOMENTUM, NUM_CLASSES  # noqa: E402
from jaxdl import xla_cpu_flags  # noqa: E402
from jaxdl.data import DataFileError, load_dataset  # noqa: E402
from jaxdl.optim import OptimConfig  # noqa: E402
from jaxdl.train.config import TrainConfig  # noqa: E402
from jaxdl.train.runner import CompiledReplicas  # noqa: E402
from jaxdl.train.steps import ReplicaProgram  # noqa: E402
from jaxdl.train.trainer import replica_hparams  # noqa: E402

DEFAULT_CASES = ["cnn", "cnn_seeds8", "cnn_seeds64", "cnn_bf16", "resnet20", "resnet56"]
flags.DEFINE_list("cases", DEFAULT_CASES, "Cases: cnn, cnn_seedsK, resnetD, each optionally + _bf16.")
flags.DEFINE_integer("images", 50000, "Training images an epoch (whole batches of them are used).")
flags.DEFINE_integer("epochs", 3, "Epochs timed per system and case (steady state: all but the first).")
flags.DEFINE_integer("batch", 128, "Batch size.")
flags.DEFINE_enum("cnn_data", "auto", ["auto", "mnist", "synthetic"],
                  "The CNN's data: MNIST, synthetic 28x28x1, or auto (MNIST if its files are found).")
flags.DEFINE_enum("batching", "vmap", ["auto", "vmap", "unroll"],
                  "How jaxdl batches the replicas (runner.choose_batching); auto unrolls convs on CPU.")
flags.DEFINE_bool("torch", True, "Time the PyTorch reference (skipped, and said so, if torch is missing).")
flags.DEFINE_integer("torch_max_seeds", 8, "PyTorch trains at most this many seeds of a seeds case.")
flags.DEFINE_bool("torch_channels_last", False, "PyTorch in channels-last memory format (NHWC, like JAX).")
flags.register_multi_flags_validator(
    ["epochs", "batch", "images"], lambda f: f["epochs"] >= 1 and 1 <= f["batch"] <= f["images"],
    "need --epochs >= 1 and --images >= --batch >= 1")
FLAGS = flags.FLAGS

RESNET_LR, RESNET_WEIGHT_DECAY = 0.1, 1e-4


@dataclasses.dataclass(frozen=True)
class Case:
  name: str
  model: str   # "cnn" | "resnet"
  depth: int   # resnet only
  seeds: int
  bf16: bool

  @property
  def dtype(self) -> str:
    return "bfloat16" if self.bf16 else "float32"

  def model_options(self) -> dict:
    options = {"depth": self.depth} if self.model == "resnet" else {}
    return {**options, "dtype": self.dtype} if self.bf16 else options

  def optim(self) -> OptimConfig:
    if self.model == "resnet":
      return OptimConfig(name="momentum", lr=RESNET_LR, momentum=MOMENTUM, weight_decay=RESNET_WEIGHT_DECAY)
    return OptimConfig(name="momentum", lr=CNN_LR, momentum=MOMENTUM)


def parse_case(name: str) -> Case:
  """A case name ("cnn", "cnn_seeds8", "resnet56_bf16", ...) as a Case; ValueError if it is none."""
  m = re.fullmatch(r"(cnn|resnet(\d+))(?:_seeds(\d+))?(_bf16)?", name.strip())
  if not m:
    raise ValueError(f"{name!r} is not cnn[_seedsK][_bf16] nor resnetD[_seedsK][_bf16]")
  depth = int(m.group(2) or 0)
  if m.group(2) and (depth < 8 or (depth - 2) % 6):
    raise ValueError(f"{name!r}: a ResNet's depth is 6n+2 (8, 14, 20, 32, 44, 56, 110, ...)")
  seeds = int(m.group(3) or 1)
  if seeds < 1:
    raise ValueError(f"{name!r}: at least one seed")
  return Case(name.strip(), "resnet" if depth else "cnn", depth, seeds, bool(m.group(4)))


def _check_cases(names: list[str]) -> bool:
  if not names:
    raise flags.ValidationError("give at least one case")
  for name in names:
    try:
      parse_case(name)
    except ValueError as e:
      raise flags.ValidationError(str(e)) from None
  return True


flags.register_validator("cases", _check_cases)


@dataclasses.dataclass
class Timing:
  epochs: list[float]          # seconds of each epoch
  compile_s: float | None      # jaxdl: AOT lower + compile of the epoch program
  final_loss: float            # mean training loss of the last epoch (a sanity check)
  params: int                  # trainable parameters of one seed's model (the same architecture?)

  @property
  def steady(self) -> float:
    return reference.steady(self.epochs)


def load_data(kind: str, n: int) -> tuple[np.ndarray, np.ndarray, str]:
  """(x [n, H, W, C] float32, y [n] int32, description) for the "cnn" or "resnet" cases."""
  if kind == "resnet":
    data = load_dataset("synthetic", n_train=n, n_test=1, shape=(32, 32, 3))
    return data.x_train, data.y_train, f"synthetic 32x32x3, {n} images"
  if FLAGS.cnn_data != "synthetic":
    try:
      data = load_dataset("mnist")
      if len(data.y_train) >= n:
        return data.x_train[:n], data.y_train[:n], f"MNIST, first {n} training images"
      if FLAGS.cnn_data == "mnist":
        raise app.UsageError(f"--images={n}: MNIST has {len(data.y_train)} training images")
      reason = f"MNIST has only {len(data.y_train)} training images"
    except DataFileError as e:
      if FLAGS.cnn_data == "mnist":
        raise
      reason = f"MNIST not found ({str(e).splitlines()[0]})"
    print(f"CNN data: {reason}; synthetic 28x28x1 instead", flush=True)
  data = load_dataset("synthetic", n_train=n, n_test=1, shape=(28, 28, 1))
  return data.x_train, data.y_train, f"synthetic 28x28x1, {n} images"


def time_jaxdl(case: Case, x: np.ndarray, y: np.ndarray, epochs: int, batch: int) -> Timing:
  """The case's K seeds as one program, each epoch one scan (`CompiledReplicas.epoch`)."""
  cfg = TrainConfig(model=case.model, model_options=case.model_options(), optim=case.optim(),
                    batch_size=batch, epochs=epochs, seeds=tuple(range(case.seeds)), epoch_runner="scan")
  program = ReplicaProgram(cfg, NUM_CLASSES, x.shape[1:], len(y) // batch)
  compiled = CompiledReplicas(program, len(y), batching=FLAGS.batching)
  _, hp = replica_hparams(cfg)
  state = jax.block_until_ready(compiled.init(hp))
  xd, yd = jax.block_until_ready((jax.device_put(x), jax.device_put(y)))
  start = time.perf_counter()
  epoch = compiled.epoch.lower(state, hp, xd, yd).compile()
  compile_s = time.perf_counter() - start
  times = []
  for _ in range(epochs):
    start = time.perf_counter()
    state, losses = jax.block_until_ready(epoch(state, hp, xd, yd))
    times.append(time.perf_counter() - start)
  params = sum(leaf.size for leaf in jax.tree_util.tree_leaves(state.params)) // case.seeds
  return Timing(times, compile_s, float(np.nanmean(np.asarray(losses))), params)


def torch_model(case: Case):
  """The same architecture in PyTorch (NCHW)."""
  return reference.small_cnn() if case.model == "cnn" else reference.cifar_resnet(case.depth)


def time_torch(case: Case, x: np.ndarray, y: np.ndarray, epochs: int, batch: int,
               device: str) -> tuple[Timing, int]:
  """PyTorch eager; a seeds case trains its seeds one after another. Returns the timing
  (epochs of every seed timed, in order) and how many seeds were timed."""
  import contextlib

  import torch
  from torch import nn

  fmt = torch.channels_last if FLAGS.torch_channels_last else torch.contiguous_format
  xt = torch.as_tensor(x.transpose(0, 3, 1, 2).copy(), device=device).contiguous(memory_format=fmt)
  yt = torch.as_tensor(y.astype(np.int64), device=device)
  steps = len(y) // batch
  autocast = (lambda: torch.autocast(device_type=device, dtype=torch.bfloat16)) if case.bf16 \
      else contextlib.nullcontext
  loss_fn = nn.CrossEntropyLoss()
  times, losses, params = [], [], 0
  seeds = min(case.seeds, FLAGS.torch_max_seeds)
  for seed in range(seeds):
    torch.manual_seed(seed)
    model = torch_model(case).to(device, memory_format=fmt)
    params = sum(p.numel() for p in model.parameters())
    opt_cfg = case.optim()
    decay = [p for p in model.parameters() if p.ndim >= 2]  # kernels only, as jaxdl.optim.kernel_mask
    rest = [p for p in model.parameters() if p.ndim < 2]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": opt_cfg.weight_decay},
                           {"params": rest, "weight_decay": 0.0}], lr=opt_cfg.lr, momentum=opt_cfg.momentum)
    for _ in range(epochs):
      perm = torch.randperm(len(y), device=device)
      epoch_losses = []
      start = time.perf_counter()
      for i in range(steps):
        idx = perm[i * batch:(i + 1) * batch]
        opt.zero_grad(set_to_none=True)
        with autocast():
          loss = loss_fn(model(xt[idx]), yt[idx])
        loss.backward()
        opt.step()
        epoch_losses.append(loss.detach())
      if device == "cuda":
        torch.cuda.synchronize()
      times.append(time.perf_counter() - start)
      losses.append(torch.stack(epoch_losses).float().mean().item())
  if device == "cuda":
    del model, opt, xt, yt
    torch.cuda.empty_cache()
  return Timing(times, None, losses[-1], params), seeds


def torch_setup(enabled: bool) -> tuple[str | None, str]:
  """(device, description), or (None, why PyTorch is skipped)."""
  if not enabled:
    return None, "PyTorch: skipped (--torch=false)"
  try:
    import torch
  except ImportError as e:
    return None, f"PyTorch: skipped, not importable ({e}); pip install -e '.[bench]'"
  device = "cuda" if torch.cuda.is_available() else "cpu"
  if device == "cuda":
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = True
    torch.set_float32_matmul_precision("high")
    where = (f"{torch.cuda.get_device_name()}, CUDA {torch.version.cuda}, "
             f"cuDNN {torch.backends.cudnn.version()}, cudnn.benchmark, TF32")
  else:
    where = f"CPU, {torch.get_num_threads()} threads"
  layout = "channels-last" if FLAGS.torch_channels_last else "NCHW"
  return device, f"PyTorch: torch {torch.__version__} eager on {device} ({where}), {layout}"


def main(argv):
  del argv
  xla_cpu_flags.apply()  # before JAX starts its backend (a no-op on GPU)
  cases = [parse_case(name) for name in FLAGS.cases]
  device = jax.devices()[0]
  cache = jax.config.jax_compilation_cache_dir
  print(f"jaxdl: jax {jax.__version__} on {jax.default_backend()} ({device.device_kind}, "
        f"{jax.device_count()} device(s)); {os.cpu_count()} CPU cores", flush=True)
  if cache:
    print(f"  note: persistent compilation cache on ({cache}): a compile time may be a cache hit")
  torch_device, torch_desc = torch_setup(FLAGS.torch)
  print(torch_desc, flush=True)
  n_images = (FLAGS.images // FLAGS.batch) * FLAGS.batch
  print(f"{n_images} images an epoch (batch {FLAGS.batch}, {n_images // FLAGS.batch} step(s)), "
        f"{FLAGS.epochs} epochs a system and case", flush=True)

  data: dict[str, tuple[np.ndarray, np.ndarray, str]] = {}
  rows = []
  for case in cases:
    if case.model not in data:
      data[case.model] = load_data(case.model, n_images)
      print(f"{case.model} data: {data[case.model][2]}", flush=True)
    x, y, _ = data[case.model]
    jx = time_jaxdl(case, x, y, FLAGS.epochs, FLAGS.batch)
    print(f"{case.name}: jaxdl ({case.seeds} seed(s) vmapped, scan, {case.dtype}, {jx.params:,} params): "
          f"compile {jx.compile_s:.2f} s, epochs {', '.join(f'{t:.3f}' for t in jx.epochs)} s, "
          f"last-epoch loss {jx.final_loss:.4f}", flush=True)
    pt, pt_seeds = None, 0
    if torch_device:
      pt, pt_seeds = time_torch(case, x, y, FLAGS.epochs, FLAGS.batch, torch_device)
      how = f"{pt_seeds} of {case.seeds} seeds one after another" if case.seeds > 1 else "1 seed"
      same = "" if pt.params == jx.params else f" -- NOT jaxdl's {jx.params:,}"
      print(f"{case.name}: PyTorch ({how}{', bf16 autocast' if case.bf16 else ''}, {pt.params:,} params{same}): "
            f"epochs {', '.join(f'{t:.3f}' for t in pt.epochs)} s, last-epoch loss {pt.final_loss:.4f}",
            flush=True)
    rows.append((case, jx, pt, pt_seeds))

  print("\njaxdl compile: AOT `.lower(...).compile()` of the scanned epoch program, timed alone. "
        "images/s: steady state (median epoch after the first), summed over seeds. "
        "PyTorch warm-up: its first epoch's extra time over the steady state. "
        "Seeds cases: jaxdl vmaps the seeds in one program; PyTorch trains them one after another.")
  print("\n| case | seeds | dtype | jaxdl compile (s) | jaxdl first epoch (s) | jaxdl s/epoch | jaxdl images/s "
        "| PyTorch images/s | PyTorch warm-up (s) | jaxdl / PyTorch |\n|---|---|---|---|---|---|---|---|---|---|")
  for case, jx, pt, pt_seeds in rows:
    jx_rate = case.seeds * n_images / jx.steady
    if pt is not None:
      pt_rate = n_images / pt.steady  # one seed at a time: the same rate however many seeds
      torch_cols = f"{pt_rate:,.0f} | {max(pt.epochs[0] - pt.steady, 0.0):.2f} | {jx_rate / pt_rate:.2f}x"
    else:
      torch_cols = "- | - | -"
    dtype = "bf16 / fp32 params" if case.bf16 else "fp32"
    print(f"| {case.name} | {case.seeds} | {dtype} | {jx.compile_s:.2f} | {jx.epochs[0]:.3f} | {jx.steady:.3f} | "
          f"{jx_rate:,.0f} | {torch_cols} |")


if __name__ == "__main__":
  app.run(main)
