"""The study's figures: per-layer statistics and training-loss curves, one panel per group."""
from __future__ import annotations

import textwrap
from typing import Mapping

import numpy as np

from experiments.init_study.analysis import mean_over_seeds
from jaxdl.report import plots

Series = Mapping[str, Mapping[str, np.ndarray]]  # panel title -> line label -> values


def _panels(count: int, title: str):
  fig, axes = plots.plt.subplots(1, count, figsize=(5.5 * count, 4), squeeze=False)
  fig.suptitle(textwrap.fill(plots.title_words(title), 45 * count))
  return fig, axes[0]


def _axes(ax, xlabel: str, ylabel: str, title: str, count: int, drawn: list[np.ndarray]) -> None:
  """Integer ticks 1..count on x; a log y scale where the drawn values span more than a decade;
  the legend below the panel (the lines fill it; a panel's labels may differ, e.g. '(diverged)')."""
  values = np.concatenate([v.ravel() for v in drawn]) if drawn else np.array([])
  plots.log_if_spans_decades(ax, values[np.isfinite(values) & (values > 0)])
  ax.set_xlim(0.5, count + 0.5)
  plots.integer_epochs(ax)
  ax.set_xlabel(xlabel)
  ax.set_ylabel(ylabel)
  ax.set_title(title)
  plots.outside_legend(ax, where="below", ncol=2, fontsize=7)


def per_layer(path: str, series: Series, ylabel: str, title: str, dashed: Series | None = None) -> None:
  """One line per label of a [L] value per hidden layer; `dashed`: same-colored dashed lines
  for the same labels (e.g. a prediction). Non-positive values are not drawn."""
  fig, axes = _panels(len(series), title)
  for ax, (group, lines) in zip(axes, series.items()):
    drawn = []
    for i, (label, values) in enumerate(lines.items()):
      drawn.append(np.where(np.asarray(values, float) > 0, values, np.nan))
      ax.plot(np.arange(1, len(drawn[-1]) + 1), drawn[-1], "-o", ms=3, color=f"C{i}", label=label)
      if dashed and label in dashed.get(group, {}):
        drawn.append(np.where(np.asarray(dashed[group][label], float) > 0, dashed[group][label], np.nan))
        ax.plot(np.arange(1, len(drawn[-1]) + 1), drawn[-1], "--", color=f"C{i}", alpha=0.6)
    _axes(ax, "hidden layer", ylabel, group, max((len(v) for v in drawn), default=1), drawn)
  plots.save(fig, path, outside_legends=True)


def training_loss(path: str, series: Series, title: str) -> None:
  """Mean training loss over the finite seeds per epoch, from [epochs, K] curves."""
  fig, axes = _panels(len(series), title)
  for ax, (group, lines) in zip(axes, series.items()):
    drawn = []
    for label, curve in lines.items():
      mean = mean_over_seeds(np.asarray(curve, float).T)
      if np.isfinite(mean).any():
        drawn.append(mean)
        ax.plot(np.arange(1, len(mean) + 1), mean, "-o", ms=3, label=label)
      else:
        ax.plot([], [], label=f"{label} (diverged)")
    epochs = max((len(np.asarray(c)) for c in lines.values()), default=1)
    _axes(ax, "epoch", "training loss (nats, cross-entropy)", group, epochs, drawn)
  plots.save(fig, path, outside_legends=True)
