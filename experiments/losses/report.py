"""The study's report, from the cell records alone: five tables, the verdicts and three figures."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from ml_collections import ConfigDict

from experiments.losses import claims
from experiments.losses.cells import LOSS_NAMES, SATURATION_ARMS, SMOOTHING_ARMS, smoothing_cell
from experiments.losses.saturation import CROSS_ENTROPY, SQUARED
from jaxdl.losses import OUTPUT_UNITS
from jaxdl.report import plots, tables
from jaxdl.report.tables import Table
from jaxdl.study import CellRecord, Report

GRADIENT_AT = (-5.0, 0.0, 2.0, 5.0, 10.0)  # the z values of the gradient table
LOSS_LABELS = {SQUARED: "squared error", CROSS_ENTROPY: "cross-entropy"}


def report(config: ConfigDict, records: Mapping[str, CellRecord], out: Report) -> None:
  gradients = records["gradient_curves"].results
  neuron = records["nielsen_neuron"].results["runs"]
  rows = saturation_rows(records)
  calibration = {arm: records[smoothing_cell(arm)].measurements["replicas"] for arm in SMOOTHING_ARMS}
  out.table("Output units and their losses (jaxdl.losses)", *output_unit_table())
  out.table("dC/dz of one sigmoid unit with target 0 (jax.grad through the registered losses)",
            *gradient_table(gradients))
  out.table("Nielsen's neuron (input 1, target 0, from w = b = 2): output and cost per epoch",
            *neuron_table(neuron))
  out.table(f"MNIST sigmoid MLP {tuple(config.saturation.widths)}, sigmoid outputs, SGD lr {config.saturation.lr:g}: "
            f"default start (output biases 0) vs saturated start (output biases {config.saturation.output_bias:g})",
            *saturation_table(rows))
  out.table(f"Fashion-MNIST MLP {tuple(config.calibration.widths)}, test set: label smoothing "
            f"{config.calibration.label_smoothing:g} vs none ({config.calibration.bins} confidence bins)",
            *calibration_table(calibration))
  out.claims([*claims.gradient_claims(gradients), *claims.neuron_claims(neuron), *claims.saturation_claims(rows),
              *claims.smoothing_claims(calibration["plain"], calibration["smoothed"])])
  out.figure("gradients.png", plot_gradients, gradients, neuron)
  out.figure("saturation_curves.png", plot_saturation, rows)
  out.figure("reliability.png", plot_reliability, calibration, config.calibration.label_smoothing)


def saturation_rows(records: Mapping[str, CellRecord]) -> dict[tuple[str, str], dict[str, Any]]:
  """Per (loss, start): the val-acc curves [epochs, seeds], the val acc after epoch 1 and the epochs
  to claims.TARGET_ACC per seed (the budget + 1 where never reached), and the final test acc."""
  rows = {}
  for arm in SATURATION_ARMS:
    record = records[arm.cell]
    curves = record.curve("val_acc")
    rows[(arm.loss, arm.start)] = {
        "curves": curves.tolist(), "first_val_acc": curves[0].tolist(),
        "epochs_to_target": [first_epoch_at(curves[:, k], claims.TARGET_ACC) for k in range(curves.shape[1])],
        "test_acc": [r["test_acc"] for r in record.replicas], "output_bias":
            record.config["model_options"]["output_bias_init"], "epochs": len(curves)}
  return rows


def first_epoch_at(curve: Sequence[float], target: float) -> int:
  """The first epoch (1-based) whose value reaches `target`; len(curve) + 1 if none does."""
  hits = [i for i, v in enumerate(curve, start=1) if np.isfinite(v) and v >= target]
  return hits[0] if hits else len(curve) + 1


def output_unit_table() -> Table:
  return (["task", "output unit", "loss", "target format", "registered name"],
          [[task, unit, loss, target, f"`{name}`"] for task, unit, loss, target, name in OUTPUT_UNITS])


def gradient_table(results: Mapping[str, Any]) -> Table:
  z = np.asarray(results["z"])
  header = ["z", "s(z)", "squared error: dC/dz", "(s - y) s'", "cross-entropy: dC/dz", "s - y", "squared / CE"]
  body = []
  for value in GRADIENT_AT:
    i = int(np.argmin(np.abs(z - value)))
    sq, ce = results["grad"][SQUARED][i], results["grad"][CROSS_ENTROPY][i]
    closed = results["closed_form"]
    body.append([f"{value:g}", f"{1 / (1 + np.exp(-z[i])):.5f}", f"{sq:.3e}", f"{closed[SQUARED][i]:.3e}",
                 f"{ce:.4f}", f"{closed[CROSS_ENTROPY][i]:.4f}", f"{sq / ce:.2e}"])
  return header, body


def neuron_table(runs: Sequence[Mapping[str, Any]]) -> Table:
  epochs = len(runs[0]["output"]) - 1
  marks = sorted({0, 50, epochs // 2, epochs})
  header = ["cost", "lr", *[f"output at epoch {e}" for e in marks], f"cost fall, epochs 1-{epochs // 2}",
            f"cost fall, epochs {epochs // 2 + 1}-{epochs}"]
  body = []
  for r in runs:
    first, second = claims.cost_falls(r["cost"])
    body.append([LOSS_LABELS[r["loss"]], f"{r['lr']:g}", *[f"{r['output'][e]:.3f}" for e in marks],
                 f"{first:.4f}", f"{second:.4f}"])
  return header, body


def _reached(epochs: Sequence[int], budget: int) -> str:
  reached = [e for e in epochs if e <= budget]
  if not reached:
    return f"not within {budget}"
  text = tables.mean_std_text(reached, digits=1)
  return text if len(reached) == len(epochs) else f"{text} ({len(reached)}/{len(epochs)} seeds)"


def saturation_table(rows: Mapping[tuple[str, str], Mapping[str, Any]]) -> Table:
  header = ["loss", "start", "output bias", "val acc after epoch 1 (%)", "test acc after the last epoch (%)",
            f"epochs to {100 * claims.TARGET_ACC:g}% val acc"]
  body = [[LOSS_LABELS[LOSS_NAMES[loss]], start, f"{r['output_bias']:g}",
           tables.mean_std_text(r["first_val_acc"], scale=100, digits=2),
           tables.mean_std_text(r["test_acc"], scale=100, digits=2), _reached(r["epochs_to_target"], r["epochs"])]
          for (loss, start), r in rows.items()]
  return header, body


def calibration_table(calibration: Mapping[str, Sequence[Mapping[str, Any]]]) -> Table:
  header = ["label smoothing", "test acc (%)", "mean confidence (%)", "confidence - accuracy (points)", "ECE (%)"]
  body = []
  for arm, reps in calibration.items():
    pct = lambda key: tables.mean_std_text([r[key] for r in reps], scale=100, digits=2)  # noqa: E731
    body.append([arm, pct("accuracy"), pct("mean_confidence"),
                 tables.mean_std_text([r["mean_confidence"] - r["accuracy"] for r in reps], scale=100, digits=2),
                 pct("ece")])
  return header, body


def plot_gradients(path: str, gradients: Mapping[str, Any], neuron: Sequence[Mapping[str, Any]]) -> None:
  """|dC/dz| vs z for target 0 (log scale); Nielsen's neuron: cost and output per epoch."""
  fig, axes = plots.plt.subplots(1, 3, figsize=(14, 4))
  z = np.asarray(gradients["z"])
  for loss, label in LOSS_LABELS.items():
    axes[0].plot(z, np.abs(gradients["grad"][loss]), label=f"{label} (jax.grad)")
  axes[0].set_yscale("log")
  axes[0].set_xlabel("pre-activation z")
  axes[0].set_ylabel("|dC/dz| (target y = 0)")
  axes[0].set_title("Gradient of a sigmoid output's loss")
  plots.outside_legend(axes[0], where="below", ncol=1, fontsize=8)  # the curves reach every corner
  for r in neuron:
    label = f"{LOSS_LABELS[r['loss']]}, lr {r['lr']:g}"
    epochs = np.arange(len(r["cost"]))
    axes[1].plot(epochs, r["cost"], label=label)
    axes[2].plot(epochs, r["output"], label=label)
  axes[1].set_yscale("log")
  axes[1].set_ylabel("cost (log scale)")
  axes[1].set_title("Nielsen's neuron: cost")
  axes[2].set_ylabel("output a = s(w + b)")
  axes[2].set_ylim(0, 1)
  axes[2].set_title("Nielsen's neuron: output (target 0)")
  for ax in axes[1:]:
    ax.set_xlabel("epoch")
    plots.integer_epochs(ax)
  plots.outside_legend(axes[2], fontsize=8)  # the same runs in both neuron panels
  plots.save(fig, path, outside_legends=True)


def plot_saturation(path: str, rows: Mapping[tuple[str, str], Mapping[str, Any]]) -> None:
  """Validation accuracy per epoch, mean over seeds with the seeds' range shaded."""
  fig, ax = plots.plt.subplots(figsize=(6.5, 4.2))
  for (loss, start), r in rows.items():
    curves = 100 * np.asarray(r["curves"], dtype=float)
    epochs = np.arange(1, len(curves) + 1)
    label = f"{LOSS_LABELS[LOSS_NAMES[loss]]}, {start} start"
    line, = ax.plot(epochs, curves.mean(1), marker="o", ms=3, ls="-" if start == "saturated" else "--", label=label)
    ax.fill_between(epochs, curves.min(1), curves.max(1), color=line.get_color(), alpha=0.15)
  ax.axhline(100 * claims.TARGET_ACC, color="gray", ls=":", lw=1, label=f"target {100 * claims.TARGET_ACC:g}%")
  ax.set_xlabel("epoch")
  plots.integer_epochs(ax)
  ax.set_ylabel("validation accuracy (%)")
  ax.set_ylim(0, 100)
  ax.set_title("MNIST sigmoid MLP: squared error vs cross-entropy (seed mean, range shaded)", fontsize=10)
  plots.outside_legend(ax, fontsize=7)
  plots.save(fig, path, outside_legends=True)


def plot_reliability(path: str, calibration: Mapping[str, Sequence[Mapping[str, Any]]], eps: float) -> None:
  """Reliability diagrams, the seeds' bins pooled: accuracy per confidence bin against the diagonal
  (top), and the share of test predictions in each bin (bottom)."""
  fig, axes = plots.plt.subplots(2, len(calibration), figsize=(5 * len(calibration), 5.5), squeeze=False,
                                 gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
  for column, (arm, reps) in enumerate(calibration.items()):
    top, bottom = axes[0][column], axes[1][column]
    edges = np.asarray(reps[0]["reliability"]["edges"])
    count = np.sum([r["reliability"]["count"] for r in reps], axis=0).astype(float)
    correct = np.sum([np.nan_to_num(np.asarray(r["reliability"]["accuracy"], float)) * r["reliability"]["count"]
                      for r in reps], axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
      accuracy = correct / count
    centres, width = 100 * (edges[:-1] + edges[1:]) / 2, 100 * np.diff(edges)  # confidence in %, as the table
    top.bar(centres, 100 * np.nan_to_num(accuracy), width=width, edgecolor="black", lw=0.5, label="accuracy in bin")
    top.plot([0, 100], [0, 100], color="red", ls="--", lw=1, label="perfect calibration")
    ece = np.mean([r["ece"] for r in reps])
    title = "no label smoothing" if arm == "plain" else f"label smoothing {eps:g}"
    top.set_title(f"{title}: ECE {100 * ece:.2f}% (seed mean)")
    top.set_ylabel("accuracy in bin (%)")
    top.set_ylim(0, 100)
    top.legend(fontsize=7, loc="upper left")
    bottom.bar(centres, 100 * count / count.sum(), width=width, color="gray", edgecolor="black", lw=0.5)
    bottom.set_ylabel("predictions (%)")
    bottom.set_xlabel("confidence (largest softmax probability, %)")
    bottom.set_xlim(0, 100)
  plots.save(fig, path)
