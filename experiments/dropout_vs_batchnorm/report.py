"""The study's report, from the cell records alone: three tables, the verdicts, a figure."""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
from ml_collections import ConfigDict

from experiments.dropout_vs_batchnorm import claims
from experiments.dropout_vs_batchnorm.cells import RECIPE_ARMS, recipe_cell_name
from experiments.dropout_vs_batchnorm.rows import REGULARIZERS, after_dropout, group, lr_behaviour, recipe_rows, \
    replica_rows
from jaxdl.report import plots, tables
from jaxdl.study import CellRecord, Report
from jaxdl.train import RunStatus

Rows = list[dict[str, Any]]


def report(config: ConfigDict, records: Mapping[str, CellRecord], out: Report) -> None:
  rows = replica_rows(config, records)
  out.table("Dropout vs batch norm at the base lr; lr columns: behaviour and test acc (%) at each lr multiple",
            *main_table(rows, config.stall_acc))
  out.table("Variance shift of the BN layers (BN nets at the base lr)", *variance_shift_table(rows))
  recipe = recipe_rows(records)
  out.table("Srivastava et al.'s recipe (input dropout 0.2, hidden 0.5, max-norm, momentum) without and with "
            "its dropout and batch norm", *recipe_table(recipe))
  out.claims(claims.check(rows, recipe, config.stall_acc))
  out.figure("val_curves.png", plot_val_curves, rows, {arm: records[recipe_cell_name(arm)].curve("val_acc")
                                                       for arm in RECIPE_ARMS})


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


def recipe_table(recipe: Rows) -> tuple[list[str], list[list[str]]]:
  """Per arm of the recipe cells: test / train error and the gap, mean ± std over seeds."""
  header = ["arm", "test error (%)", "train error (%)", "gap (points)", "diverged"]
  body = []
  for arm in RECIPE_ARMS:
    members = group(recipe, arm=arm)
    body.append([arm, _pct(1 - r["test_acc"] for r in members), _pct(1 - r["train_acc"] for r in members),
                 _pct(r["gap"] for r in members),
                 f"{sum(r['status'] == RunStatus.DIVERGED for r in members)}/{len(members)}"])
  return header, body


def plot_val_curves(path: str, rows: Rows, recipe_curves: Mapping[str, np.ndarray]) -> None:
  """Validation accuracy per epoch at 1x lr: one panel per net, one line per regularizer (seed mean);
  the last panel: the recipe cells (`recipe_curves`: arm -> [epochs, seeds])."""
  nets = list(dict.fromkeys(r["net"] for r in rows))
  fig, axes = plots.plt.subplots(1, len(nets) + 1, figsize=(4.5 * (len(nets) + 1), 3.5), squeeze=False)
  ax = axes[0][-1]
  for arm, curves in recipe_curves.items():
    curve = np.nanmean(np.asarray(curves, dtype=float), axis=1)
    ax.plot(np.arange(1, len(curve) + 1), 100 * curve, label=arm)
  ax.set_title("recipe (mean over seeds)")
  ax.set_xlabel("epoch")
  ax.set_ylabel("validation accuracy (%)")
  plots.integer_epochs(ax)
  plots.percent_axis(ax)
  plots.outside_legend(ax, where="below", ncol=2, fontsize=7)
  for ax, net in zip(axes[0], nets):
    for reg in REGULARIZERS:
      members = group(rows, net=net, regularizer=reg, lr_mult=1.0)
      if members:
        curve = np.nanmean(np.array([r["val_curve"] for r in members], dtype=float), axis=0)
        ax.plot(np.arange(1, len(curve) + 1), 100 * curve, marker="o", ms=3, label=reg)
    target = group(rows, net=net)[0]["target_val_acc"]
    ax.axhline(100 * target, color="gray", ls=":", lw=1, label="target (none seeds' lowest best val acc)")
    ax.set_title(f"{plots.words(net)} (base lr, mean over seeds)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy (%)")
    plots.integer_epochs(ax)
    plots.percent_axis(ax)
    plots.outside_legend(ax, where="below", ncol=2, fontsize=7)
  plots.save(fig, path, outside_legends=True)
