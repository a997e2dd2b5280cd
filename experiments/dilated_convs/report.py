"""The study's report, from the cell records alone: three tables, the verdicts, the ERF figure."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from ml_collections import ConfigDict

from experiments.dilated_convs import claims
from experiments.dilated_convs.cells import MNIST1D_NETS, Net, context_nets, receptive_field_of
from experiments.dilated_convs.receptive_fields import CONTEXT_MODULE, ERF_STACKS
from jaxdl.report import plots
from jaxdl.report.tables import Table
from jaxdl.study import CellRecord, Report


def net_summaries(nets: Sequence[Net], records: Mapping[str, CellRecord]) -> list[dict[str, Any]]:
  """Per net: its label, shuffled, measurements (params, steps; dense cells' scores), receptive
  field and replicas (results.json rows)."""
  out = []
  for net in nets:
    record = records[net.name]
    out.append({"label": net.label, "shuffled": net.shuffled, **record.measurements,
                "receptive_field": receptive_field_of(record.config["model"], record.config["model_options"]),
                "replicas": record.replicas})
  return out


def _engine(train: ConfigDict) -> str:
  momentum = f" {train.optim.momentum:g}" if train.optim.name == "momentum" else ""
  return f"{train.optim.name}{momentum} lr {train.optim.lr:g}, batch {train.batch_size}; mean ± std over seeds"


def report(config: ConfigDict, records: Mapping[str, CellRecord], out: Report) -> None:
  fields = records["receptive_fields"].results
  mnist1d = net_summaries(MNIST1D_NETS, records)
  context = net_summaries(context_nets(config), records)
  c = config.context
  task = (f"dense digits: {c.n_train} train / {c.n_test} test canvases of {c.canvas}x{c.canvas} px, "
          f"{c.digits} digits of {c.digit_size} px")
  out.table("Receptive fields: analytical vs measured", *receptive_field_table(fields["rows"]))
  out.table(f"MNIST-1D ({_engine(config.mnist1d.train)})", *mnist1d_table(mnist1d))
  out.table(f"Context module, {task} ({_engine(c.train)})", *context_table(context))
  out.claims(claims.receptive_field_claims(fields) + claims.mnist1d_claims(mnist1d)
             + claims.context_module_claims(context))
  out.figure("erf.png", plot_erf, fields["erf"])


def _side(field: Sequence[int]) -> str:
  return "x".join(map(str, field))


def receptive_field_table(rows: Sequence[dict[str, Any]]) -> Table:
  header = ["stack", "layer", "dilation", "closed form", "analytical", "measured", "holes", "agree"]
  body = [[r["stack"], r["layer"], r["dilation"], r["closed_form"], _side(r["analytical"]),
           _side(r["measured"]), r["holes"], "yes" if r["agree"] else "NO"] for r in rows]
  return header, body


def mnist1d_table(nets: Sequence[dict[str, Any]]) -> Table:
  header = ["model", "spatial dim", "params", "receptive field", "steps", "train acc (%)",
            "test acc (%)", "paper test acc (%)"]
  body = []
  for n in nets:
    paper = claims.PAPER_MNIST1D.get(n["label"])
    body.append([n["label"], "shuffled" if n["shuffled"] else "ordered", n["params"],
                 n["receptive_field"] or "all (dense)", n["steps"], claims.pct(claims.accuracies(n, "train_acc")),
                 claims.pct(claims.accuracies(n)), paper[n["shuffled"]] if paper else "-"])
  return header, body


def context_table(nets: Sequence[dict[str, Any]]) -> Table:
  header = ["model", "params", "receptive field (px)", "steps", "train pixel acc (%)", "test pixel acc (%)",
            "test mean IoU (%)"]
  body = [[n["label"], n["params"], n["receptive_field"], n["steps"],
           claims.pct(claims.accuracies(n, "train_acc")), claims.pct(claims.dense_scores(n, "pixel_acc")),
           claims.pct(claims.dense_scores(n))] for n in nets]
  return header, body


def plot_erf(path: str, erf: Mapping[str, Any]) -> None:
  """ERF profiles per depth of the two 1-D stacks (log scale), and the context module's last ERF."""
  fig, axes = plots.plt.subplots(1, 3, figsize=(15, 4))
  for ax, name in zip(axes[:2], ERF_STACKS):
    profiles = np.asarray(erf[name])  # [layers, positions]
    offset = np.arange(profiles.shape[1]) - profiles.shape[1] // 2
    for i, profile in enumerate(profiles):
      ax.plot(offset, profile, label=f"depth {i + 1}")
    ax.set_yscale("log")
    ax.set_ylim(1e-6, 1)
    ax.set_xlabel("input position - centre (positions)")
    ax.set_ylabel("ERF (share of mean |gradient|)")
    plots.integer_epochs(ax)  # positions
    ax.set_title(f"ERF per depth: {name}")
    plots.outside_legend(ax, where="below", ncol=4, fontsize=7)
  ctx = np.asarray(erf[CONTEXT_MODULE])  # [rows, columns]
  half_rows, half_cols = ctx.shape[0] // 2, ctx.shape[1] // 2
  im = axes[2].imshow(np.log10(ctx + 1e-12), vmin=-8, cmap="viridis", origin="upper",
                      extent=(-half_cols - 0.5, ctx.shape[1] - half_cols - 0.5,
                              ctx.shape[0] - half_rows - 0.5, -half_rows - 0.5))
  axes[2].set_xlabel("input column - centre (px)")
  axes[2].set_ylabel("input row - centre (px)")
  axes[2].set_title(f"{CONTEXT_MODULE}, last layer: ERF")
  plots.image_axes(axes[2])
  fig.colorbar(im, ax=axes[2], label="log10 ERF (share of mean |gradient|)")
  plots.save(fig, path, outside_legends=True)
