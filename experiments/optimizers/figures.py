"""The study's figures: trajectories over each surface's contours (PNG, and GIF for some), and the
MNIST training cost per epoch and per learning rate."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.ticker import LogFormatterMathtext
from PIL import Image

from experiments.optimizers.trajectories import SurfaceRuns
from jaxdl.report import plots

COLORS = {"sgd": "black", "momentum": "tab:blue", "nesterov": "tab:cyan", "adagrad": "tab:green",
          "adadelta": "tab:olive", "rmsprop": "tab:purple", "adam": "tab:red",
          "adam_no_bias_correction": "tab:orange"}
LABELS = {"sgd": "SGD", "momentum": "momentum", "nesterov": "Nesterov", "adagrad": "AdaGrad", "adadelta": "Adadelta",
          "rmsprop": "RMSprop", "adam": "Adam", "adam_no_bias_correction": "Adam, no bias correction"}


def _lr_for(name: str, lr: float, adadelta_lr: float) -> float:
  return adadelta_lr if name == "adadelta" else lr


def _contours(ax, runs: SurfaceRuns) -> None:
  """Filled contours of f over the surface's bounds: log-spaced levels of f - f* (the saddle: linear)."""
  s = runs.surface
  (x0, x1), (y0, y1) = s.bounds
  x, y = np.meshgrid(np.linspace(x0, x1, 300), np.linspace(y0, y1, 300))
  f = np.asarray(s.value(np.stack([x, y])), float)
  if s.saddle is not None:
    cs = ax.contourf(x, y, f, levels=30, cmap="Greys_r", alpha=0.6)
    label = "f(x, y)"
  else:
    gap = np.maximum(f - s.min_value, 1e-6)
    levels = np.logspace(np.log10(max(gap.min(), 1e-4)), np.log10(gap.max()), 30)
    cs = ax.contourf(x, y, gap, levels=levels, norm=LogNorm(), cmap="Greys_r", alpha=0.6)
    label = "f - f* (log scale)"
  bar = ax.figure.colorbar(cs, ax=ax, label=label)
  if s.saddle is None:  # ticks at the powers of ten inside the levels
    bar.set_ticks(10.0 ** np.arange(np.ceil(np.log10(levels[0])), np.floor(np.log10(levels[-1])) + 1))
    bar.ax.yaxis.set_major_formatter(LogFormatterMathtext())
    bar.ax.minorticks_off()
  ax.plot(*s.minimum, marker="*", color="gold", ms=14, mec="black", zorder=5, ls="none", label="minimum")
  ax.set_xlim(x0, x1)
  ax.set_ylim(y0, y1)
  ax.set_xlabel("x")
  ax.set_ylabel("y")
  plots.image_axes(ax)


def _path(runs: SurfaceRuns, name: str, lr: float) -> np.ndarray:
  """The first start's path at `lr` [points, 2], cut where it leaves the plot far behind (or is not finite)."""
  p = np.asarray(runs.results["paths"][name][runs.lr_index(lr)], float)
  (x0, x1), (y0, y1) = runs.surface.bounds
  far = ~np.isfinite(p).all(-1) | (np.abs(p[:, 0]) > 10 * max(abs(x0), abs(x1))) | \
      (np.abs(p[:, 1]) > 10 * max(abs(y0), abs(y1)))
  return p[:np.argmax(far)] if far.any() else p


def plot_surface(path: str, runs: SurfaceRuns, claim_lr: float, adadelta_lr: float,
                 best: Mapping[str, float]) -> None:
  """Two panels: every optimizer at the claim lr (Adadelta at its own), and each at its best grid lr."""
  fig, axes = plots.plt.subplots(1, 2, figsize=(13, 7))
  panels = [(axes[0], {n: _lr_for(n, claim_lr, adadelta_lr) for n in runs.results["paths"]},
             f"same lr {claim_lr:g} (Adadelta {adadelta_lr:g})"),
            (axes[1], dict(best), "each at its best grid lr")]
  for ax, lrs, title in panels:
    _contours(ax, runs)
    for name, lr in lrs.items():
      p = _path(runs, name, lr)
      ax.plot(p[:, 0], p[:, 1], color=COLORS.get(name), lw=1.4, alpha=0.9,
              label=f"{LABELS.get(name, name)} (lr {lr:g})")
    ax.plot(*runs.surface.start, marker="o", color="white", mec="black", ms=7, ls="none", zorder=5,
            label="start")
    ax.set_title(f"{runs.surface.title}:\n{title}, {runs.spec['steps']} steps", fontsize=10)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3)
  plots.save(fig, path, outside_legends=True)


def animate_surface(path: str, runs: SurfaceRuns, claim_lr: float, adadelta_lr: float, frames: int = 60) -> None:
  """An animated GIF of every optimizer's path at the claim lr (Adadelta at its own), step by step.

  The contours and legend are drawn once; each frame redraws only the paths on a copy of them (a full
  matplotlib redraw per frame took seconds)."""
  fig, ax = plots.plt.subplots(figsize=(7, 6.3), dpi=70)
  _contours(ax, runs)
  steps = np.asarray(runs.results["path_steps"])
  lines, heads, paths = [], [], []
  for name in runs.results["paths"]:
    lr = _lr_for(name, claim_lr, adadelta_lr)
    paths.append(_path(runs, name, lr))
    lines.append(ax.plot([], [], color=COLORS.get(name), lw=1.4, label=f"{LABELS.get(name, name)} (lr {lr:g})")[0])
    heads.append(ax.plot([], [], marker="o", color=COLORS.get(name), ms=5)[0])
  # Below the axes (the colorbar is on the right); the frames' size is fixed: tight_layout makes room for it.
  plots.outside_legend(ax, where="below", ncol=2, fontsize=7)
  ax.set_title(runs.surface.title)
  fig.tight_layout()
  fig.canvas.draw()
  background = fig.canvas.copy_from_bbox(fig.bbox)
  step_text = ax.text(0.98, 0.02, "", transform=ax.transAxes, ha="right", va="bottom", fontsize=9,
                      bbox=dict(facecolor="white", alpha=0.8, lw=0))
  images = []
  for i in np.unique(np.linspace(0, len(steps) - 1, frames).round().astype(int)):
    fig.canvas.restore_region(background)
    for line, head, p in zip(lines, heads, paths):
      q = p[:i + 1]
      line.set_data(q[:, 0], q[:, 1])
      head.set_data(q[-1:, 0], q[-1:, 1])
      ax.draw_artist(line)
      ax.draw_artist(head)
    step_text.set_text(f"step {steps[i]}")
    ax.draw_artist(step_text)
    images.append(Image.fromarray(np.asarray(fig.canvas.buffer_rgba())).convert("RGB"))
  plots.plt.close(fig)
  images[0].save(path, save_all=True, append_images=images[1:], duration=125, loop=0)


def plot_training_cost(path: str, rows: Sequence[dict[str, Any]], best: Mapping[str, float | None], net: str) -> None:
  """Kingma & Ba's Fig. 2(a): training cost per epoch (log axis), each optimizer at its best lr; the line is
  the seed mean, the band the seeds' range."""
  fig, ax = plots.plt.subplots(figsize=(7.5, 4.5))
  for name, lr in best.items():
    curves = np.array([r["curve"] for r in rows if r["optimizer"] == name and r["lr"] == lr], float)
    if lr is None or not len(curves):
      continue
    epochs = np.arange(1, curves.shape[1] + 1)
    ax.plot(epochs, np.nanmean(curves, 0), color=COLORS.get(name), label=f"{LABELS.get(name, name)} (lr {lr:g})")
    ax.fill_between(epochs, np.nanmin(curves, 0), np.nanmax(curves, 0), color=COLORS.get(name), alpha=0.2)
  ax.set_yscale("log")
  ax.set_xlabel("epoch")
  plots.integer_epochs(ax)
  ax.set_ylabel("training cost (cross-entropy, nats)")
  ax.set_title(f"MNIST, {net}\n(mean minibatch cost with dropout on; band: the seeds' range)", fontsize=9)
  plots.outside_legend(ax, fontsize=8)
  plots.save(fig, path, outside_legends=True)


def plot_lr_sensitivity(path: str, rows: Sequence[dict[str, Any]], net: str) -> None:
  """Final training cost against lr per optimizer, log-log; error bars the std over seeds, crosses the
  lrs where a seed diverged."""
  fig, ax = plots.plt.subplots(figsize=(6.5, 4.5))
  for name in dict.fromkeys(r["optimizer"] for r in rows):
    lrs = sorted({r["lr"] for r in rows if r["optimizer"] == name})
    costs = [[r["final_cost"] for r in rows if r["optimizer"] == name and r["lr"] == lr] for lr in lrs]
    ok = [all(np.isfinite(c)) for c in costs]
    mean = [np.mean(c) if good else np.nan for c, good in zip(costs, ok)]
    std = [np.std(c, ddof=1) if good and len(c) > 1 else 0.0 for c, good in zip(costs, ok)]
    ax.errorbar(lrs, mean, yerr=std, marker="o", ms=4, capsize=2, color=COLORS.get(name), label=LABELS.get(name, name))
    lost = [lr for lr, good in zip(lrs, ok) if not good]
    if lost:
      top = np.nanmax([m for m in mean if np.isfinite(m)] or [1.0])
      ax.plot(lost, [top * 2] * len(lost), marker="x", ls="none", color=COLORS.get(name))
  ax.set_xscale("log")
  ax.set_yscale("log")
  ax.set_xlabel("learning rate")
  ax.set_ylabel("final training cost (last epoch, log scale)")
  ax.set_title(f"MNIST learning-rate sensitivity (x: a seed diverged)\n{net}", fontsize=9)
  plots.outside_legend(ax, fontsize=8)
  plots.save(fig, path, outside_legends=True)


def plot_bias_correction(path: str, surfaces: Mapping[str, SurfaceRuns], claim_lr: Mapping[str, float],
                         b1: float, b2: float) -> None:
  """Adam's step length per step / lr, with and without bias correction, over each surface's first steps (the
  first start, at the claim lr): the uncorrected steps start (1 - b1) / sqrt(1 - b2) times longer."""
  fig, axes = plots.plt.subplots(1, len(surfaces), figsize=(4 * len(surfaces), 3.6), squeeze=False)
  for ax, (name, runs) in zip(axes[0], surfaces.items()):
    lr = claim_lr[name]
    steps = np.asarray(runs.results["path_steps"])
    full = int(np.argmax(np.diff(steps) > 1)) if np.any(np.diff(steps) > 1) else len(steps) - 1  # step-by-step part
    for optimizer in ("adam", "adam_no_bias_correction"):
      p = np.asarray(runs.results["paths"][optimizer][runs.lr_index(lr)], float)[:full + 1]
      length = np.linalg.norm(np.diff(p, axis=0), axis=-1) / lr
      ax.plot(np.arange(1, len(length) + 1), length, color=COLORS[optimizer], label=LABELS[optimizer])
    # A first step moves each coordinate by lr (corrected) or (1 - b1) / sqrt(1 - b2) lr: length x sqrt(2).
    for scale, label in ((1.0, "predicted first step, corrected"),
                         ((1 - b1) / np.sqrt(1 - b2), "predicted first step, uncorrected")):
      ax.axhline(scale * np.sqrt(2), color=COLORS["adam" if scale == 1.0 else "adam_no_bias_correction"], ls=":",
                 lw=1, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    plots.integer_epochs(ax)
    ax.set_ylabel("step length / lr (unitless)")
    ax.set_title(f"{runs.surface.title} (lr {lr:g})", fontsize=9)
  plots.outside_legend(axes[0][-1], fontsize=7)  # the same lines in every panel
  plots.save(fig, path, outside_legends=True)
