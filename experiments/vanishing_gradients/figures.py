"""The study's figures, drawn from each part's rows (see rows.py); gradient norms on log scales."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from ml_collections import ConfigDict

from jaxdl.report import plots

Row = dict[str, Any]
GRAD_LABEL = "|dL/dW| (Frobenius norm, mean over seeds)"
WHEN = {"grad_init": ("init", "-"), "grad_end": ("trained", "--")}


def _layer_curves(ax, row: Row, label: str, color: str, keys: dict[str, tuple[str, str]] = WHEN) -> None:
  """The seed-mean per-layer (or per-step) norm of `row[key]` [K, L] against 1..L, one line per key."""
  for key, (when, style) in keys.items():
    g = np.nanmean(np.asarray(row[key], float), axis=0)
    ax.semilogy(np.arange(1, len(g) + 1), g, style, color=color, label=f"{label} {when}")
  plots.integer_epochs(ax)  # layers and time steps: whole numbers too


def depth_grad_norms(path: str, rows: Sequence[Row], config: ConfigDict) -> None:
  """Per activation: the plain MLPs' per-layer gradient norm at init and trained, one colour a depth."""
  activations = list(dict.fromkeys(r["activation"] for r in rows))
  fig, axes = plots.plt.subplots(1, len(activations), figsize=(4.7 * len(activations), 4), squeeze=False)
  for ax, act in zip(axes[0], activations):
    plain = [r for r in rows if r["activation"] == act and r["variant"] == "plain"]
    for i, r in enumerate(plain):
      _layer_curves(ax, r, f"depth {r['depth']}", f"C{i}")
    ax.set(title=f"{act} ({plots.words(config.depth.kernel_init[act])} init)",
           xlabel="hidden layer (1 = next to the input)", ylabel=GRAD_LABEL)
  plots.outside_legend(axes[0][-1], fontsize=7)  # one colour a depth in every panel
  plots.save(fig, path, outside_legends=True)


def depth_fixes(path: str, rows: Sequence[Row], config: ConfigDict) -> None:
  """Per bounded activation: the deepest MLP plain and with each fix."""
  deepest = max(r["depth"] for r in rows)
  bounded = list(dict.fromkeys(r["activation"] for r in rows if r["activation"] != "relu"))
  fig, axes = plots.plt.subplots(1, max(len(bounded), 1), figsize=(5 * max(len(bounded), 1), 4), squeeze=False)
  for ax, act in zip(axes[0], bounded):
    for i, r in enumerate(x for x in rows if x["activation"] == act and x["depth"] == deepest):
      _layer_curves(ax, r, r["variant"].replace("_", " "), f"C{i}")
    ax.set(title=f"{act}, depth {deepest}: the fixes", xlabel="hidden layer (1 = next to the input)",
           ylabel=GRAD_LABEL)
    plots.outside_legend(ax, where="below", ncol=2, fontsize=7)
  plots.save(fig, path, outside_legends=True)


def degradation(path: str, rows: Sequence[Row], config: ConfigDict) -> None:
  """Training error (%) against epoch, and the trained per-layer gradient norm; plain nets dashed."""
  fig, axes = plots.plt.subplots(1, 2, figsize=(11, 4))
  for i, r in enumerate(rows):
    style = "--" if r["plain"] else "-"
    train = np.nanmean(np.asarray(r["train_err_curve"], float), axis=1) * 100
    axes[0].plot(np.arange(1, len(train) + 1), train, style, color=f"C{i}", label=f"{r['net']} train")
    g = np.nanmean(np.asarray(r["grad_end"], float), axis=0)
    axes[1].semilogy(np.arange(1, len(g) + 1), g, style, color=f"C{i}", label=f"{r['net']} trained")
  axes[0].set(xlabel="epoch", ylabel="training error (%)", title="degradation: training error")
  if not plots.log_if_spans_decades(axes[0], [line.get_ydata() for line in axes[0].get_lines()], plain=True):
    plots.percent_axis(axes[0])
  axes[1].set(xlabel="conv layer (1 = next to the input)", ylabel=GRAD_LABEL,
              title="per-layer gradient norm (end of training)")
  for ax in axes:
    plots.integer_epochs(ax)
    plots.outside_legend(ax, fontsize=7)
  plots.save(fig, path, outside_legends=True)


def adding_grad_through_time(path: str, rows: Sequence[Row], config: ConfigDict) -> None:
  """Per sequence length: ||dL/dh_t|| against t, each RNN cell at init (dotted) and trained."""
  lengths = sorted({r["length"] for r in rows})
  keys = {"hidden_grad_init": ("init", ":"), "hidden_grad_end": ("trained", "-")}
  fig, axes = plots.plt.subplots(1, len(lengths), figsize=(5 * len(lengths), 4), squeeze=False)
  for ax, length in zip(axes[0], lengths):
    for i, r in enumerate(x for x in rows if x["length"] == length):
      _layer_curves(ax, r, r["cell"], f"C{i}", keys)
    ax.set(title=f"adding problem, T={length}", xlabel="time step t",
           ylabel="||dL/dh_t|| (L2 norm, mean over sequences and seeds)")
  plots.outside_legend(axes[0][-1], fontsize=7)  # the same cells in every panel
  plots.save(fig, path, outside_legends=True)


FIGURES = {
    "depth": [("depth_grad_norms.png", depth_grad_norms), ("depth_fixes.png", depth_fixes)],
    "degradation": [("degradation.png", degradation)],
    "adding": [("adding_grad_through_time.png", adding_grad_through_time)],
}
