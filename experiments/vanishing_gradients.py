"""Vanishing gradients: through depth, the degradation problem, and through time.

  python -m experiments.vanishing_gradients --preset=quick
  python -m experiments.vanishing_gradients --preset=quick --dataset=fashion_mnist
  python -m experiments.vanishing_gradients --preset=quick --parts=adding
  python -m experiments.vanishing_gradients --preset=full     # paper scale: NOT run here (CPU too small)

Hardware and time: 2-core x86 CPU, no GPU, shared with other jobs (load
average ~10 while measured, so wall times are inflated several-fold). The
measured tables, wall times and verdicts are in the README section
"Vanishing gradients" (written from this module's run directory).

Parts (`--parts=depth,degradation,adding`, default all):

1. depth: MLPs of depth 5/10/20/50 with sigmoid, tanh (Glorot uniform init)
   and ReLU (He init), SGD momentum; the per-layer norm of dL/dW at
   initialization and after training (log-scale figure vs layer index) and
   the first/last hidden layer ratio; then the deepest sigmoid and tanh nets
   with batch norm and with residual connections.
2. degradation (He et al. 2016): plain vs residual CIFAR-style 6n+2 nets
   (`resnet`), SGD momentum 0.9, weight decay 1e-4, lr 0.1 divided by 10 at
   50% and 75% of training, batch 128 (quick: smaller batch, a subset, depths
   8/20 instead of 20/56 because a 56-layer conv step takes ~5 s here).
3. adding (Hochreiter & Schmidhuber 1997): tanh RNN vs LSTM (vs GRU), Adam
   with gradient clipping; test MSE against the 1/96 baseline, the fraction of
   test sequences within 0.04 of the target, and ||dL/dh_t|| against t.

Writes table.md/table.csv (long format: part, row, column, value),
results.json, claims.json and PNG figures into --workdir.
"""
from __future__ import annotations

import dataclasses
import os
import sys
import time
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
from absl import app, flags

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from experiments.common import (define_report_only_flag, define_study_flags, load_saved_study,  # noqa: E402
                                run_cleanly)
from jaxdl.data import Dataset, load_dataset  # noqa: E402
from jaxdl.diagnostics import diagnostic_logger  # noqa: E402
from jaxdl.errors import UserError  # noqa: E402
from jaxdl.models.rnn import hidden_state_grad_norms  # noqa: E402
from jaxdl.optim import OptimConfig  # noqa: E402
from jaxdl.report import plots, tables  # noqa: E402
from jaxdl.report.claims import Claim, report_claims  # noqa: E402
from jaxdl.report.rundir import write_atomic, write_json  # noqa: E402
from jaxdl.tasks.adding_problem import BASELINE_MSE, SUCCESS_TOLERANCE, adding_dataset  # noqa: E402
from jaxdl.train import RunResult, TrainConfig, train_and_evaluate  # noqa: E402

FLAGS = flags.FLAGS
PARTS = ("depth", "degradation", "adding")
ACTIVATION_INIT = {"sigmoid": "glorot_uniform", "tanh": "glorot_uniform", "relu": "he_normal"}
# Decision rules, fixed before any run:
HEALTHY_SPREAD = 100.0   # per-layer |dL/dW| within a factor 100 across layers = no vanishing
SOLVED_MSE = BASELINE_MSE / 10  # adding problem: test MSE below a tenth of the baseline
AT_BASELINE_MSE = BASELINE_MSE / 2  # ... or above half of it: learned (almost) nothing


@dataclasses.dataclass(frozen=True)
class Preset:
  dataset: str = "mnist"
  data_dir: str | None = None
  seeds: int = 2
  probe_size: int = 256
  # Part 1: MLPs.
  depths: tuple[int, ...] = (5, 10, 20, 50)
  activations: tuple[str, ...] = ("sigmoid", "tanh", "relu")
  fixes: tuple[str, ...] = ("batch_norm", "residual")  # applied to the deepest sigmoid and tanh nets
  mlp_width: int = 64
  mlp_train_size: int = 2048
  mlp_epochs: int = 2
  mlp_batch: int = 64
  mlp_lr: float = 0.01
  # Part 2: degradation.
  resnet_depths: tuple[int, int] = (8, 20)
  resnet_train_size: int = 512
  resnet_epochs: int = 4
  resnet_batch: int = 32
  resnet_seeds: int = 1
  resnet_probe: int = 64
  # Part 3: adding problem.
  lengths: tuple[int, ...] = (50,)
  cells: tuple[str, ...] = ("tanh", "lstm")
  hidden_size: int = 64
  adding_train: int = 12800
  adding_test: int = 1000
  adding_epochs: int = 5
  adding_batch: int = 64
  adding_lr: float = 0.01
  adding_seeds: int = 1


PRESETS = {
    "quick": Preset(),
    # Paper scale: He et al.'s 64k iterations at batch 128 on 60k MNIST images
    # are 137 epochs, lr /10 at 32k and 48k iterations (epochs 68 and 102).
    "full": Preset(seeds=3, mlp_width=256, mlp_train_size=0, mlp_epochs=5, mlp_batch=128,
                   resnet_depths=(20, 56), resnet_train_size=0, resnet_epochs=137, resnet_batch=128,
                   resnet_seeds=2, resnet_probe=256, lengths=(50, 100, 200), cells=("tanh", "lstm", "gru"),
                   hidden_size=128, adding_train=50000, adding_test=2000, adding_epochs=30,
                   adding_lr=0.003, adding_seeds=3),
}


def _fmt(values: Sequence[float], digits: int = 3, scale: float = 1.0) -> str:
  return tables.format_mean_std(*tables.mean_std(values), scale=scale, digits=digits)


def _fmt_sci(values: Sequence[float]) -> str:
  """mean ± std in scientific notation (gradient ratios span many decades)."""
  mean, std, n = tables.mean_std(values)
  if n == 0:
    return "diverged"
  return f"{mean:.2e}" if n == 1 else f"{mean:.2e} ± {std:.1e}"


def _grad_norms(result: RunResult, epoch_index: int) -> np.ndarray:
  """[K, L] per-layer |dL/dW| from the diagnostics hook (record 0: init; -1: end)."""
  return np.asarray(result.history[epoch_index]["diag_kernel_grad_norm"], float)


# ---------------------------------------------------------------- part 1: depth

def _train_classifier(p: Preset, data: Dataset, model: str, options: dict[str, Any], optim: OptimConfig,
                      epochs: int, batch: int, seeds: int, probe: int, echo) -> RunResult:
  """One run of `model` with the diagnostics hook on the first `probe` training examples."""
  cfg = TrainConfig(dataset=p.dataset, model=model, model_options=options, optim=optim, batch_size=batch,
                    epochs=epochs, seeds=tuple(range(seeds)))
  hook = diagnostic_logger(data.x_train[:probe], data.y_train[:probe])
  return train_and_evaluate(cfg, data=data, echo=echo, epoch_hook=hook)


def run_depth(p: Preset, data: Dataset, echo) -> dict[str, Any]:
  """MLPs over depth x activation, then the deepest sigmoid/tanh nets with BN or residuals."""
  optim = OptimConfig(name="momentum", lr=p.mlp_lr, momentum=0.9)
  variants = [(d, act, "plain") for act in p.activations for d in p.depths]
  variants += [(max(p.depths), act, fix) for act in p.activations if act != "relu" for fix in p.fixes]
  rows = []
  for depth, act, fix in variants:
    options = {"widths": (p.mlp_width,) * depth, "activation": act, "kernel_init": ACTIVATION_INIT[act],
               "batch_norm": fix == "batch_norm", "residual": fix == "residual"}
    echo(f"[depth] {act} depth {depth} {fix}")
    res = _train_classifier(p, data, "mlp", options, optim, p.mlp_epochs, p.mlp_batch, p.seeds,
                            p.probe_size, lambda _: None)
    init, end = _grad_norms(res, 0), _grad_norms(res, -1)
    rows.append({"depth": depth, "activation": act, "variant": fix,
                 "grad_init": init.tolist(), "grad_end": end.tolist(),
                 "ratio_init": (init[:, 0] / init[:, -1]).tolist(),
                 "ratio_end": (end[:, 0] / end[:, -1]).tolist(),
                 "test_acc": [r["test_acc"] for r in res.replicas],
                 "status": [r["status"] for r in res.replicas],
                 "diverged_step": [r["diverged_step"] for r in res.replicas]})
  return {"rows": rows}


def depth_table(part: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
  header = ["activation", "depth", "variant", "g1/gL norm ratio at init", "g1/gL trained", "test acc (%)"]
  body = [[r["activation"], str(r["depth"]), r["variant"], _fmt_sci(r["ratio_init"]),
           _fmt_sci(r["ratio_end"]), _fmt(r["test_acc"], 2, 100)] for r in part["rows"]]
  return header, body


def _healthy(ratio: float) -> bool:
  """A gradient ratio (or spread) within a factor HEALTHY_SPREAD of 1; NaN is not healthy."""
  return bool(1 / HEALTHY_SPREAD <= ratio <= HEALTHY_SPREAD)


def depth_claims(part: dict[str, Any]) -> list[Claim]:
  rows = part["rows"]
  deepest = max(r["depth"] for r in rows)
  get = lambda act, fix, d=deepest: next(r for r in rows if (r["activation"], r["variant"], r["depth"]) == (act, fix, d))  # noqa: E731
  mean = lambda v: float(np.nanmean(v))  # noqa: E731
  activations = sorted({r["activation"] for r in rows})
  fixes = sorted({r["variant"] for r in rows} - {"plain"})
  claims = []
  ratios = {act: mean(get(act, "plain")["ratio_init"]) for act in activations}
  if {"sigmoid", "relu"} <= set(ratios):
    # Both halves are tested: sigmoid's ratio may underflow to 0, so "ReLU far above it" alone is vacuous.
    claims.append(Claim(
        "Bengio et al. 1994; Glorot & Bengio 2010",
        f"at depth {deepest} the first layer's gradient is orders of magnitude below the last's for "
        f"sigmoid (ratio < 1e-2), while for ReLU with He init it stays within a factor {HEALTHY_SPREAD:g} of 1",
        ratios["sigmoid"] < 1e-2 and _healthy(ratios["relu"]),
        ", ".join(f"{a} |g1|/|gL| = {v:.2e}" for a, v in ratios.items()) + " (at init)"))
  for act in (a for a in activations if a != "relu"):
    base = mean(get(act, "plain")["ratio_init"])
    for fix in fixes:
      fixed = mean(get(act, fix)["ratio_init"])
      claims.append(Claim(
          "Ioffe & Szegedy 2015" if fix == "batch_norm" else "He et al. 2016",
          f"{fix.replace('_', ' ')} restores the gradient of the first layers of a {deepest}-layer {act} MLP "
          f"(plain ratio outside, fixed ratio within a factor {HEALTHY_SPREAD:g} of 1)",
          None if _healthy(base) else _healthy(fixed),  # nothing to restore if the plain net is healthy
          f"|g1|/|gL| at init {base:.2e} plain -> {fixed:.2e} with {fix}; test acc "
          f"{mean(get(act, 'plain')['test_acc']) * 100:.1f}% -> {mean(get(act, fix)['test_acc']) * 100:.1f}%"))
  return claims


def plot_depth(part: dict[str, Any], path_grid: str, path_fixes: str) -> None:
  rows = part["rows"]
  activations = list(dict.fromkeys(r["activation"] for r in rows))
  fig, axes = plt.subplots(1, len(activations), figsize=(4.7 * len(activations), 4), squeeze=False)
  for ax, act in zip(axes[0], activations):
    for i, r in enumerate(x for x in rows if x["activation"] == act and x["variant"] == "plain"):
      color = f"C{i}"
      for key, style in (("grad_init", "-"), ("grad_end", "--")):
        g = np.nanmean(np.asarray(r[key]), axis=0)
        ax.semilogy(np.arange(1, len(g) + 1), g, style, color=color,
                    label=f"depth {r['depth']} {'init' if key == 'grad_init' else 'trained'}")
    ax.set(title=f"{act} ({ACTIVATION_INIT[act]})", xlabel="hidden layer", ylabel="|dL/dW|")
    ax.legend(fontsize=6)
  fig.tight_layout()
  fig.savefig(path_grid, dpi=110)
  plt.close(fig)
  deepest = max(r["depth"] for r in rows)
  bounded = [a for a in activations if a != "relu"]
  fig, axes = plt.subplots(1, max(len(bounded), 1), figsize=(5 * max(len(bounded), 1), 4), squeeze=False)
  for ax, act in zip(axes[0], bounded):
    for i, r in enumerate(x for x in rows if x["activation"] == act and x["depth"] == deepest):
      for key, style in (("grad_init", "-"), ("grad_end", "--")):
        g = np.nanmean(np.asarray(r[key]), axis=0)
        ax.semilogy(np.arange(1, len(g) + 1), g, style, color=f"C{i}",
                    label=f"{r['variant']} {'init' if key == 'grad_init' else 'trained'}")
    ax.set(title=f"{act}, depth {deepest}: the fixes", xlabel="hidden layer", ylabel="|dL/dW|")
    ax.legend(fontsize=7)
  fig.tight_layout()
  fig.savefig(path_fixes, dpi=110)
  plt.close(fig)


# ---------------------------------------------------------------- part 2: degradation

def run_degradation(p: Preset, data: Dataset, echo) -> dict[str, Any]:
  """Plain and residual nets of the two depths, He et al.'s recipe shape."""
  decay = (p.resnet_epochs // 2, (3 * p.resnet_epochs) // 4)
  optim = OptimConfig(name="momentum", lr=0.1, momentum=0.9, weight_decay=1e-4, schedule="step",
                      decay_epochs=decay, decay_factor=0.1)
  if p.resnet_train_size:
    data = dataclasses.replace(data, x_train=data.x_train[:p.resnet_train_size],
                               y_train=data.y_train[:p.resnet_train_size])
  rows = []
  for plain in (True, False):
    for depth in p.resnet_depths:
      name = f"{'plain' if plain else 'resnet'}-{depth}"
      echo(f"[degradation] {name}")
      res = _train_classifier(p, data, "resnet", {"depth": depth, "plain": plain}, optim, p.resnet_epochs,
                              p.resnet_batch, p.resnet_seeds, p.resnet_probe, lambda _: None)
      trained = [h for h in res.history if "train_acc" in h]
      rows.append({"net": name, "depth": depth, "plain": plain,
                   "train_err_curve": [(1 - np.asarray(h["train_acc"], float)).tolist() for h in trained],
                   "test_err_curve": [(1 - np.asarray(h["test_acc"], float)).tolist() for h in trained],
                   "train_err": [1 - r["train_acc"] for r in res.replicas],
                   "test_err": [1 - r["test_acc"] for r in res.replicas],
                   "grad_init": _grad_norms(res, 0).tolist(), "grad_end": _grad_norms(res, -1).tolist(),
                   "status": [r["status"] for r in res.replicas],
                   "diverged_step": [r["diverged_step"] for r in res.replicas],
                   "wall_s": res.wall_time_s})
  return {"rows": rows, "decay_epochs": list(decay), "train_size": len(data.x_train)}


def _spread(grads: Any) -> float:
  """max/min over layers of the seed-mean per-layer gradient norm."""
  g = np.nanmean(np.asarray(grads, float), axis=0)
  return float(np.max(g) / np.min(g))


def degradation_table(part: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
  header = ["net", "final train err (%)", "test err (%)", "grad spread init (max/min)",
            "grad spread trained", "wall (s)"]
  body = [[r["net"], _fmt(r["train_err"], 2, 100), _fmt(r["test_err"], 2, 100),
           f"{_spread(r['grad_init']):.1f}", f"{_spread(r['grad_end']):.1f}", f"{r['wall_s']:.0f}"]
          for r in part["rows"]]
  return header, body


def degradation_claims(part: dict[str, Any]) -> list[Claim]:
  net = {r["net"]: r for r in part["rows"]}
  lo, hi = sorted({r["depth"] for r in part["rows"]})
  src = "He et al. 2016, Fig. 1/6 and Sec. 4.1"
  curve = lambda name: np.nanmean(np.asarray(net[name]["train_err_curve"], float), axis=1)  # noqa: E731
  shallow, deep = curve(f"plain-{lo}"), curve(f"plain-{hi}")
  # A net whose replicas all diverged stops early: its curve is shorter and cannot be compared.
  comparable = len(shallow) == len(deep) > 0
  higher = deep > shallow if comparable else np.zeros(0, bool)
  mean = lambda v: float(np.nanmean(v))  # noqa: E731
  spreads = [_spread(net[f"plain-{d}"][k]) for d in (lo, hi) for k in ("grad_init", "grad_end")]
  return [
      Claim(src, f"the deeper plain net (plain-{hi}) has higher training error than plain-{lo} throughout training",
            bool(np.all(higher)) if comparable else None,
            f"training error per epoch plain-{lo} {np.round(shallow * 100, 1).tolist()}% vs plain-{hi} "
            f"{np.round(deep * 100, 1).tolist()}% (higher in {int(higher.sum())}/{len(higher)} epochs)"),
      Claim(src, f"the deeper residual net (resnet-{hi}) has lower error than resnet-{lo}",
            mean(net[f"resnet-{hi}"]["test_err"]) < mean(net[f"resnet-{lo}"]["test_err"]),
            f"test error resnet-{lo} {mean(net[f'resnet-{lo}']['test_err']) * 100:.2f}% vs resnet-{hi} "
            f"{mean(net[f'resnet-{hi}']['test_err']) * 100:.2f}%; train error "
            f"{mean(net[f'resnet-{lo}']['train_err']) * 100:.2f}% vs {mean(net[f'resnet-{hi}']['train_err']) * 100:.2f}% "
            "(paper, CIFAR-10 test: ResNet-20 8.75%, ResNet-56 6.97%)"),
      Claim(src, "with batch norm the plain nets' per-layer gradient norms are healthy "
            f"(within a factor {HEALTHY_SPREAD:g} across layers), so degradation is not vanishing gradients",
            all(_healthy(s) for s in spreads),  # a spread is >= 1; NaN (zero or non-finite gradients) fails
            f"max/min per-layer |dL/dW| plain-{lo} init {spreads[0]:.1f} trained {spreads[1]:.1f}; "
            f"plain-{hi} init {spreads[2]:.1f} trained {spreads[3]:.1f}"),
  ]


def plot_degradation(part: dict[str, Any], path: str) -> None:
  fig, axes = plt.subplots(1, 2, figsize=(11, 4))
  for i, r in enumerate(part["rows"]):
    style = "--" if r["plain"] else "-"
    train = np.nanmean(np.asarray(r["train_err_curve"], float), axis=1) * 100
    axes[0].plot(np.arange(1, len(train) + 1), train, style, color=f"C{i}", label=f"{r['net']} train")
    g = np.nanmean(np.asarray(r["grad_end"], float), axis=0)
    axes[1].semilogy(np.arange(1, len(g) + 1), g, style, color=f"C{i}", label=f"{r['net']} trained")
  axes[0].set(xlabel="epoch", ylabel="training error (%)", title="degradation: training error")
  axes[1].set(xlabel="conv layer", ylabel="|dL/dW|", title="per-layer gradient norm (end of training)")
  for ax in axes:
    ax.legend(fontsize=7)
  plots.save(fig, path)


# ---------------------------------------------------------------- part 3: adding problem

def _hidden_grad_hook(x: np.ndarray, y: np.ndarray) -> Callable:
  """epoch_hook: ||dL/dh_t|| [K, T] of every replica on the probe (x, y)."""
  x, y = jnp.asarray(x), jnp.asarray(y)
  cache: dict[str, Any] = {}

  def hook(state, program, hparams):
    if cache.get("program") is not program:
      def one(replica_state, replica_hparams):
        return hidden_state_grad_norms(program.model(replica_hparams), program.variables(replica_state), x, y)
      cache["program"], cache["fn"] = program, jax.jit(jax.vmap(one))
    return {"hidden_grad_norm": np.asarray(cache["fn"](state, hparams))}

  return hook


def run_adding(p: Preset, echo) -> dict[str, Any]:
  """Each cell on each sequence length: test MSE, success fraction, dL/dh_t over time."""
  optim = OptimConfig(name="adam", lr=p.adding_lr, clip_norm=1.0)
  rows = []
  for length in p.lengths:
    data = adding_dataset(length, p.adding_train, p.adding_test, seed=length)
    hook = _hidden_grad_hook(data.x_test[:p.probe_size], data.y_test[:p.probe_size])
    for cell in p.cells:
      echo(f"[adding] T={length} {cell}")
      cfg = TrainConfig(dataset=data.name, model="rnn", model_options={"cell": cell, "hidden_size": p.hidden_size},
                        loss="mse", optim=optim, batch_size=p.adding_batch, epochs=p.adding_epochs,
                        seeds=tuple(range(p.adding_seeds)))
      res = train_and_evaluate(cfg, data=data, echo=lambda _: None, epoch_hook=hook)
      mse, within = [], []
      for k, rep in enumerate(res.replicas):
        if rep["status"] == "diverged":
          mse.append(float("nan"))
          within.append(float("nan"))
          continue
        pred = np.asarray(res.model(k).apply(res.variables(k), jnp.asarray(data.x_test)))
        err = pred - data.y_test
        mse.append(float(np.mean(err ** 2)))
        within.append(float(np.mean(np.abs(err) < SUCCESS_TOLERANCE)))
      rows.append({"length": length, "cell": cell, "test_mse": mse, "within_tol": within,
                   "mse_curve": [(2 * np.asarray(h["test_loss"], float)).tolist() for h in res.history
                                 if "test_loss" in h],
                   "hidden_grad_init": np.asarray(res.history[0]["hidden_grad_norm"]).tolist(),
                   "hidden_grad_end": np.asarray(res.history[-1]["hidden_grad_norm"]).tolist(),
                   "status": [r["status"] for r in res.replicas],
                   "diverged_step": [r["diverged_step"] for r in res.replicas], "wall_s": res.wall_time_s})
  return {"rows": rows, "baseline_mse": BASELINE_MSE}


def adding_table(part: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
  header = ["T", "cell", "test MSE (x1e-3)", "MSE / baseline", f"within {SUCCESS_TOLERANCE} (%)",
            "dL/dh_1 : dL/dh_T norm ratio (trained)", "wall (s)"]
  body = []
  for r in part["rows"]:
    g = np.asarray(r["hidden_grad_end"], float)
    body.append([str(r["length"]), r["cell"], _fmt(r["test_mse"], 2, 1e3),
                 _fmt(np.asarray(r["test_mse"]) / BASELINE_MSE, 3), _fmt(r["within_tol"], 1, 100),
                 _fmt_sci((g[:, 0] / g[:, -1]).tolist()), f"{r['wall_s']:.0f}"])
  return header, body


def adding_claims(part: dict[str, Any]) -> list[Claim]:
  claims = []
  for length in sorted({r["length"] for r in part["rows"]}):
    cell = {r["cell"]: r for r in part["rows"] if r["length"] == length}
    mse = {c: float(np.nanmean(r["test_mse"])) for c, r in cell.items()}
    within = {c: float(np.nanmean(r["within_tol"])) for c, r in cell.items()}
    claims.append(Claim(
        "Hochreiter & Schmidhuber 1997, Exp. 4",
        f"T={length}: the LSTM solves the adding problem (test MSE < baseline/10) where the tanh RNN "
        "stays at the baseline (MSE > baseline/2)",
        mse["lstm"] < SOLVED_MSE and mse["tanh"] > AT_BASELINE_MSE,
        "; ".join(f"{c} MSE {m:.2e} ({m / BASELINE_MSE:.2f} x baseline 1/96), {within[c] * 100:.1f}% within "
                  f"{SUCCESS_TOLERANCE}" for c, m in mse.items())))
  return claims


def plot_adding(part: dict[str, Any], path: str) -> None:
  lengths = sorted({r["length"] for r in part["rows"]})
  fig, axes = plt.subplots(1, len(lengths), figsize=(5 * len(lengths), 4), squeeze=False)
  for ax, length in zip(axes[0], lengths):
    for i, r in enumerate(x for x in part["rows"] if x["length"] == length):
      for key, style in (("hidden_grad_init", ":"), ("hidden_grad_end", "-")):
        g = np.nanmean(np.asarray(r[key], float), axis=0)
        ax.semilogy(np.arange(1, len(g) + 1), g, style, color=f"C{i}",
                    label=f"{r['cell']} {'init' if key == 'hidden_grad_init' else 'trained'}")
    ax.set(title=f"adding problem, T={length}", xlabel="time step t", ylabel="||dL/dh_t||")
    ax.legend(fontsize=7)
  plots.save(fig, path)


# ---------------------------------------------------------------- the study

TABLES = {"depth": depth_table, "degradation": degradation_table, "adding": adding_table}
CLAIMS = {"depth": depth_claims, "degradation": degradation_claims, "adding": adding_claims}


def run_study(p: Preset, parts: Sequence[str] = PARTS, echo=print) -> dict[str, Any]:
  """Runs the selected parts; returns {part: results, "wall_s": {part: seconds}}."""
  unknown = sorted(set(parts) - set(PARTS))
  if unknown:
    raise UserError(f"unknown part(s) {unknown}; valid: {', '.join(PARTS)}")
  data = load_dataset(p.dataset, data_dir=p.data_dir) if {"depth", "degradation"} & set(parts) else None
  if data is not None and p.mlp_train_size and "depth" in parts:
    mlp_data = dataclasses.replace(data, x_train=data.x_train[:p.mlp_train_size],
                                   y_train=data.y_train[:p.mlp_train_size])
  else:
    mlp_data = data
  runners = {"depth": lambda: run_depth(p, mlp_data, echo), "degradation": lambda: run_degradation(p, data, echo),
             "adding": lambda: run_adding(p, echo)}
  study: dict[str, Any] = {"preset": dataclasses.asdict(p), "wall_s": {}}
  for part in PARTS:
    if part in parts:
      start = time.time()
      study[part] = runners[part]()
      study["wall_s"][part] = time.time() - start
  return study


def write_report(study: dict[str, Any], workdir: str, echo=print) -> list[dict[str, Any]]:
  """table.md, table.csv, results.json, claims.json and the figures; prints tables and verdicts."""
  os.makedirs(workdir, exist_ok=True)
  md, long_rows, claims = [], [], []
  for part in PARTS:
    if part not in study:
      continue
    header, body = TABLES[part](study[part])
    md.append(f"## {part} ({study['wall_s'][part]:.0f} s)\n\n{tables.markdown_table(header, body)}")
    long_rows += [[part, row[0] + " " + row[1], col, cell] for row in body for col, cell in zip(header, row)]
    claims += CLAIMS[part](study[part])
  text = "\n\n".join(md) + "\n"
  echo(text)
  write_atomic(os.path.join(workdir, "table.md"), text)
  write_atomic(os.path.join(workdir, "table.csv"), tables.csv_table(["part", "row", "column", "value"], long_rows))
  write_json(os.path.join(workdir, "results.json"), study)
  if "depth" in study:
    plot_depth(study["depth"], os.path.join(workdir, "depth_grad_norms.png"),
               os.path.join(workdir, "depth_fixes.png"))
  if "degradation" in study:
    plot_degradation(study["degradation"], os.path.join(workdir, "degradation.png"))
  if "adding" in study:
    plot_adding(study["adding"], os.path.join(workdir, "adding_grad_through_time.png"))
  return report_claims(claims, os.path.join(workdir, "claims.json"), echo=echo)


def main(argv: list[str]) -> None:
  del argv

  def run() -> int:
    if FLAGS.report_only:
      write_report(load_saved_study(FLAGS.workdir), FLAGS.workdir)
      return 0
    p = dataclasses.replace(PRESETS[FLAGS.preset], dataset=FLAGS.dataset, data_dir=FLAGS.data_dir)
    if FLAGS.seeds:
      p = dataclasses.replace(p, seeds=FLAGS.seeds, resnet_seeds=FLAGS.seeds, adding_seeds=FLAGS.seeds)
    start = time.time()
    study = run_study(p, FLAGS.parts)
    write_report(study, FLAGS.workdir)
    print(f"done in {time.time() - start:.0f} s; wrote {FLAGS.workdir}")
    return 0

  sys.exit(run_cleanly(run))


if __name__ == "__main__":
  define_study_flags("vanishing_gradients")
  define_report_only_flag()
  flags.DEFINE_list("parts", list(PARTS), f"Which parts to run: {', '.join(PARTS)}.")
  app.run(main)
