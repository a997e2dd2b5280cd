"""Initialization study: He et al. 2015 (deep plain ReLU nets) and Glorot & Bengio 2010.

  python -m experiments.init_study --preset=quick
  python -m experiments.init_study --preset=quick --dataset=fashion_mnist
  python -m experiments.init_study --preset=full   # the paper-scale setting (not run here)

Hardware: 2-core x86 CPU, no GPU, shared with other jobs (load ~13). Quick
preset on MNIST: NOT completed here. Its first five cells (depth 22: N(0,1),
N(0,0.01^2), Xavier, Glorot, He) ran (~40 s each with a warm compilation
cache under that load); the run then hung twice at the depth-22 orthogonal
cell (main thread blocked in XLA:CPU Execute on a semaphore; see
BUILD_NOTES.md). Measured so far (epoch-4 mean train loss, test acc, 2 seeds):
N(0,1) diverged at step 0; N(0,0.01^2) 2.300 / 11.35%; Xavier 2.298 / 12.3%;
Glorot 2.298 / 10.7%; He 0.670 / 79.6%. The full preset was not run.

Part 1, He et al. 2015: plain ReLU MLPs (no batch norm, no skips) of depth 22
and 30 with the initializers N(0,1), N(0,0.01^2), LeCun (Var 1/n, what He et al.
call "Xavier"), Glorot uniform, He (Var 2/n) and orthogonal (gain 1), one
optimizer and budget for all. At init, measured pre-activation std per layer
against He's recursion Var[y_l] = (n_l Var[w_l] / 2) Var[y_{l-1}] (n_l Var[w_l]
read off the drawn kernels); after training, which nets converge, stall or
diverge. Part 2, Glorot & Bengio 2010: 5 hidden layers, tanh / sigmoid /
softsign, "standard" U[-1/sqrt(n), 1/sqrt(n)] vs "normalized" (Glorot uniform):
back-propagated gradient std and mean Jacobian singular value per layer at
init, then the test-error table beside the paper's MNIST numbers.

Outputs in --workdir: table.md, table.csv (both parts), results.json,
claims.json, he_activation_std.png, he_gradient_std.png, he_training_curves.png,
glorot_gradient_std.png, glorot_jacobian.png, glorot_training_curves.png.
Runs are in memory (no checkpoints): a study is re-run, not resumed.
"""
from __future__ import annotations

import dataclasses
import math
import os
import sys
import time
from typing import Any, Callable, Sequence

import jax
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402

from experiments.common import define_study_flags, run_cleanly  # noqa: E402
from jaxdl import diagnostics  # noqa: E402
from jaxdl.data import Dataset, load_dataset  # noqa: E402
from jaxdl.optim import OptimConfig  # noqa: E402
from jaxdl.report import plots, tables  # noqa: E402
from jaxdl.report.claims import Claim, report_claims  # noqa: E402
from jaxdl.report.rundir import write_atomic, write_json  # noqa: E402
from jaxdl.train import TrainConfig, train_and_evaluate  # noqa: E402
from jaxdl.train.trainer import subset_train  # noqa: E402

FLAGS = flags.FLAGS

HE_INITS = ("normal:std=1", "normal:std=0.01", "lecun_normal", "glorot_uniform", "he_normal", "orthogonal")
HE_LABELS = {"normal:std=1": "N(0,1)", "normal:std=0.01": "N(0,0.01^2)", "lecun_normal": "Xavier (LeCun 1/n)",
             "glorot_uniform": "Glorot uniform", "he_normal": "He (2/n)", "orthogonal": "orthogonal"}
# Glorot & Bengio's Table 1 rows: (label, activation, initializer) and their MNIST test error (%).
GLOROT_CELLS = (("softsign", "softsign", "standard_uniform"), ("softsign-N", "softsign", "glorot_uniform"),
                ("tanh", "tanh", "standard_uniform"), ("tanh-N", "tanh", "glorot_uniform"),
                ("sigmoid", "sigmoid", "standard_uniform"))
GLOROT_PAPER_MNIST_ERROR = {"softsign": 1.64, "softsign-N": 1.72, "tanh": 1.76, "tanh-N": 1.64, "sigmoid": 2.21}
# Training outcome of a cell, from its final training loss relative to chance (ln K):
# converged below half of it, stalled above 90% of it (it barely moved), else "slow".
CONVERGED_FRACTION, STALLED_FRACTION = 0.5, 0.9


@dataclasses.dataclass(frozen=True)
class StudySettings:
  train_size: int             # first N training examples (0 = all)
  seeds: int
  probe_size: int             # examples in the fixed batch the diagnostics use
  he_depths: tuple[int, ...]
  he_width: int
  he_inits: tuple[str, ...]
  he_optim: OptimConfig
  he_batch_size: int
  he_epochs: int
  glorot_cells: tuple[str, ...]     # labels from GLOROT_CELLS
  glorot_depth: int
  glorot_width: int
  glorot_optim: OptimConfig
  glorot_batch_size: int
  glorot_epochs: int
  jacobian_labels: tuple[str, ...]  # Glorot cells whose Jacobians are computed (n_in passes per layer)
  jacobian_examples: int


PRESETS = {
    # ~1-2 min on a free 2-core CPU: a 5k-example subset, narrow nets, few epochs.
    "quick": StudySettings(
        train_size=5000, seeds=2, probe_size=256,
        he_depths=(22, 30), he_width=64, he_inits=HE_INITS,
        he_optim=OptimConfig(name="momentum", lr=0.01, momentum=0.9), he_batch_size=64, he_epochs=4,
        glorot_cells=tuple(c[0] for c in GLOROT_CELLS), glorot_depth=5, glorot_width=256, glorot_optim=OptimConfig(name="sgd", lr=0.1),
        glorot_batch_size=10, glorot_epochs=2, jacobian_labels=("tanh", "tanh-N"), jacobian_examples=2),
    # The papers' shapes: width 256 (He), 5 x 1000 and batch 10 (Glorot), all of MNIST.
    "full": StudySettings(
        train_size=0, seeds=3, probe_size=1000,
        he_depths=(22, 30), he_width=256, he_inits=HE_INITS,
        he_optim=OptimConfig(name="momentum", lr=0.01, momentum=0.9), he_batch_size=128, he_epochs=30,
        glorot_cells=tuple(c[0] for c in GLOROT_CELLS), glorot_depth=5, glorot_width=1000, glorot_optim=OptimConfig(name="sgd", lr=0.1),
        glorot_batch_size=10, glorot_epochs=30, jacobian_labels=tuple(c[0] for c in GLOROT_CELLS),
        jacobian_examples=4),
}


@dataclasses.dataclass
class CellResult:
  """One trained cell (one model on the dataset, K seeds): outcome, curves, diagnostics."""
  label: str
  cfg: TrainConfig
  replicas: list[dict[str, Any]]
  train_loss_curve: np.ndarray         # [epochs, K], per-epoch mean training loss
  test_acc_curve: np.ndarray           # [epochs, K]
  init_stats: dict[str, np.ndarray]    # statistic -> [K, L] at initialization
  final_stats: dict[str, np.ndarray]   # statistic -> [K, L] after training
  init_model: Any
  init_variables: dict[str, Any]       # replica 0 at initialization


def train_cell(label: str, cfg: TrainConfig, data: Dataset, probe: tuple[np.ndarray, np.ndarray],
               echo: Callable[[str], None]) -> CellResult:
  """Trains cfg's seeds, logging layer statistics on `probe` at init and after every epoch."""
  log = diagnostics.diagnostic_logger(*probe)
  first: dict[str, Any] = {}

  def hook(state, program, hparams):
    if not first:  # the epoch-0 call: keep replica 0 as initialized, for the Jacobians
      one = lambda tree: jax.tree_util.tree_map(lambda leaf: leaf[0], tree)  # noqa: E731
      first.update(model=program.model(one(hparams)), variables=program.variables(one(state)))
    return log(state, program, hparams)

  opts = cfg.model_options
  echo(f"[{label}] {len(opts['widths'])} x {opts['widths'][0]} {opts['activation']}, {opts['kernel_init']}")
  result = train_and_evaluate(cfg, None, data=data, echo=lambda line: echo(f"  {line}"), epoch_hook=hook)
  stats_of = lambda record: {k[len("diag_"):]: np.asarray(v) for k, v in record.items()  # noqa: E731
                             if k.startswith("diag_")}
  trained = [h for h in result.history if "train_loss" in h]
  return CellResult(
      label=label, cfg=cfg, replicas=result.replicas,
      train_loss_curve=np.array([h["train_loss"] for h in trained], float),
      test_acc_curve=np.array([h["test_acc"] for h in trained], float),
      init_stats=stats_of(result.history[0]), final_stats=stats_of(result.history[-1]),
      init_model=first["model"], init_variables=first["variables"])


def predicted_preact_std(fan_in_var: np.ndarray, input_mean_square: float) -> np.ndarray:
  """He et al. 2015, eq. (9): Var[y_l] = (n_l Var[w_l] / 2) Var[y_{l-1}] in a ReLU net.

  fan_in_var: [L] n_l Var[w_l] of each layer's kernel; the first layer sees the
  raw input, so Var[y_0] = n_0 Var[w_0] E[x^2] (no ReLU halving). Returns [L] std.
  """
  variance = input_mean_square * fan_in_var[0] * np.cumprod(np.r_[1.0, fan_in_var[1:] / 2.0])
  return np.sqrt(variance)


def outcome(cell: CellResult, num_classes: int) -> str:
  """converged / slow / stalled / diverged (at step s): the cell's seeds, by their final training loss."""
  steps = [r["diverged_step"] for r in cell.replicas if r["status"] == "diverged"]
  mean_loss, _, n = tables.mean_std(r["train_loss"] for r in cell.replicas)
  if n == 0:
    return f"diverged (step {min(steps)})"
  chance = math.log(num_classes)
  verdict = ("converged" if mean_loss < CONVERGED_FRACTION * chance else
             "stalled" if mean_loss > STALLED_FRACTION * chance else "slow")
  return verdict + (f", {len(steps)}/{len(cell.replicas)} diverged" if steps else "")


def _mean_over_seeds(values: np.ndarray) -> np.ndarray:
  """[K, ...] -> [...], ignoring non-finite replicas (a diverged seed)."""
  values = np.asarray(values, float)
  finite = np.where(np.isfinite(values), values, np.nan)
  with np.errstate(all="ignore"):
    return np.nanmean(finite, axis=0) if np.isfinite(finite).any() else np.full(values.shape[1:], np.nan)


def _fmt(values: Sequence[float], scale: float = 1.0, digits: int = 2) -> str:
  return tables.format_mean_std(*tables.mean_std(values), scale=scale, digits=digits)


def run_he(settings: StudySettings, data: Dataset, probe, echo) -> dict[str, Any]:
  """Part 1: every (depth, init) cell trained; init statistics against He's prediction."""
  cells: dict[tuple[int, str], CellResult] = {}
  for depth in settings.he_depths:
    for init in settings.he_inits:
      cfg = TrainConfig(
          dataset=data.name, model="mlp", optim=settings.he_optim, batch_size=settings.he_batch_size,
          epochs=settings.he_epochs, seeds=tuple(range(settings.seeds)),
          model_options={"widths": (settings.he_width,) * depth, "activation": "relu", "kernel_init": init})
      cells[depth, init] = train_cell(f"he d={depth} {init}", cfg, data, probe, echo)
  input_ms = float(np.mean(np.square(probe[0])))
  predicted = {key: predicted_preact_std(_mean_over_seeds(c.init_stats["kernel_fan_in_var"]), input_ms)
               for key, c in cells.items()}
  return {"cells": cells, "predicted_std": predicted, "input_mean_square": input_ms,
          "num_classes": data.num_classes}


def run_glorot(settings: StudySettings, data: Dataset, probe, echo) -> dict[str, Any]:
  """Part 2: the five Table-1 cells trained; gradients and Jacobians at init."""
  cells: dict[str, CellResult] = {}
  jacobians: dict[str, list[np.ndarray]] = {}
  for label, activation, init in (c for c in GLOROT_CELLS if c[0] in settings.glorot_cells):
    cfg = TrainConfig(
        dataset=data.name, model="mlp", optim=settings.glorot_optim, batch_size=settings.glorot_batch_size,
        epochs=settings.glorot_epochs, seeds=tuple(range(settings.seeds)),
        model_options={"widths": (settings.glorot_width,) * settings.glorot_depth, "activation": activation,
                       "kernel_init": init})
    cell = cells[label] = train_cell(f"glorot {label}", cfg, data, probe, echo)
    if label in settings.jacobian_labels:
      jacobians[label] = diagnostics.jacobian_singular_values(
          cell.init_model, cell.init_variables, probe[0], num_examples=settings.jacobian_examples)
  return {"cells": cells, "jacobians": jacobians}


def he_claims(he: dict[str, Any], settings: StudySettings, num_classes: int) -> list[Claim]:
  cells = he["cells"]
  source = "He et al. 2015"
  claims = []
  deepest = max(settings.he_depths)
  if {"lecun_normal", "he_normal"} <= set(settings.he_inits):
    parts, held = [], True
    for depth in settings.he_depths:
      lecun = _mean_over_seeds(cells[depth, "lecun_normal"].init_stats["preact_std"])[-1]
      he_std = _mean_over_seeds(cells[depth, "he_normal"].init_stats["preact_std"])[-1]
      want = 2.0 ** (-depth / 2)  # y_{L-1} has passed L kernels: one factor sqrt(1/2) each
      ratio = lecun / he_std
      held &= bool(1 / 1.5 <= ratio / want <= 1.5)
      parts.append(f"depth {depth}: Xavier/He std at the last layer {ratio:.3g} vs 2^(-{depth}/2) = {want:.3g}")
    claims.append(Claim(f"{source}, Sec. 2.2", "With Var[w]=1/n ('Xavier') the activation std after L ReLU "
                        "layers is 2^(-L/2) of He's (within a factor 1.5)", held, "; ".join(parts)))
    spreads = [float(np.max(s) / np.min(s)) for s in
               (_mean_over_seeds(cells[d, "he_normal"].init_stats["preact_std"]) for d in settings.he_depths)]
    claims.append(Claim(f"{source}, eq. (10)", "He's init keeps the pre-activation std roughly constant "
                        "over depth (max/min over layers <= 2)", all(s <= 2 for s in spreads),
                        ", ".join(f"depth {d}: max/min {s:.2f}" for d, s in zip(settings.he_depths, spreads))))
    outcomes = {(d, i): outcome(cells[d, i], num_classes) for d in settings.he_depths
                for i in ("lecun_normal", "he_normal")}
    shallow = min(settings.he_depths)
    first_epoch = {i: float(np.nanmean(cells[shallow, i].train_loss_curve[0])) for i in ("lecun_normal", "he_normal")}
    # Outcomes are compared exactly: "converged, 1/2 diverged" is not "converged".
    claims.append(Claim(f"{source}, Fig. 2", f"At {shallow} layers both He and Xavier converge, He's earlier",
                        outcomes[shallow, "he_normal"] == "converged"
                        and outcomes[shallow, "lecun_normal"] == "converged"
                        and first_epoch["he_normal"] < first_epoch["lecun_normal"],
                        f"He: {outcomes[shallow, 'he_normal']}, Xavier: {outcomes[shallow, 'lecun_normal']}; "
                        f"epoch-1 train loss He {first_epoch['he_normal']:.3f} vs Xavier {first_epoch['lecun_normal']:.3f}"))
    grad_ratio = (_mean_over_seeds(cells[deepest, "lecun_normal"].init_stats["kernel_grad_norm"])[0]
                  / _mean_over_seeds(cells[deepest, "he_normal"].init_stats["kernel_grad_norm"])[0])
    claims.append(Claim(f"{source}, Fig. 3", f"At {deepest} layers Xavier stalls with diminishing gradients "
                        "(first-layer dL/dW at init < 1/10 of He's) while He converges",
                        outcomes[deepest, "lecun_normal"] == "stalled"
                        and outcomes[deepest, "he_normal"] == "converged" and bool(grad_ratio < 0.1),
                        f"He: {outcomes[deepest, 'he_normal']}, Xavier: {outcomes[deepest, 'lecun_normal']}; "
                        f"first-layer dL/dW norm at init Xavier/He = {grad_ratio:.2g}"))
  for init, text, want in [("normal:std=1", "N(0,1) explodes: training diverges", "diverged"),
                           ("normal:std=0.01", "N(0,0.01^2) makes deep nets stall", "stalled")]:
    if init in settings.he_inits:
      seen = {d: outcome(cells[d, init], num_classes) for d in settings.he_depths}
      claims.append(Claim(source, text, all(o.split(" (")[0] == want for o in seen.values()),
                          ", ".join(f"depth {d}: {o}" for d, o in seen.items())))
  return claims


def glorot_claims(glorot: dict[str, Any]) -> list[Claim]:
  """Verdicts for the cells that were trained (a claim needing a missing cell is skipped)."""
  cells, jac = glorot["cells"], glorot["jacobians"]
  source = "Glorot & Bengio 2010"
  claims = []
  if {"tanh", "tanh-N"} <= set(cells):
    ratio = {label: float(_mean_over_seeds(cells[label].init_stats["preact_grad_std"])[0]
                          / _mean_over_seeds(cells[label].init_stats["preact_grad_std"])[-1])
             for label in ("tanh", "tanh-N")}
    claims.append(Claim(f"{source}, Fig. 7", "At init (tanh) the back-propagated gradient std shrinks toward "
                        "the input under standard init and stays roughly constant under normalized init "
                        "(first/last layer ratio: standard < half of normalized's; normalized in [0.5, 2])",
                        ratio["tanh"] < 0.5 * ratio["tanh-N"] and 0.5 <= ratio["tanh-N"] <= 2,
                        f"dL/dpre std first/last hidden layer: standard {ratio['tanh']:.3f}, "
                        f"normalized {ratio['tanh-N']:.3f}"))
  if {"tanh", "tanh-N"} <= set(jac):
    means = {k: [float(np.mean(s)) for s in jac[k]] for k in ("tanh", "tanh-N")}
    claims.append(Claim(f"{source}, Sec. 4.2.2", "Normalized init gives layer Jacobians a larger mean singular "
                        "value than standard init (paper: ~0.8 vs ~0.5)",
                        bool(np.mean(means["tanh-N"]) > np.mean(means["tanh"])),
                        f"mean singular value per layer, standard {np.round(means['tanh'], 2).tolist()}, "
                        f"normalized {np.round(means['tanh-N'], 2).tolist()}"))
  # mean and std over the finite seeds; a cell with a diverged seed is not comparable
  stats = {label: tables.mean_std(100 * (1 - r["test_acc"]) for r in c.replicas) for label, c in cells.items()}
  error = {label: (m, s) if n == len(cells[label].replicas) else (math.nan, math.nan)
           for label, (m, s, n) in stats.items()}
  shown = ", ".join(f"{k} {m:.2f} ± {s:.2f}%" for k, (m, s) in error.items())
  if {"tanh", "tanh-N"} <= set(error):
    (normalized, sd_n), (standard, sd_s) = error["tanh-N"], error["tanh"]
    claims.append(Claim(f"{source}, Table 1", "tanh-N has lower test error than tanh (paper, MNIST: 1.64 vs 1.76), "
                        "by more than the larger seed std", bool(standard - normalized > max(sd_n, sd_s)),
                        f"tanh-N {normalized:.2f} ± {sd_n:.2f}% vs tanh {standard:.2f} ± {sd_s:.2f}%"))
  if "sigmoid" in error and len(error) > 1:
    means = {k: m for k, (m, _) in error.items()}
    finite = all(math.isfinite(m) for m in means.values())
    claims.append(Claim(f"{source}, Table 1", f"sigmoid has the highest test error of the {len(error)} cells "
                        "(paper, MNIST: 2.21%)", max(means, key=means.get) == "sigmoid" if finite else None,
                        shown + ("" if finite else " (a diverged cell: not comparable)")))
  return claims


@dataclasses.dataclass
class StudyResult:
  settings: StudySettings
  dataset: str
  he: dict[str, Any]
  glorot: dict[str, Any]
  claims: list[Claim]
  he_table: tuple[list[str], list[list[str]]]
  std_table: tuple[list[str], list[list[str]]]
  glorot_table: tuple[list[str], list[list[str]]]
  wall_time_s: float


def _he_tables(he, settings, num_classes):
  header = ["depth", "init", "n Var[w] (hidden)", "outcome", "train loss", "test acc (%)", "diverged",
            "first-layer dL/dW at init", "last-layer dL/dW at init"]
  rows = []
  for (depth, init), c in he["cells"].items():
    grads = _mean_over_seeds(c.init_stats["kernel_grad_norm"])
    diverged = [r for r in c.replicas if r["status"] == "diverged"]
    rows.append([str(depth), HE_LABELS.get(init, init),
                 f"{float(np.mean(_mean_over_seeds(c.init_stats['kernel_fan_in_var'])[1:])):.3g}",
                 outcome(c, num_classes), _fmt([r["train_loss"] for r in c.replicas], digits=3),
                 _fmt([r["test_acc"] for r in c.replicas], 100), f"{len(diverged)}/{len(c.replicas)}"
                 + (f" (step {min(r['diverged_step'] for r in diverged)})" if diverged else ""),
                 f"{grads[0]:.3g}", f"{grads[-1]:.3g}"])
  # Measured vs predicted std at a few layers of each cell, as He et al.'s theory states it.
  std_header = ["depth", "init", "layer", "measured pre-act std", "predicted (He eq. 9)", "measured/predicted"]
  std_rows = []
  for (depth, init), c in he["cells"].items():
    measured = _mean_over_seeds(c.init_stats["preact_std"])
    want = he["predicted_std"][depth, init]
    for layer in sorted({0, depth // 4, depth // 2, 3 * depth // 4, depth - 1}):
      std_rows.append([str(depth), HE_LABELS.get(init, init), str(layer + 1), f"{measured[layer]:.3g}",
                       f"{want[layer]:.3g}", f"{measured[layer] / want[layer]:.3g}"])
  return (header, rows), (std_header, std_rows)


def _glorot_table(glorot):
  header = ["cell", "activation", "init", "test error (%)", "paper MNIST error (%)", "train acc (%)",
            "dL/dpre std first/last layer at init", "saturated at init (last layer)", "mean Jacobian s.v."]
  rows = []
  for label, activation, init in (c for c in GLOROT_CELLS if c[0] in glorot["cells"]):
    c = glorot["cells"][label]
    g = _mean_over_seeds(c.init_stats["preact_grad_std"])
    sat = _mean_over_seeds(c.init_stats["saturated_frac"])
    jac = glorot["jacobians"].get(label)
    rows.append([label, activation, init, _fmt([100 * (1 - r["test_acc"]) for r in c.replicas]),
                 f"{GLOROT_PAPER_MNIST_ERROR[label]:.2f}", _fmt([r["train_acc"] for r in c.replicas], 100),
                 f"{g[0] / g[-1]:.3f}", f"{sat[-1]:.3f}",
                 "not computed" if jac is None else f"{np.mean([np.mean(s) for s in jac]):.3f}"])
  return header, rows


def run_study(settings: StudySettings, dataset: str = "mnist", data_dir: str | None = None,
              echo: Callable[[str], None] = print) -> StudyResult:
  """Both parts on `dataset`; returns cells, tables and claim verdicts (nothing written)."""
  start = time.time()
  data = subset_train(load_dataset(dataset, data_dir=data_dir), settings.train_size)
  probe = (data.x_train[:settings.probe_size], data.y_train[:settings.probe_size])
  he = run_he(settings, data, probe, echo)
  glorot = run_glorot(settings, data, probe, echo)
  claims = he_claims(he, settings, data.num_classes) + glorot_claims(glorot)
  he_table, std_table = _he_tables(he, settings, data.num_classes)
  return StudyResult(settings, dataset, he, glorot, claims, he_table, std_table, _glorot_table(glorot),
                     time.time() - start)


def _plot_layers(path: str, series: dict[str, dict[str, np.ndarray]], ylabel: str, title: str,
                 dashed: dict[str, dict[str, np.ndarray]] | None = None) -> None:
  """One panel per group; one line per label (value per layer, log scale)."""
  fig, axes = plt.subplots(1, len(series), figsize=(5.5 * len(series), 4), squeeze=False)
  for ax, (group, lines) in zip(axes[0], series.items()):
    for i, (label, values) in enumerate(lines.items()):
      color = f"C{i}"
      values = np.where(np.asarray(values) > 0, values, np.nan)
      ax.plot(np.arange(1, len(values) + 1), values, "-o", ms=3, color=color, label=label)
      if dashed and label in dashed.get(group, {}):
        want = dashed[group][label]
        ax.plot(np.arange(1, len(want) + 1), np.where(want > 0, want, np.nan), "--", color=color, alpha=0.6)
    ax.set_yscale("log")
    ax.set_xlabel("hidden layer")
    ax.set_ylabel(ylabel)
    ax.set_title(group)
    ax.legend(fontsize=7)
  fig.suptitle(title)
  plots.save(fig, path)


def _plot_curves(path: str, series: dict[str, dict[str, np.ndarray]], title: str) -> None:
  """Training loss per epoch (mean over seeds), one panel per group."""
  fig, axes = plt.subplots(1, len(series), figsize=(5.5 * len(series), 4), squeeze=False)
  for ax, (group, lines) in zip(axes[0], series.items()):
    for label, curve in lines.items():
      mean = _mean_over_seeds(curve.T)
      if np.isfinite(mean).any():
        ax.plot(np.arange(1, len(mean) + 1), mean, "-o", ms=3, label=label)
      else:
        ax.plot([], [], label=f"{label} (diverged)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.set_yscale("log")
    ax.set_title(group)
    ax.legend(fontsize=7)
  fig.suptitle(title)
  plots.save(fig, path)


def write_report(result: StudyResult, workdir: str, echo: Callable[[str], None] = print) -> None:
  """Tables (md/csv), results.json, claims.json and the figures into `workdir`."""
  os.makedirs(workdir, exist_ok=True)
  he, glorot, s = result.he, result.glorot, result.settings
  sections = [("He et al. 2015: plain ReLU MLPs, training outcome", result.he_table),
              ("He et al. 2015: pre-activation std at init, measured vs predicted", result.std_table),
              ("Glorot & Bengio 2010: 5 hidden layers", result.glorot_table)]
  markdown = "".join(f"## {title} ({result.dataset})\n\n{tables.markdown_table(*table)}\n"
                     for title, table in sections)
  write_atomic(os.path.join(workdir, "table.md"), markdown)
  write_atomic(os.path.join(workdir, "table.csv"), "".join(
      f"# {title}\n{tables.csv_table(*table)}" for title, table in sections))
  echo(markdown)
  claims = report_claims(result.claims, os.path.join(workdir, "claims.json"), echo=echo)
  write_json(os.path.join(workdir, "results.json"), {
      "dataset": result.dataset, "settings": dataclasses.asdict(s), "wall_time_s": result.wall_time_s,
      "claims": claims,
      "he": [{"depth": d, "init": i, "outcome": outcome(c, he["num_classes"]), "replicas": c.replicas,
              "init_stats": c.init_stats, "final_stats": c.final_stats,
              "predicted_preact_std": he["predicted_std"][d, i], "train_loss_curve": c.train_loss_curve}
             for (d, i), c in he["cells"].items()],
      "glorot": [{"cell": label, "replicas": c.replicas, "init_stats": c.init_stats,
                  "final_stats": c.final_stats, "train_loss_curve": c.train_loss_curve,
                  "jacobian_singular_values": glorot["jacobians"].get(label)}
                 for label, c in glorot["cells"].items()]})
  by_depth = lambda stat, src="init_stats": {  # noqa: E731
      f"depth {d}": {HE_LABELS.get(i, i): _mean_over_seeds(getattr(he["cells"][d, i], src)[stat]) for i in s.he_inits}
      for d in s.he_depths}
  predicted = {f"depth {d}": {HE_LABELS.get(i, i): he["predicted_std"][d, i] for i in s.he_inits} for d in s.he_depths}
  _plot_layers(os.path.join(workdir, "he_activation_std.png"), by_depth("preact_std"), "pre-activation std",
               f"He et al. 2015 at init on {result.dataset}: measured (solid) vs predicted (dashed)", predicted)
  _plot_layers(os.path.join(workdir, "he_gradient_std.png"), by_depth("preact_grad_std"),
               "std of dL/d pre-activation", f"He et al. 2015 at init on {result.dataset}: back-propagated gradient")
  _plot_curves(os.path.join(workdir, "he_training_curves.png"),
               {f"depth {d}": {HE_LABELS.get(i, i): he["cells"][d, i].train_loss_curve for i in s.he_inits}
                for d in s.he_depths}, f"He et al. 2015 on {result.dataset}: same optimizer and budget")
  cells = glorot["cells"]
  _plot_layers(os.path.join(workdir, "glorot_gradient_std.png"),
               {"at init": {k: _mean_over_seeds(c.init_stats["preact_grad_std"]) for k, c in cells.items()},
                "after training": {k: _mean_over_seeds(c.final_stats["preact_grad_std"]) for k, c in cells.items()}},
               "std of dL/d pre-activation", f"Glorot & Bengio 2010 on {result.dataset}")
  if glorot["jacobians"]:
    _plot_layers(os.path.join(workdir, "glorot_jacobian.png"),
                 {"at init": {k: np.array([np.mean(v) for v in svs]) for k, svs in glorot["jacobians"].items()}},
                 "mean singular value of d act_i / d act_{i-1}", f"Glorot & Bengio 2010 on {result.dataset}")
  _plot_curves(os.path.join(workdir, "glorot_training_curves.png"),
               {"5 hidden layers": {k: c.train_loss_curve for k, c in cells.items()}},
               f"Glorot & Bengio 2010 on {result.dataset}")


def main(argv: list[str]) -> None:
  del argv

  def run() -> int:
    settings = PRESETS[FLAGS.preset]
    if FLAGS.seeds:
      settings = dataclasses.replace(settings, seeds=FLAGS.seeds)
    result = run_study(settings, FLAGS.dataset, FLAGS.data_dir)
    write_report(result, FLAGS.workdir)
    print(f"\n{FLAGS.preset} preset on {FLAGS.dataset}: {result.wall_time_s:.0f} s "
          f"({jax.default_backend()}); outputs in {FLAGS.workdir}")
    return 0

  sys.exit(run_cleanly(run))


if __name__ == "__main__":
  define_study_flags("init_study")
  app.run(main)
