"""The study's report, from the cell records alone: four tables, the verdicts and five figures."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from ml_collections import ConfigDict

from experiments.visualize import claims
from experiments.visualize.cells import cnn_cell
from experiments.visualize.measures import METHODS
from jaxdl.report import plots, tables
from jaxdl.report.tables import Table
from jaxdl.study import CellRecord, Report

PCT = dict(scale=100, digits=1)


def report(config: ConfigDict, records: Mapping[str, CellRecord], out: Report) -> None:
  measured = {d: records[cnn_cell(d)].measurements["replicas"] for d in config.datasets}
  accuracy = {d: [r["test_acc"] for r in records[cnn_cell(d)].replicas] for d in config.datasets}
  fractions = list(config.explain.fractions)
  out.table("The CNNs explained (test accuracy, mean ± std over seeds)",
            ["dataset", "test accuracy (%)"],
            [[d, tables.mean_std_text(a, scale=100, digits=2)] for d, a in accuracy.items()])
  out.table(f"Sanity check: Spearman rank correlation of each method's map, trained vs randomized weights "
            f"({config.explain.images} test images, true class)", *sanity_table(measured))
  out.table("Deletion: mean true-class probability after removing pixels (%)", *deletion_table(measured, fractions))
  out.table(f"Activation maximization: class probability under input noise (std {config.maximize.noise_std:g}) "
            "of the maximized class images (%)", *maximization_table(measured))
  out.claims(claims.all_claims(measured, fractions, config.maximize.noise_std))
  first = config.datasets[0]
  pictures = {d: m[0]["pictures"] for d, m in measured.items()}
  out.figure("filters_and_feature_maps.png", plot_filters, pictures[first], first)
  out.figure("explanations.png", plot_explanations, pictures)
  out.figure("deletion.png", plot_deletion, measured, fractions)
  out.figure("maximized.png", plot_maximized, pictures)
  out.figure("embedding.png", plot_embedding, pictures)


def sanity_table(measured: Mapping[str, Sequence[Mapping[str, Any]]]) -> Table:
  header = ["dataset", *METHODS]
  body = [[d, *[tables.mean_std_text([r["spearman_vs_randomized"][m] for r in reps], digits=3) for m in METHODS]]
          for d, reps in measured.items()]
  return header, body


def deletion_table(measured: Mapping[str, Sequence[Mapping[str, Any]]], fractions: Sequence[float]) -> Table:
  header = ["dataset", "pixels removed", *[f"{100 * f:g}%" for f in fractions]]
  body = []
  for d, reps in measured.items():
    for how in ("salient", "random"):
      body.append([d, "most salient first" if how == "salient" else "random",
                   *[tables.mean_std_text([r["deletion"][how][i] for r in reps], **PCT) for i in range(len(fractions))]])
  return header, body


def maximization_table(measured: Mapping[str, Sequence[Mapping[str, Any]]]) -> Table:
  header = ["dataset", "without regularizers", "with L2 decay, blur and clipping"]
  body = [[d, *[tables.mean_std_text([r["maximized_noisy_probability"][arm] for r in reps], **PCT)
                for arm in ("plain", "regularized")]] for d, reps in measured.items()]
  return header, body


def plot_filters(path: str, pictures: Mapping[str, Any], dataset: str) -> None:
  filters = np.asarray(pictures["filters"])
  maps = [np.asarray(stage) for stage in pictures["feature_maps"]]
  columns = max(len(filters), max(len(m) for m in maps) + 1)
  fig, axes = plots.plt.subplots(1 + len(maps), columns, figsize=(columns * 0.9, 1.1 * (1 + len(maps))))
  for ax in np.ravel(axes):
    ax.set_axis_off()
  for i, f in enumerate(filters):
    axes[0][i].imshow(f, cmap="gray")
  axes[0][0].set_title(f"first-layer filters ({dataset})", fontsize=8, loc="left")
  axes[1][0].imshow(np.asarray(pictures["image"]), cmap="gray")
  for row, stage in enumerate(maps, start=1):
    for j, m in enumerate(stage):
      axes[row][j + 1].imshow(m, cmap="viridis")
    axes[row][1].set_title(f"conv stage {row}: feature maps of the image (first {len(stage)})", fontsize=8,
                           loc="left")
  plots.save(fig, path)


def plot_explanations(path: str, pictures: Mapping[str, Mapping[str, Any]]) -> None:
  rows = [(d, weights) for d in pictures for weights in ("maps", "random_maps")]
  fig, axes = plots.plt.subplots(len(rows), 1 + len(METHODS), figsize=(2.2 * (1 + len(METHODS)), 2.2 * len(rows)))
  axes = np.atleast_2d(axes)
  for r, (d, weights) in enumerate(rows):
    p = pictures[d]
    axes[r][0].imshow(np.asarray(p["image"]), cmap="gray")
    axes[r][0].set_title(f"{d}, class {p['label']}" + (" (trained)" if weights == "maps" else " (random weights)"),
                         fontsize=7)
    for c, m in enumerate(METHODS, start=1):
      axes[r][c].imshow(np.asarray(p[weights][m]), cmap="inferno")
      axes[r][c].set_title(m, fontsize=8)
  for ax in np.ravel(axes):
    ax.set_axis_off()
  plots.save(fig, path)


def plot_deletion(path: str, measured: Mapping[str, Sequence[Mapping[str, Any]]], fractions: Sequence[float]) -> None:
  fig, ax = plots.plt.subplots(figsize=(6.5, 4.2))
  x = 100 * np.asarray(fractions)
  for d, reps in measured.items():
    for how, style in (("salient", "-"), ("random", "--")):
      values = 100 * np.asarray([r["deletion"][how] for r in reps])
      ax.errorbar(x, values.mean(0), yerr=values.std(0), ls=style, marker="o", ms=3, capsize=2,
                  label=f"{d}: {'most salient' if how == 'salient' else 'random'} pixels removed")
  ax.set_xlabel("pixels removed (%)")
  ax.set_ylabel("true-class probability (%)")
  ax.set_title("Deletion curve (seed mean ± std)", fontsize=10)
  plots.outside_legend(ax, fontsize=7)
  plots.save(fig, path, outside_legends=True)


def plot_maximized(path: str, pictures: Mapping[str, Mapping[str, Any]]) -> None:
  rows = [(d, arm) for d in pictures for arm in ("plain", "regularized")]
  classes = len(pictures[next(iter(pictures))]["maximized"]["plain"])
  fig, axes = plots.plt.subplots(len(rows), classes, figsize=(classes * 1.0, 1.2 * len(rows)))
  axes = np.atleast_2d(axes)
  for r, (d, arm) in enumerate(rows):
    for c, img in enumerate(pictures[d]["maximized"][arm]):
      axes[r][c].imshow(np.asarray(img), cmap="gray")
      axes[r][c].set_axis_off()
    axes[r][0].set_title(f"{d}, {arm}", fontsize=7, loc="left")
  plots.save(fig, path)


def plot_embedding(path: str, pictures: Mapping[str, Mapping[str, Any]]) -> None:
  fig, axes = plots.plt.subplots(1, len(pictures), figsize=(5.5 * len(pictures), 4.5), squeeze=False)
  for ax, (d, p) in zip(axes[0], pictures.items()):
    coords, labels = np.asarray(p["pca"]), np.asarray(p["pca_labels"])
    scatter = ax.scatter(coords[:, 0], coords[:, 1], c=labels, cmap="tab10", s=5, vmin=-0.5, vmax=9.5)
    ax.set_title(f"{d}: penultimate features, PCA ({100 * p['pca_explained']:.0f}% of the variance)", fontsize=9)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    fig.colorbar(scatter, ax=ax, ticks=range(10), label="class")
  plots.save(fig, path)
