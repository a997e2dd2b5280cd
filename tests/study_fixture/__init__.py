"""A three-cell study on synthetic data (two trained, one measurement): the scaffold's test subject."""
from __future__ import annotations

import os

import numpy as np

from experiments.configs import train_config
from jaxdl.report import plots, tables
from jaxdl.report.claims import Claim
from jaxdl.study import MeasureCell, Study, TrainCell


def cells(config):
  trained = [TrainCell(f"lr_{name}", train_config(config.train, optim={"lr": lr}))
             for name, lr in (("small", config.lr), ("large", config.lr * 10))]

  def accuracies(ctx):
    return {c.name: float(np.mean([r["test_acc"] for r in ctx.record(c.name).replicas])) for c in trained}

  return [*trained, MeasureCell("accuracies", {"of": [c.name for c in trained]}, accuracies,
                                needs=tuple(c.name for c in trained))]


def _plot_accuracies(path, accuracies):
  fig, ax = plots.plt.subplots(figsize=(3, 2.5))
  ax.bar(list(accuracies), [100 * v for v in accuracies.values()])
  ax.set_ylabel("test accuracy (%)")
  plots.save(fig, path)


def report(config, records, out):
  out.table("test accuracy", ["cell", "test acc (%)"],
            [[name, tables.mean_std_text([r["test_acc"] for r in rec.replicas], 100)]
             for name, rec in records.items() if rec.replicas])
  acc = records["accuracies"].results
  out.claims([Claim("fixture", "the larger lr reaches a higher test accuracy",
                    acc["lr_large"] > acc["lr_small"], ", ".join(f"{k} {v:.4f}" for k, v in acc.items()))])
  out.figure("accuracies.png", _plot_accuracies, acc)


STUDY = Study("study_fixture", "Test fixture: two learning rates on synthetic data",
              os.path.join(os.path.dirname(__file__), "config.py"), cells, report)
