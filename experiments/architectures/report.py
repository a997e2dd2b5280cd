"""The study's report, from the cell records alone: five tables, the verdicts and two figures."""
from __future__ import annotations

from typing import Any, Mapping

import jax
import jax.numpy as jnp
import numpy as np
from ml_collections import ConfigDict

from experiments.architectures import claims
from experiments.architectures.cells import HEADS, STRIDED, head_cell
from jaxdl.models import build_model
from jaxdl.report import plots, tables
from jaxdl.report.tables import Table
from jaxdl.study import CellRecord, Report

HEAD_LABELS = {"dense": "fully connected (flatten, dense 100, dense 10)", "gap": "global average pooling (1x1 "
               "convs 100 and 10 at every position, then the spatial mean)"}


def head_parameters(cnn: Mapping[str, Any], head: str) -> int:
  """The parameters of the CNN's head (everything after the convolutional stages)."""
  model = build_model("cnn", num_classes=10, overrides={**cnn, "head": head})
  params = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), jnp.zeros((1, 28, 28, 1))))["params"]
  return sum(int(np.prod(leaf.shape)) for name, layer in params.items() if not name.startswith("conv")
             for leaf in jax.tree_util.tree_leaves(layer))


def report(config: ConfigDict, records: Mapping[str, CellRecord], out: Report) -> None:
  cnn = config.cnn.to_dict()
  counts = records["inception_counts"].results
  params = {head: head_parameters(cnn, head) for head in HEADS}
  accuracy = {d: {h: [r["test_acc"] for r in records[head_cell(h, d)].replicas] for h in HEADS}
              for d in config.datasets}
  first = config.datasets[0]
  strided = [r["test_acc"] for r in records[STRIDED].replicas]
  grads = records["aux_gradients"].results
  fcn = records["fcn"].results
  out.table("Inception (3a), 28x28x192 in: hand counts with and without the 1x1 bottlenecks", *count_table(counts))
  out.table("CNN heads: parameters and test accuracy (mean ± std over seeds)", *head_table(params, accuracy))
  out.table(f"Downsampling on {first}: 2x2 max pooling vs stride-2 convolutions (test accuracy)",
            *[["downsampling", "test accuracy (%)"],
              [["2x2 max pooling", tables.mean_std_text(accuracy[first]["dense"], scale=100, digits=2)],
               ["stride-2 convolutions", tables.mean_std_text(strided, scale=100, digits=2)]]])
  a = config.aux
  out.table(f"Gradient norm ||dL/dW_l|| at initialization, {a.depth}-layer {a.activation} MLP (width {a.width}), "
            f"auxiliary head after layer {a.aux_at} weighted {a.aux_weight:g}", *aux_table(grads))
  out.table("The dense head rewritten as convolutions", *fcn_table(fcn))
  out.claims([*claims.inception_claims(counts), *claims.head_claims(params, accuracy),
              claims.downsampling_claim(accuracy[first]["dense"], strided, first),
              claims.aux_claim(grads, a.aux_weight, a.aux_at), claims.fcn_claim(fcn)])
  out.figure("aux_gradients.png", plot_aux, grads, a.aux_at)
  out.figure("fcn_scores.png", plot_fcn, fcn)


def count_table(counts: Mapping[str, Mapping[str, int]]) -> Table:
  header = ["module", "weights (hand)", "weights (Flax)", "biases", "multiply-adds", "output channels"]
  body = [[arm, f"{c['weights']:,}", f"{c['flax_weights']:,}", f"{c['biases']:,}",
           f"{c['multiply_adds'] / 1e6:.1f} M", str(c["out_channels"])] for arm, c in counts.items()]
  return header, body


def head_table(params: Mapping[str, int], accuracy: Mapping[str, Mapping[str, Any]]) -> Table:
  header = ["head", "head parameters", *[f"{d} test accuracy (%)" for d in accuracy]]
  body = [[HEAD_LABELS[h], f"{params[h]:,}", *[tables.mean_std_text(accuracy[d][h], scale=100, digits=2)
                                                for d in accuracy]] for h in HEADS]
  return header, body


def aux_table(grads: Mapping[str, Any]) -> Table:
  depth = len(grads["with"][0])
  layers = sorted({0, depth // 4, depth // 2 - 1, depth // 2, depth - 1})
  header = ["layer", "log10 norm without the auxiliary head", "log10 norm with it", "ratio of the means"]
  body = []
  for l in layers:
    without, with_ = [g[l] for g in grads["without"]], [g[l] for g in grads["with"]]
    body.append([str(l + 1), tables.mean_std_text(np.log10(without), digits=2),
                 tables.mean_std_text(np.log10(with_), digits=2), f"{np.mean(with_) / np.mean(without):.3g}"])
  return header, body


def fcn_table(fcn: Mapping[str, Any]) -> Table:
  scores = np.asarray(fcn["scores"])
  per_digit = 28 // fcn["stride"]  # the map positions one digit apart
  predicted = [int(np.argmax(scores[i * per_digit])) for i in range(len(fcn["labels"]))]
  return (["quantity", "value"],
          [["max |logit difference| on the test images", f"{fcn['max_abs_logit_difference']:.2e} "
                                                         f"({fcn['examples']} images)"],
           ["canvas", f"{len(fcn['labels'])} test digits side by side, {len(scores)} map positions "
                      f"{fcn['stride']} pixels apart"],
           ["labels of the digits", ", ".join(map(str, fcn["labels"]))],
           ["predicted at the positions aligned with them", ", ".join(map(str, predicted))]])


def plot_aux(path: str, grads: Mapping[str, Any], aux_at: int) -> None:
  fig, ax = plots.plt.subplots(figsize=(6.5, 4.2))
  for arm, label in (("without", "main head only"), ("with", "with the auxiliary head")):
    g = np.asarray(grads[arm])
    layers = np.arange(1, g.shape[1] + 1)
    line, = ax.plot(layers, g.mean(0), marker="o", ms=3, label=label)
    ax.fill_between(layers, g.min(0), g.max(0), color=line.get_color(), alpha=0.15)
  ax.axvline(aux_at, color="gray", ls=":", lw=1, label=f"auxiliary head after layer {aux_at}")
  ax.set_yscale("log")
  ax.set_xlabel("hidden layer")
  ax.set_ylabel("||dL/dW|| at initialization (log scale)")
  ax.set_title("Gradient reaching each layer (seed mean, range shaded)", fontsize=10)
  plots.outside_legend(ax, fontsize=8)
  plots.save(fig, path, outside_legends=True)


def plot_fcn(path: str, fcn: Mapping[str, Any]) -> None:
  canvas, scores = np.asarray(fcn["canvas"]), np.asarray(fcn["scores"])
  fig, (top, bottom) = plots.plt.subplots(2, 1, figsize=(7, 5), gridspec_kw={"height_ratios": [1, 1.3]})
  top.imshow(canvas, cmap="gray")
  top.set_axis_off()
  top.set_title(f"Canvas of test digits {', '.join(map(str, fcn['labels']))}", fontsize=10)
  image = bottom.imshow(scores.T, aspect="auto", cmap="viridis", vmin=0, vmax=1)
  bottom.set_xlabel(f"map position (the 28x28 window starting {fcn['stride']} x position pixels from the left)")
  bottom.set_ylabel("class")
  bottom.set_yticks(range(10))
  bottom.set_title("Class probabilities of the fully convolutional net, per window", fontsize=10)
  fig.colorbar(image, ax=bottom, label="softmax probability")
  plots.save(fig, path)
