"""The study's report, from the cell records alone: two tables, the verdicts, a figure."""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
from matplotlib.ticker import MaxNLocator
from ml_collections import ConfigDict

from experiments.dropout_vs_batchnorm import claims
from experiments.dropout_vs_batchnorm.rows import REGULARIZERS, after_dropout, group, lr_behaviour, replica_rows
from jaxdl.report import plots, tables
from jaxdl.study import CellRecord, Report

Rows = list[dict[str, Any]]


def report(config: ConfigDict, records: Mapping[str, CellRecord], out: Report) -> None:
  rows = replica_rows(config, records)
  out.table("Dropout vs batch norm at the base lr; lr columns: behaviour and test acc (%) at each lr multiple",
            *main_table(rows, config.stall_acc))
  out.table("Variance shift of the BN layers (BN nets at the base lr)", *variance_shift_table(rows))
  out.claims(claims.check(rows, config.stall_acc))
  out.figure("val_curves.png", plot_val_curves, rows)


def _pct(values, digits: int = 2) -> str:
  return tables.mean_std_text(values, scale=100, digits=digits)


def _steps(members: Rows) -> str:
  """Mean ± std of the steps to the target over the replicas that reached it (and how many did)."""
  reached = [r["steps_to_target"] for r in members if r["steps_to_target"] is not None]
  if not reached:
    return "not reached"
  text = tables.mean_std_text(reached, digits=0)
  return text if len(reached) == len(members) else f"{text} ({len(reached)}/{len(members)})"


def main_table(rows: Rows, stall_acc: float) -> tuple[list[str], list[list[str]]]:
  """Per (net, regularizer) at 1x lr: accuracies, gap, steps to target; then each lr multiple."""
  mults = sorted({r["lr_mult"] for r in rows})
  header = ["net", "regularizer", "test acc (%)", "train acc (%)", "gap (points)", "steps to target",
            *[f"lr {m:g}x" for m in mults]]
  body = []
  for net in dict.fromkeys(r["net"] for r in rows):
    for reg in REGULARIZERS:
      base = group(rows, net=net, regularizer=reg, lr_mult=1.0)
      if base:
        body.append([net, reg, _pct(r["test_acc"] for r in base), _pct(r["train_acc"] for r in base),
                     _pct(r["gap"] for r in base), _steps(base)]
                    + [f"{lr_behaviour(g, stall_acc)}: {_pct(r['test_acc'] for r in g)}"
                       for g in (group(rows, net=net, regularizer=reg, lr_mult=m) for m in mults)])
  return header, body


def variance_shift_table(rows: Rows) -> tuple[list[str], list[list[str]]]:
  """Per BN layer of the BN nets at 1x lr: running var / test-mode var, and test accuracy
  with the running statistics and with statistics recomputed in test mode."""
  header = ["net", "regularizer", "BN layer", "dropout upstream", "running var / test var (mean over units)",
            "test acc, running stats (%)", "test acc, recomputed stats (%)"]
  body = []
  for net in dict.fromkeys(r["net"] for r in rows):
    for reg in REGULARIZERS:
      measured = [r for r in group(rows, net=net, regularizer=reg, lr_mult=1.0) if "variance_shift" in r]
      for layer in (measured[0]["variance_shift"] if measured else {}):
        body.append([net, reg, layer, "yes" if after_dropout(layer) and reg == "both" else "no",
                     tables.mean_std_text((r["variance_shift"][layer]["mean_ratio"] for r in measured), digits=3),
                     _pct(r["test_acc"] for r in measured), _pct(r["test_acc_recomputed_bn"] for r in measured)])
  return header, body


def plot_val_curves(path: str, rows: Rows) -> None:
  """Validation accuracy per epoch at 1x lr: one panel per net, one line per regularizer (seed mean)."""
  nets = list(dict.fromkeys(r["net"] for r in rows))
  fig, axes = plots.plt.subplots(1, len(nets), figsize=(4.5 * len(nets), 3.5), squeeze=False)
  for ax, net in zip(axes[0], nets):
    for reg in REGULARIZERS:
      members = group(rows, net=net, regularizer=reg, lr_mult=1.0)
      if members:
        curve = np.nanmean(np.array([r["val_curve"] for r in members], dtype=float), axis=0)
        ax.plot(np.arange(1, len(curve) + 1), 100 * curve, marker="o", ms=3, label=reg)
    target = group(rows, net=net)[0]["target_val_acc"]
    ax.axhline(100 * target, color="gray", ls=":", lw=1, label="target (none's best val acc)")
    ax.set_title(f"{net} (base lr, mean over seeds)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy (%)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=7)
  plots.save(fig, path)
