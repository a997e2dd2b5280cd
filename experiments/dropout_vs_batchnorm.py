"""Dropout vs batch norm: a 2x2 ablation {none, dropout, BN, both} on three nets.

  python -m experiments.dropout_vs_batchnorm --preset=quick
  python -m experiments.dropout_vs_batchnorm --preset=quick --dataset=fashion_mnist
  python -m experiments.dropout_vs_batchnorm --preset=full      # the papers' nets, 4 seeds (a GPU)

Hardware and time: 2-core x86 CPU, no GPU, shared with other jobs (load
average ~10 while measured, so wall times are inflated). The measured
numbers, their wall times and the verdicts are in the README section
"Dropout vs batch norm" (written from this module's run directory); `full`
was not run here (CPU too small), its command is above.

Nets: (a) `sigmoid_mlp` 3x100 sigmoid (Ioffe & Szegedy's MNIST net), (b)
`relu_mlp` 2x1024 ReLU (Srivastava et al.; `--max_norm=2` adds their
max-norm), (c) `cnn`, the engine's CNN (conv 20x5x5 + pool, conv 40x5x5 +
pool, FC100). Quick shrinks (b) to 2x256 and (c) to conv 8/16 + FC64 on a
3000-example subset, because a vmapped conv is slow on XLA:CPU.

One `train_and_evaluate` call per (net, batch norm on/off); its replicas are
the grid {lr: 1x, 5x, 30x base} x {dropout: 0, 0.5} x seeds, so every cell is
mean +/- std over seeds and the lr tolerance comes from the same program.
Measured per cell: test / train accuracy and gap, the steps to reach the
baseline's best validation accuracy (Ioffe & Szegedy's "steps to 72.2%"),
which lrs train / stall / diverge, and, for BN nets, Li et al.'s variance
shift (running var / test-mode input var per BN layer) and the test accuracy
after recomputing BN statistics in test mode.
"""
from __future__ import annotations

import dataclasses
import math
import os
import re
import sys
from typing import Any

import matplotlib
import numpy as np
from absl import app, flags

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from experiments.common import define_report_only_flag, define_study_flags, load_saved_study, run_cleanly
from jaxdl.data import Dataset, load_dataset
from jaxdl.data.batching import steps_per_epoch
from jaxdl.optim import OptimConfig
from jaxdl.report import plots, tables
from jaxdl.report.claims import Claim, report_claims
from jaxdl.report.rundir import write_atomic, write_json
from jaxdl.train import RunResult, TrainConfig, train_and_evaluate
from jaxdl.variance_shift import recompute_bn_statistics, variance_shift

FLAGS = flags.FLAGS

CELLS = ("none", "dropout", "bn", "both")
STALL_ACC = 0.5  # a finite run whose best validation accuracy stays below this has stalled


@dataclasses.dataclass(frozen=True)
class NetSpec:
  """One network of the study, with the optimizer and base lr all its cells share."""
  model: str
  model_options: dict[str, Any]
  optimizer: str
  base_lr: float
  epochs: int


# The papers' nets (full preset). Momentum SGD for all three, batch 60 (Ioffe's).
NETS = {
    "sigmoid_mlp": NetSpec("mlp", dict(widths=(100, 100, 100), activation="sigmoid",
                                       kernel_init="normal:std=0.1"), "momentum", 0.05, 60),
    "relu_mlp": NetSpec("mlp", dict(widths=(1024, 1024), activation="relu"), "momentum", 0.01, 30),
    "cnn": NetSpec("cnn", dict(conv_features=(20, 40), dense_widths=(100,)), "momentum", 0.01, 20),
}
QUICK_NETS = {
    "sigmoid_mlp": dataclasses.replace(NETS["sigmoid_mlp"], epochs=6),
    "relu_mlp": dataclasses.replace(NETS["relu_mlp"], model_options=dict(widths=(256, 256), activation="relu"),
                                    epochs=4),
    "cnn": dataclasses.replace(NETS["cnn"], model_options=dict(conv_features=(8, 16), dense_widths=(64,)),
                               epochs=3),
}


@dataclasses.dataclass(frozen=True)
class Settings:
  nets: dict[str, NetSpec]
  dataset: str = "mnist"
  data_dir: str | None = None
  seeds: int = 2
  train_size: int = 0        # 0: all 50k (60k minus the 10k validation split)
  val_subset: int = 0        # evaluate on the first N validation / test examples (0: all)
  test_subset: int = 0
  batch_size: int = 60
  lr_multipliers: tuple[float, ...] = (1.0, 5.0, 30.0)
  dropout_rate: float = 0.5
  max_norm: float = 0.0
  epochs_scale: float = 1.0  # multiplies every net's epochs (the integration test uses a tiny one)


PRESETS = {
    "quick": Settings(nets=QUICK_NETS, seeds=2, train_size=3000, val_subset=1000, test_subset=2000),
    "full": Settings(nets=NETS, seeds=4),
}


def load_study_data(dataset: str, data_dir: str | None, train_size: int, val_subset: int,
                    test_subset: int) -> Dataset:
  """MNIST-style 50k/10k/10k split, then optional subsets (first N of each split)."""
  data = load_dataset(dataset, data_dir=data_dir, val_size=10000)
  cut = lambda n, x: x[:n] if n else x  # noqa: E731
  return dataclasses.replace(
      data, x_train=cut(train_size, data.x_train), y_train=cut(train_size, data.y_train),
      x_val=cut(val_subset, data.x_val), y_val=cut(val_subset, data.y_val),
      x_test=cut(test_subset, data.x_test), y_test=cut(test_subset, data.y_test))


def cell_name(batch_norm: bool, dropout_rate: float) -> str:
  return {(False, False): "none", (False, True): "dropout", (True, False): "bn",
          (True, True): "both"}[(batch_norm, dropout_rate > 0)]


def _train_net(s: Settings, net: NetSpec, batch_norm: bool, data: Dataset) -> RunResult:
  cfg = TrainConfig(
      dataset=s.dataset, model=net.model, model_options={**net.model_options, "batch_norm": batch_norm},
      optim=OptimConfig(name=net.optimizer, lr=net.base_lr, momentum=0.9, max_norm=s.max_norm),
      batch_size=s.batch_size, epochs=max(1, round(net.epochs * s.epochs_scale)),
      seeds=tuple(range(s.seeds)),
      sweep={"lr": tuple(net.base_lr * m for m in s.lr_multipliers), "dropout_rate": (0.0, s.dropout_rate)})
  return train_and_evaluate(cfg, data=data, echo=lambda line: None)


def _bn_measurements(result: RunResult, k: int, data: Dataset) -> dict[str, Any]:
  """Variance shift per BN layer, and test accuracy with test-mode BN statistics."""
  model, variables = result.model(k), result.variables(k)
  shift = variance_shift(model, variables, data.x_test)
  fixed = recompute_bn_statistics(model, variables, data.x_train[:5000])
  logits = np.concatenate([np.asarray(model.apply(fixed, data.x_test[i:i + 1000], train=False))
                           for i in range(0, len(data.x_test), 1000)])
  return {"variance_shift": shift, "test_acc_recomputed_bn": float(np.mean(logits.argmax(-1) == data.y_test))}


def run_study(s: Settings, echo=print) -> dict[str, Any]:
  """Trains every (net, BN) program; returns per-replica rows, histories and summaries."""
  data = load_study_data(s.dataset, s.data_dir, s.train_size, s.val_subset, s.test_subset)
  echo(data.describe())
  rows, wall = [], 0.0
  for net_name, net in s.nets.items():
    for batch_norm in (False, True):
      result = _train_net(s, net, batch_norm, data)
      wall += result.wall_time_s
      spe = steps_per_epoch(len(data.y_train), s.batch_size)
      echo(f"{net_name} bn={batch_norm}: {result.status} in {result.wall_time_s:.1f} s")
      for k, rep in enumerate(result.replicas):
        row = {"net": net_name, "cell": cell_name(batch_norm, rep["dropout_rate"]), "batch_norm": batch_norm,
               "lr_mult": round(rep["lr"] / net.base_lr, 6), "steps_per_epoch": spe,
               "val_curve": [float(h["val_acc"][k]) for h in result.history if "val_acc" in h], **rep}
        if batch_norm and rep["status"] != "diverged" and row["lr_mult"] == 1.0:
          row.update(_bn_measurements(result, k, data))
        rows.append(row)
  _add_steps_to_target(rows)
  return {"settings": _settings_json(s), "data": data.describe(), "rows": rows, "train_wall_s": wall}


def _add_steps_to_target(rows: list[dict[str, Any]]) -> None:
  """Target = the `none` cell's mean best val accuracy at 1x lr, per net (Ioffe's 72.2%)."""
  for net in {r["net"] for r in rows}:
    base = [r["best_val_acc"] for r in rows if r["net"] == net and r["cell"] == "none" and r["lr_mult"] == 1.0]
    target = tables.mean_std(base)[0]
    for r in rows:
      if r["net"] == net:
        epoch = None if math.isnan(target) else _first_epoch_at(r["val_curve"], target)
        r["target_val_acc"] = target
        r["steps_to_target"] = None if epoch is None else epoch * r["steps_per_epoch"]


def _first_epoch_at(curve: list[float], target: float) -> int | None:
  for epoch, acc in enumerate(curve, start=1):
    if math.isfinite(acc) and acc >= target - 1e-9:
      return epoch
  return None


def _settings_json(s: Settings) -> dict[str, Any]:
  return {**dataclasses.asdict(s), "nets": {k: dataclasses.asdict(v) for k, v in s.nets.items()}}


def after_dropout(layer: str) -> bool:
  """Whether a BN layer (by module name) has a dropout layer upstream of it.

  mlp: bn{i} follows hidden layer i-1's dropout for i >= 1; cnn: dense_bn{i}
  likewise (its conv BN layers and first dense BN see no dropout).
  """
  m = re.fullmatch(r"(?:dense_)?bn(\d+)", layer)
  return bool(m) and int(m.group(1)) >= 1


def lr_behaviour(members: list[dict[str, Any]]) -> str:
  """trains / stalls / diverges, with counts when the seeds disagree."""
  kinds = ["diverges" if r["status"] == "diverged" else
           "stalls" if not r["best_val_acc"] >= STALL_ACC else "trains" for r in members]
  unique = sorted(set(kinds))
  return unique[0] if len(unique) == 1 else ", ".join(f"{kinds.count(u)}/{len(kinds)} {u}" for u in unique)


def _group(rows, **keys) -> list[dict[str, Any]]:
  return [r for r in rows if all(r[k] == v for k, v in keys.items())]


def _pct(values, digits: int = 2) -> str:
  return tables.format_mean_std(*tables.mean_std(values), scale=100, digits=digits)


def _steps(members: list[dict[str, Any]]) -> str:
  reached = [r["steps_to_target"] for r in members if r["steps_to_target"] is not None]
  if not reached:
    return "not reached"
  text = tables.format_mean_std(*tables.mean_std(reached), digits=0)
  return text if len(reached) == len(members) else f"{text} ({len(reached)}/{len(members)})"


def summary_tables(study: dict[str, Any]) -> dict[str, tuple[list[str], list[list[str]]]]:
  rows = study["rows"]
  mults = sorted({r["lr_mult"] for r in rows})
  nets = list(dict.fromkeys(r["net"] for r in rows))
  main_header = ["net", "cell", "test acc (%)", "train acc (%)", "gap (points)",
                 "steps to target", *[f"lr {m:g}x" for m in mults]]
  main, shift = [], []
  for net in nets:
    for cell in CELLS:
      base = _group(rows, net=net, cell=cell, lr_mult=1.0)
      if not base:
        continue
      main.append([net, cell, _pct(r["test_acc"] for r in base), _pct(r["train_acc"] for r in base),
                   _pct(r["gap"] for r in base), _steps(base)]
                  + [f"{lr_behaviour(g)}: {_pct(r['test_acc'] for r in g)}"
                     for g in (_group(rows, net=net, cell=cell, lr_mult=m) for m in mults)])
      for layer in (base[0].get("variance_shift") or {}):
        measured = [r for r in base if "variance_shift" in r]
        shift.append([net, cell, layer, "yes" if after_dropout(layer) and cell == "both" else "no",
                      tables.format_mean_std(*tables.mean_std(r["variance_shift"][layer]["mean_ratio"]
                                                              for r in measured), digits=3),
                      _pct(r["test_acc"] for r in measured),
                      _pct(r["test_acc_recomputed_bn"] for r in measured)])
  shift_header = ["net", "cell", "BN layer", "dropout upstream", "running var / test var (mean over units)",
                  "test acc, running stats (%)", "test acc, recomputed stats (%)"]
  return {"main": (main_header, main), "variance_shift": (shift_header, shift)}


def _mean(rows, key) -> float:
  return tables.mean_std(r[key] for r in rows)[0]


def _claims(study: dict[str, Any]) -> list[Claim]:
  rows = study["rows"]
  nets = list(dict.fromkeys(r["net"] for r in rows))
  at = lambda net, cell, m=1.0: _group(rows, net=net, cell=cell, lr_mult=m)  # noqa: E731
  claims = []

  # The target is the baseline seeds' mean best accuracy, so some baseline seeds never reach it: their
  # steps are left out (which understates the speed-up). Every BN@5x seed must reach it.
  speed, bn_reached = {}, {}
  for net in nets:
    none = [r["steps_to_target"] for r in at(net, "none") if r["steps_to_target"]]
    bn5 = [r["steps_to_target"] for r in at(net, "bn", 5.0)]
    bn_reached[net] = f"{sum(s is not None for s in bn5)}/{len(bn5)}"
    speed[net] = (np.mean(none) / np.mean(bn5)) if none and bn5 and None not in bn5 else float("nan")
  claims.append(Claim(
      "Ioffe & Szegedy 2015, Fig. 3 (31.0M vs 2.1M steps, 14x)",
      "BN with a 5x learning rate reaches the baseline's accuracy in fewer steps (every BN seed)",
      all(v > 1 for v in speed.values()) if speed else None,
      "speed-up (baseline steps at 1x / BN steps at 5x, to the baseline's best val acc): "
      + ", ".join(f"{n} {v:.2f}x" if math.isfinite(v) else f"{n}: {bn_reached[n]} BN@5x seeds reached it"
                  for n, v in speed.items())
      + "; epoch resolution"))

  tolerance = {net: (lr_behaviour(at(net, "none", 30.0)), lr_behaviour(at(net, "bn", 30.0))) for net in nets}
  claims.append(Claim(
      "Ioffe & Szegedy 2015, Sec. 3.3 / BN-x30",
      "BN nets train at a 30x learning rate where the plain nets stall or diverge (every seed)",
      all(b == "trains" and "trains" not in p for p, b in tolerance.values()),
      "; ".join(f"{n}: none {p}, bn {b}" for n, (p, b) in tolerance.items())))

  gains = {net: _mean(at(net, "dropout"), "test_acc") - _mean(at(net, "none"), "test_acc") for net in nets}
  claims.append(Claim(
      "Srivastava et al. 2014, Table 2 (1.60% -> 1.25% error, ReLU)",
      "dropout lowers the test error of the ReLU MLP",
      gains["relu_mlp"] > 0 if "relu_mlp" in gains else None,
      "test acc dropout - none: " + ", ".join(f"{n} {100 * g:+.2f} points" for n, g in gains.items())))

  with_bn = {net: _mean(at(net, "both"), "test_acc") - _mean(at(net, "bn"), "test_acc") for net in nets}
  claims.append(Claim(
      "Ioffe & Szegedy 2015, Sec. 3.4",
      "once BN is there, dropout can be removed: adding it gains < 0.1 points",
      all(g < 0.001 for g in with_bn.values()),
      "test acc both - bn: " + ", ".join(f"{n} {100 * g:+.2f} points" for n, g in with_bn.items())))

  # Recomputing also helps a BN net without dropout when its running averages lag the weights (a
  # short run): the gain that counts is the one beyond that of the `bn` cell, the control.
  recompute_gain = lambda members: float(np.mean([r["test_acc_recomputed_bn"] - r["test_acc"]  # noqa: E731
                                                  for r in members])) if members else 0.0
  shifted = []
  for net in nets:
    both = [r for r in at(net, "both") if "variance_shift" in r]
    control = recompute_gain([r for r in at(net, "bn") if "test_acc_recomputed_bn" in r])
    for layer in (both[0]["variance_shift"] if both else {}):
      ratio = np.mean([r["variance_shift"][layer]["mean_ratio"] for r in both])
      if after_dropout(layer):
        shifted.append((net, layer, ratio, recompute_gain(both), control))
  claims.append(Claim(
      "Li et al. 2019, variance shift",
      "with dropout before BN, the running variance exceeds the test-time variance (ratio > 1.05), and "
      "recomputing BN statistics in test mode recovers more accuracy than it does without dropout",
      all(ratio > 1.05 and fix > control for _, _, ratio, fix, control in shifted) if shifted else None,
      "; ".join(f"{n}/{layer}: var ratio {ratio:.3f}, recompute {100 * fix:+.2f} points "
                f"(no-dropout control {100 * control:+.2f})"
                for n, layer, ratio, fix, control in shifted) or "no BN layer with dropout upstream"))
  return claims


def write_report(study: dict[str, Any], workdir: str, echo=print) -> list[Claim]:
  """table.md/csv, results.json, claims.json and the validation-curve figure."""
  os.makedirs(workdir, exist_ok=True)
  parts = summary_tables(study)
  md = "".join(f"### {name}\n\n{tables.markdown_table(*t)}\n" for name, t in parts.items())
  echo(md)
  write_atomic(os.path.join(workdir, "table.md"), md)
  write_atomic(os.path.join(workdir, "table.csv"), tables.csv_table(*parts["main"]))
  write_json(os.path.join(workdir, "results.json"), study)
  claims = _claims(study)
  report_claims(claims, os.path.join(workdir, "claims.json"), echo=echo)
  _plot_curves(study, os.path.join(workdir, "val_curves.png"))
  return claims


def _plot_curves(study: dict[str, Any], path: str) -> None:
  """Validation accuracy per epoch at 1x lr: one panel per net, one line per cell (seed mean)."""
  rows = study["rows"]
  nets = list(dict.fromkeys(r["net"] for r in rows))
  fig, axes = plt.subplots(1, len(nets), figsize=(4.5 * len(nets), 3.5), squeeze=False)
  for ax, net in zip(axes[0], nets):
    for cell in CELLS:
      members = _group(rows, net=net, cell=cell, lr_mult=1.0)
      if members:
        curve = np.nanmean(np.array([r["val_curve"] for r in members], dtype=float), axis=0)
        ax.plot(np.arange(1, len(curve) + 1), 100 * curve, label=cell)
    ax.axhline(100 * members[0]["target_val_acc"], color="gray", ls=":", lw=1)
    ax.set_title(net)
    ax.set_xlabel("epoch")
    ax.set_ylabel("val acc (%)")
    ax.legend(fontsize=7)
  plots.save(fig, path)


def main(argv: list[str]) -> None:
  del argv

  def run() -> int:
    if FLAGS.report_only:
      write_report(load_saved_study(FLAGS.workdir), FLAGS.workdir)
      return 0
    s = dataclasses.replace(PRESETS[FLAGS.preset], dataset=FLAGS.dataset, data_dir=FLAGS.data_dir,
                            max_norm=FLAGS.max_norm)
    if FLAGS.seeds:
      s = dataclasses.replace(s, seeds=FLAGS.seeds)
    study = run_study(s)
    write_report(study, FLAGS.workdir)
    print(f"trained in {study['train_wall_s']:.0f} s; wrote {FLAGS.workdir}")
    return 0

  sys.exit(run_cleanly(run))


if __name__ == "__main__":
  define_study_flags("dropout_vs_batchnorm")
  define_report_only_flag()
  flags.DEFINE_float("max_norm", 0.0, "Srivastava's max-norm on every unit's incoming weights (0 = off; paper: 2).")
  app.run(main)
