"""PNG figures (matplotlib, headless Agg backend), and the one style every jaxdl figure shares.

The style (STYLE) is applied on import, so every module that draws through `plots.plt` gets it. The
helpers carry the checklist each figure follows: axes labelled with units, titles in words, a log
scale where values span decades, class names, accuracy and error in % as the tables show them,
integer epoch ticks, and legends that do not cover data (`outside_legend` + `save(...,
outside_legends=True)`)."""
from __future__ import annotations

import re
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

# Modest: readable at the 110 dpi `save` writes, a light grid to read values off, no box around the data.
STYLE = {
    "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "xtick.labelsize": 8, "ytick.labelsize": 8,
    "legend.fontsize": 8, "figure.titlesize": 11,
    "axes.grid": True, "axes.axisbelow": True, "grid.alpha": 0.3, "grid.linewidth": 0.5,
    "axes.spines.top": False, "axes.spines.right": False,
    "legend.framealpha": 0.85,
}
matplotlib.rcParams.update(STYLE)

# Names as figures show them; the data layer only knows class indices and registry names.
CLASS_NAMES = {
    "mnist": tuple(str(d) for d in range(10)),
    "fashion_mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                      "Ankle boot"),
}
NAMES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "mnist1d": "MNIST-1D", "mlp": "MLP", "cnn": "CNN",
         "rnn": "RNN", "birnn": "BiRNN", "resnet": "ResNet", "lstm": "LSTM", "gru": "GRU"}
_WORDS = {"acc": "accuracy", "err": "error", "val": "validation", "train": "training", "lr": "learning rate",
          "adv": "adv. trained"}


def class_name(dataset: str, label: int) -> str:
  """The class's name where the dataset has one (Fashion-MNIST), else its number."""
  names = CLASS_NAMES.get(dataset)
  return names[label] if names and 0 <= label < len(names) else str(label)


def words(name: str) -> str:
  """A registry or metric name in words: 'fashion_mnist' -> 'Fashion-MNIST', 'test_acc' -> 'test accuracy'."""
  if name in NAMES:
    return NAMES[name]
  return " ".join(NAMES.get(w, _WORDS.get(w, w)) for w in name.split("_"))


def title_words(text: str) -> str:
  """Registry names inside a title in words ('mlp on fashion_mnist' -> 'MLP on Fashion-MNIST'): the known
  names, and any other whole snake_case token (parts of 2+ letters, so math like dh_t is left alone)."""
  text = re.sub(r"\b(" + "|".join(sorted(map(re.escape, NAMES), key=len, reverse=True)) + r")\b",
                lambda m: NAMES[m.group(1)], text)
  return re.sub(r"(?<![\w/])[a-z][a-z0-9]+(?:_[a-z0-9]{2,})+(?![\w/])", lambda m: words(m.group(0)), text)


def is_fraction_metric(metric: str) -> bool:
  """Accuracy and error metrics: recorded as fractions, shown in % as the tables show them."""
  return any(w in ("acc", "accuracy", "err", "error") for w in metric.split("_"))


def metric_label(metric: str) -> str:
  """An axis label for a recorded metric: 'test_acc' -> 'test accuracy (%)'."""
  text = words(metric)
  if is_fraction_metric(metric):
    return f"{text} (%)"
  if metric.endswith("loss"):
    return f"{text} (epoch mean)"
  return text


def percent_axis(ax, label: str | None = None, axis: str = "y", full: bool = False) -> None:
  """An axis whose values are already in % (0-100): its label says so, and it never shows beyond
  0-100 (autoscale margins would); `full`: exactly 0-100, where the whole range is the point.
  Call it after drawing: it fixes the limits autoscaling chose."""
  if label is not None:
    getattr(ax, f"set_{axis}label")(label if label.rstrip().endswith("(%)") else f"{label} (%)")
  if full:
    getattr(ax, f"set_{axis}lim")(0, 100)
  else:
    lo, hi = getattr(ax, f"get_{axis}lim")()
    getattr(ax, f"set_{axis}lim")(max(lo, 0.0), min(hi, 100.0))


def integer_epochs(ax, axis: str = "x") -> None:
  """Whole-number ticks: with a few epochs matplotlib would tick 0.5, 1.5, ..."""
  getattr(ax, f"{axis}axis").set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))


def _flat(values) -> np.ndarray:
  """One float array from an array, numbers, or arrays of different lengths (e.g. each line's data)."""
  if isinstance(values, np.ndarray):
    return values.astype(float).ravel()
  parts = [np.ravel(np.asarray(v, dtype=float)) for v in values]
  return np.concatenate(parts) if parts else np.array([])


def log_if_spans_decades(ax, values, axis: str = "y", decades: float = 1.0, plain: bool = False) -> bool:
  """A log scale where the finite positive values span more than `decades` powers of ten (on a linear
  axis the small values would sit flat on zero); returns whether it set one. Non-positive values are
  not drawn on a log axis, so it is not set where any finite value is <= 0. `plain`: ticks as plain
  numbers (0.1, 1, 10: for percentages) rather than powers of ten."""
  v = _flat(values)
  v = v[np.isfinite(v)]
  if not v.size or (v <= 0).any() or v.max() / v.min() <= 10 ** decades:
    return False
  getattr(ax, f"set_{axis}scale")("log")
  if plain:  # the minor ticks too: matplotlib writes them as 6x10^0
    for set_formatter in ("set_major_formatter", "set_minor_formatter"):
      getattr(getattr(ax, f"{axis}axis"), set_formatter)(FuncFormatter(lambda x, _: f"{x:g}"))
  return True


def outside_legend(ax, where: str = "right", ncol: int | None = None, **kwargs):
  """The axes' legend outside them, so it never covers data: to the right (default), or below the
  x label (`where="below"`, for wide panels). Save with `save(..., outside_legends=True)` so the saved
  area takes it in. Returns the legend, or None where nothing is labelled."""
  handles, labels = ax.get_legend_handles_labels()
  if not handles:
    return None
  if where == "below":
    return ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=ncol or min(len(handles), 3),
                     borderaxespad=0.0, **kwargs)
  return ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), ncol=ncol or 1, borderaxespad=0.0, **kwargs)


def image_axes(ax) -> None:
  """An axes that shows an image or filled contours: the style's grid would draw over it, and a
  picture reads better framed on all four sides."""
  ax.grid(False)
  for side in ("top", "right"):
    ax.spines[side].set_visible(True)


def learning_curves(path: str, epochs: Sequence[int], curves: dict[str, np.ndarray],
                    labels: Sequence[str], title: str = "") -> None:
  """One panel per metric; each curve array is [epochs, K], one line per replica. Accuracy and error in %,
  a loss on a log scale where it spans a decade, the replicas' legend right of the last panel."""
  fig, axes = plt.subplots(1, len(curves), figsize=(4.2 * len(curves), 3.5), squeeze=False)
  for ax, (metric, values) in zip(axes[0], curves.items()):
    values = np.asarray(values, dtype=float)
    if is_fraction_metric(metric):
      values = 100 * values
    for k in range(values.shape[1]):
      ax.plot(epochs, values[:, k], label=labels[k], alpha=0.8)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric_label(metric))
    ax.set_title(words(metric))
    integer_epochs(ax)
    if is_fraction_metric(metric):
      percent_axis(ax)
    elif metric.endswith("loss"):
      log_if_spans_decades(ax, values)
  if len(labels) <= 12:
    outside_legend(axes[0][-1], fontsize=7)
  fig.suptitle(title_words(title))
  save(fig, path, outside_legends=True)


def save(fig, path: str, outside_legends: bool = False) -> None:
  """Every jaxdl figure: tight layout, 110 dpi PNG, and the figure closed (no leaks in sweeps).
  outside_legends: the saved area takes in what lies outside the axes (legends, colorbars)."""
  fig.tight_layout()
  fig.savefig(path, dpi=110, bbox_inches="tight" if outside_legends else None)
  plt.close(fig)
