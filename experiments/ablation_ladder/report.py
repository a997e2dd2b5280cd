"""The report: one table (a row per rung, per dataset its number and its step from the rung
before), the claims, and the ladder figure; from the cell records alone."""
from __future__ import annotations

import math
from typing import Mapping, Sequence

from ml_collections import ConfigDict

from experiments.ablation_ladder.cells import plan
from experiments.ablation_ladder.claims import ladder_claims
from experiments.ablation_ladder.results import RungResult, find, rung_names, rung_results
from jaxdl.report import plots, tables
from jaxdl.study import CellRecord, Report


def ladder_table(datasets: Sequence[str], rows: Sequence[RungResult]) -> tuple[list[str], list[list[str]]]:
  """One row per rung: the book's number, then per dataset the measured number (%) and the step
  (points) from the rung before; on MNIST also the gap to the book."""
  header = ["rung", "adds", "book (MNIST)"]
  for d in datasets:
    header += [f"{d} (%)", f"{d} vs previous rung"]
    if d == "mnist":
      header.append("mnist vs book")
  names = rung_names(rows)
  body = []
  for i, name in enumerate(names):
    first = find(rows, datasets[0], name)
    cells = [name, first.adds, "" if first.book is None else f"{first.book:.2f}"]
    for d in datasets:
      row = find(rows, d, name)
      mean = tables.mean_std(row.accs)[0]
      prev = tables.mean_std(find(rows, d, names[i - 1]).accs)[0] if i else math.nan
      note = f" (members {tables.mean_std_text(row.member_accs, 100)})" if row.member_accs is not None else ""
      cells += [tables.mean_std_text(row.accs, 100) + note, f"{100 * (mean - prev):+.2f}" if i else ""]
      if d == "mnist":
        cells.append(f"{100 * mean - first.book:+.2f}" if first.book is not None and math.isfinite(mean) else "")
    body.append(cells)
  return header, body


def plot_ladder(path: str, ladder: str, datasets: Sequence[str], rows: Sequence[RungResult]) -> None:
  """Mean ± std (%) per rung, one panel per dataset, with the book's MNIST numbers where the ladder has
  them all. Each panel's accuracy axis spans its own values (not 0-100, nor a shared range across datasets
  several points apart): the ladder is about steps of a few tenths of a point."""
  names = rung_names(rows)
  books = [find(rows, datasets[0], n).book for n in names]
  fig, axes = plots.plt.subplots(1, len(datasets), figsize=(len(datasets) * (0.75 * len(names) + 2.5), 3.8),
                                 squeeze=False)
  for i, (ax, d) in enumerate(zip(axes[0], datasets)):
    stats = [tables.mean_std(find(rows, d, n).accs) for n in names]
    ax.errorbar(range(len(names)), [100 * m for m, _, _ in stats], yerr=[100 * s for _, s, _ in stats],
                marker="o", capsize=3, color=f"C{i}", label="measured\n(mean ± std over seeds)")
    if d == "mnist" and all(b is not None for b in books):
      ax.plot(range(len(names)), books, "k--", marker="x", label="book (MNIST)")
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_xlabel("rung (each adds one idea to the one before)")
    ax.set_ylabel("test accuracy at best validation (%)")
    plots.percent_axis(ax)
    ax.set_title(plots.words(d))
    plots.outside_legend(ax, fontsize=8)
  fig.suptitle(f"Ablation ladder {plots.words(ladder)}")
  plots.save(fig, path, outside_legends=True)


def report(config: ConfigDict, records: Mapping[str, CellRecord], out: Report) -> None:
  ladder = plan(config)
  rows = rung_results(ladder, records)
  header, body = ladder_table(ladder.datasets, rows)
  out.table(f"Ladder {ladder.ladder}: % test accuracy at the epoch of best validation accuracy (a vote: "
            f"after the last epoch), mean ± std over seeds", header, body)
  out.claims(ladder_claims(ladder.datasets, rows, config.tolerance_sigmas))
  out.figure("ladder.png", plot_ladder, ladder.ladder, ladder.datasets, rows)
