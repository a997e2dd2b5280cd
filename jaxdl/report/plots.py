"""PNG figures (matplotlib, headless Agg backend)."""
from __future__ import annotations

from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def learning_curves(path: str, epochs: Sequence[int], curves: dict[str, np.ndarray],
                    labels: Sequence[str], title: str = "") -> None:
  """One panel per metric; each curve array is [epochs, K], one line per replica."""
  fig, axes = plt.subplots(1, len(curves), figsize=(4.5 * len(curves), 3.5), squeeze=False)
  for ax, (metric, values) in zip(axes[0], curves.items()):
    values = np.asarray(values, dtype=float)
    for k in range(values.shape[1]):
      ax.plot(epochs, values[:, k], label=labels[k], alpha=0.8)
    ax.set_xlabel("epoch")
    ax.set_title(metric)
    if metric.endswith("loss") and np.all(values[np.isfinite(values)] > 0):
      ax.set_yscale("log")
  if len(labels) <= 12:
    axes[0][-1].legend(fontsize=7)
  fig.suptitle(title)
  save(fig, path)


def save(fig, path: str, outside_legends: bool = False) -> None:
  """Every jaxdl figure: tight layout, 110 dpi PNG, and the figure closed (no leaks in sweeps).
  outside_legends: the saved area takes in what lies outside the axes (legends, colorbars)."""
  fig.tight_layout()
  fig.savefig(path, dpi=110, bbox_inches="tight" if outside_legends else None)
  plt.close(fig)
