"""Dilated convolutions and receptive fields (Yu & Koltun 2016; Luo et al. 2016; Greydanus 2020).

  python -m experiments.dilated_convs --preset=quick
  python -m experiments.dilated_convs --preset=full --workdir=runs/dilated_convs_full

Hardware: 2-core x86 CPU, no GPU, shared with other jobs (load average 8-15
while it ran, so times are inflated). Quick preset: 1397 s wall (8 min 20 s
of CPU user time). The full preset (8000 Adam steps per MNIST-1D cell, 5
seeds, all of Fashion-MNIST) was NOT run here.

Result (quick, 2 seeds): analytical = measured receptive field for all 24
layers of the four stacks (context module 3,5,9,17,33,65,67,67). MNIST-1D
test acc (400 steps): logistic 31.0, MLP 59.1, CNN 86.3 (paper 32/68/94);
shuffled: CNN 56.7 (paper 56), MLP 60.6. Dilated vs undilated (depth 4):
95.2 vs 95.3, no gain. Fashion-MNIST subset: front end 29.5, + context module
67.5 (identity init) / 70.5 (He init): identity init was not needed.

Three parts, each a function returning its rows and claims:
1. `receptive_field_study`: per layer, the analytical receptive field of 1-D
   stacks of 1x3 filters (undilated: 2i+1; dilations 1,2,4,...: 2^(i+1)-1),
   of 3x3 filters with dilation 2^i ((2^(i+2)-1)^2) and of Yu & Koltun's
   context module (3,5,9,17,33,65,67,67), against the field measured from
   input gradients of a randomly initialized `dilated`/`context_module` net,
   and the effective receptive field (ERF) profiles per depth.
2. `mnist1d_study`: logistic regression, the paper's MLP and CNN, the
   shuffled-positions control, dilated vs undilated CNNs of equal depth and
   width, and a shallow dilated CNN vs a deep undilated one of equal field.
3. `context_module_study`: a small conv front end on Fashion-MNIST (or
   --dataset) with global average pooling, alone, + context module with
   identity init, + context module with random (He) init.
"""
from __future__ import annotations

import dataclasses
import math
import os
import sys
import time
from typing import Any, Callable

import jax
import numpy as np
from absl import app, flags

from experiments.common import define_study_flags, run_cleanly
from jaxdl import receptive_field as rf
from jaxdl.data import Dataset, load_dataset
from jaxdl.models import build_model
from jaxdl.optim import OptimConfig
from jaxdl.report import plots, tables
from jaxdl.report.claims import Claim, report_claims
from jaxdl.report.rundir import write_atomic, write_json
from jaxdl.train import TrainConfig, train_and_evaluate

FLAGS = flags.FLAGS
Echo = Callable[[str], None]


@dataclasses.dataclass(frozen=True)
class StudyPreset:
  rf_depth: int             # layers of the 1-D stacks (fields up to 2^(depth+1)-1)
  rf_depth_2d: int          # layers of the 2-D 3x3 stack with dilation 2^i
  rf_draws: int             # random (weights, input) draws for measured field and ERF
  rf_width: int             # channels of the measured nets
  seeds: int
  mnist1d_samples: int      # the paper: 5000 (4000 train / 1000 test)
  mnist1d_epochs: int       # 40 steps per epoch at batch 100; the paper: 8000 steps = 200 epochs
  image_train_size: int     # 0 = all 60k
  image_test_size: int      # 0 = all 10k; the test set is evaluated every epoch
  image_epochs: int
  image_width: int          # channels of the front end and the context module
  image_dilations: tuple[int, ...]  # 3x3 layers of the context module (a final 1x1 follows)


PRESETS = {
    "quick": StudyPreset(rf_depth=6, rf_depth_2d=4, rf_draws=8, rf_width=16, seeds=2,
                         mnist1d_samples=5000, mnist1d_epochs=10, image_train_size=4000,
                         image_test_size=2000, image_epochs=5, image_width=16, image_dilations=(1, 1, 2, 4, 1)),
    "full": StudyPreset(rf_depth=8, rf_depth_2d=5, rf_draws=32, rf_width=32, seeds=5,
                        mnist1d_samples=5000, mnist1d_epochs=200, image_train_size=0,
                        image_test_size=0, image_epochs=10, image_width=32, image_dilations=(1, 1, 2, 4, 1)),
}

# Greydanus 2020, MNIST-1D test accuracy (%): (unshuffled, shuffled spatial dim).
PAPER_MNIST1D = {"logistic": (32, 32), "mlp": (68, 68), "cnn": (94, 56)}
YU_KOLTUN_CONTEXT_FIELDS = [3, 5, 9, 17, 33, 65, 67, 67]  # Table 1
PAPER_CNN = dict(dilations=(1, 1, 1), width=25, kernel_size=(5, 3, 3), strides=2, padding=1, head="flatten")


# ---------------------------------------------------------------- part 1


def _measure_stack(model, input_shape, layers, key, draws) -> tuple[list[dict[str, Any]], np.ndarray]:
  """Rows (analytical vs measured per layer) and the ERF [layers, *spatial] of one stack."""
  grads = rf.input_gradient_maps(model, input_shape, key, draws)
  measured = rf.measured_receptive_fields(grads)
  rows = []
  for i, (field, m) in enumerate(zip(rf.analytical_receptive_fields(layers), measured, strict=True)):
    ndim = len(m["extent"])
    rows.append({"layer": i + 1, "dilation": layers[i].dilation, "analytical": (field,) * ndim,
                 "measured": m["extent"], "holes": m["holes"],
                 "agree": m["extent"] == (field,) * ndim and m["holes"] == 0})
  return rows, rf.effective_receptive_fields(grads)


def receptive_field_study(p: StudyPreset, key: jax.Array) -> dict[str, Any]:
  """Analytical vs measured fields of four stacks, and the 1-D stacks' ERFs."""
  d = p.rf_depth
  doubling = tuple(2 ** i for i in range(d))
  length = 2 ** (d + 1) - 1 + 16  # the largest field plus a margin: no unit near the border
  side_2d = 2 ** (p.rf_depth_2d + 1) - 1 + 10
  ctx_side = YU_KOLTUN_CONTEXT_FIELDS[-1] + 10
  stacks = {
      "1x3, undilated": (build_model("dilated", 10, {"dilations": (1,) * d, "width": p.rf_width}),
                         (length, 1), rf.conv_layers(3, (1,) * d), [2 * i + 1 for i in range(1, d + 1)]),
      "1x3, dilation 2^i": (build_model("dilated", 10, {"dilations": doubling, "width": p.rf_width}),
                            (length, 1), rf.conv_layers(3, doubling),
                            [2 ** (i + 1) - 1 for i in range(1, d + 1)]),
      "3x3, dilation 2^i": (build_model("dilated", 10, {"dilations": doubling[:p.rf_depth_2d], "width": p.rf_width}),
                            (side_2d, side_2d, 1), rf.conv_layers(3, doubling[:p.rf_depth_2d]),
                            [2 ** (i + 2) - 1 for i in range(p.rf_depth_2d)]),
      # Random (He) weights: the identity init's off-centre zeros would hide the structure.
      "context module": (build_model("context_module", 10, {
          "front_widths": (), "pool": 1, "width": 8, "context_dilations": (1, 1, 2, 4, 8, 16, 1),
          "context_init": "he_normal"}), (ctx_side, ctx_side, 8),
          rf.conv_layers((3,) * 7 + (1,), (1, 1, 2, 4, 8, 16, 1, 1)), YU_KOLTUN_CONTEXT_FIELDS),
  }
  rows, erfs = [], {}
  for name, (model, shape, layers, closed_form) in stacks.items():
    stack_rows, erf = _measure_stack(model, shape, layers, key, p.rf_draws)
    for row, expected in zip(stack_rows, closed_form, strict=True):
      row.update(stack=name, closed_form=expected,
                 agree=row["agree"] and row["analytical"][0] == expected)
      rows.append(row)
    erfs[name] = erf
  radii = {name: rf.erf_radius(erfs[name]) for name in ("1x3, undilated", "1x3, dilation 2^i")}
  return {"rows": rows, "erfs": erfs, "erf_radius": radii}


def receptive_field_claims(result: dict[str, Any]) -> list[Claim]:
  rows = result["rows"]
  bad = [f"{r['stack']} layer {r['layer']}" for r in rows if not r["agree"]]
  ctx = [r["measured"][0] for r in rows if r["stack"] == "context module"]
  und = result["erf_radius"]["1x3, undilated"]
  trf = np.array([r["analytical"][0] for r in rows if r["stack"] == "1x3, undilated"])
  ratio = und / trf
  return [
      Claim("Yu & Koltun 2016, Sec. 2 and Table 1",
            "analytical receptive fields (2i+1; 2^(i+1)-1; (2^(i+2)-1)^2; context module "
            "3,5,9,17,33,65,67,67) equal the measured nonzero-gradient fields",
            not bad, f"{len(rows) - len(bad)}/{len(rows)} layers agree"
            + (f"; disagree: {', '.join(bad)}" if bad else "") + f"; context module measured {ctx}"),
      Claim("Luo et al. 2016",
            "the effective receptive field (RMS radius) shrinks relative to the theoretical one "
            "with depth: at every step from depth 2 on, and from depth 1 to the last (undilated 1x3 stack)",
            bool(np.all(np.diff(ratio[1:]) < 0) and ratio[-1] < ratio[0]),
            "ERF RMS radius / theoretical field per depth: " + ", ".join(f"{r:.3f}" for r in ratio)),
  ]


# ---------------------------------------------------------------- part 2


def _mnist1d_cells() -> list[tuple[str, str, dict[str, Any], bool]]:
  """(label, model, options, shuffled) of every MNIST-1D cell."""
  undilated4 = {"dilations": (1, 1, 1, 1), "width": 32}
  return [
      ("logistic", "mlp", {"widths": ()}, False),
      ("mlp", "mlp", {"widths": (100, 100), "residual": True}, False),
      ("cnn", "dilated", PAPER_CNN, False),
      ("logistic", "mlp", {"widths": ()}, True),
      ("mlp", "mlp", {"widths": (100, 100), "residual": True}, True),
      ("cnn", "dilated", PAPER_CNN, True),
      ("undilated, depth 4", "dilated", undilated4, False),
      ("dilated 1,2,4,8, depth 4", "dilated", {"dilations": (1, 2, 4, 8), "width": 32}, False),
      ("dilated 1,2,4, depth 3", "dilated", {"dilations": (1, 2, 4), "width": 32}, False),
      ("undilated, depth 7", "dilated", {"dilations": (1,) * 7, "width": 32}, False),
  ]


def _receptive_field_of(model: str, options: dict[str, Any]) -> int | None:
  """The last conv layer's field (None for an MLP, whose every unit sees all positions)."""
  if model != "dilated":
    return None
  layers = rf.conv_layers(options.get("kernel_size", 3), options["dilations"], options.get("strides", 1))
  return rf.analytical_receptive_fields(layers)[-1]


def _param_count(model: str, options: dict[str, Any], input_shape: tuple[int, ...]) -> int:
  variables = jax.eval_shape(lambda: build_model(model, 10, options).init(
      jax.random.PRNGKey(0), np.zeros((1, *input_shape), np.float32)))
  return sum(int(np.prod(x.shape)) for x in jax.tree_util.tree_leaves(variables["params"]))


def _train_cell(label: str, cfg: TrainConfig, data: Dataset, echo: Echo) -> list[dict[str, Any]]:
  echo(f"-- {label}: {cfg.model} {cfg.model_options}, {len(cfg.seeds)} seed(s), {cfg.epochs} epochs")
  result = train_and_evaluate(cfg, None, data=data, echo=lambda line: None)
  if result.status == "incomplete":  # SIGTERM: the engine stopped early; later cells must not run
    raise RuntimeError(f"{label}: training was interrupted (preemption signal); study stopped")
  rows = [{"cell": label, **r} for r in result.replicas]
  mean, std, n = tables.mean_std(r["test_acc"] for r in rows)
  echo(f"   test acc {tables.format_mean_std(mean, std, n, 100)} % ({result.wall_time_s:.0f} s)")
  return rows


def _acc(rows: list[dict[str, Any]], metric: str = "test_acc") -> tuple[float, float, int]:
  return tables.mean_std(r[metric] for r in rows)


def mnist1d_study(p: StudyPreset, seeds: tuple[int, ...], echo: Echo) -> dict[str, Any]:
  """Trains every MNIST-1D cell with the paper's Adam lr 1e-2, batch 100."""
  datasets = {shuffled: load_dataset("mnist1d", num_samples=p.mnist1d_samples, shuffle_seq=shuffled)
              for shuffled in (False, True)}
  cells = []
  for label, model, options, shuffled in _mnist1d_cells():
    cfg = TrainConfig(dataset="mnist1d", data_options={"num_samples": p.mnist1d_samples,
                                                        "shuffle_seq": shuffled},
                      model=model, model_options=options, optim=OptimConfig(name="adam", lr=1e-2),
                      batch_size=100, epochs=p.mnist1d_epochs, seeds=seeds)
    name = f"{label}{' (shuffled)' if shuffled else ''}"
    data = datasets[shuffled]
    cells.append({"label": label, "shuffled": shuffled, "model": model, "options": options,
                  "params": _param_count(model, options, data.input_shape),
                  "receptive_field": _receptive_field_of(model, options),
                  "steps": p.mnist1d_epochs * (len(data.y_train) // 100),
                  "replicas": _train_cell(name, cfg, data, echo)})
  return {"cells": cells}


def _cell(result: dict[str, Any], label: str, shuffled: bool = False) -> dict[str, Any]:
  return next(c for c in result["cells"] if c["label"] == label and c["shuffled"] == shuffled)


def _pct(stats: tuple[float, float, int]) -> str:
  return tables.format_mean_std(*stats, scale=100, digits=1)


def mnist1d_claims(result: dict[str, Any], full: bool) -> list[Claim]:
  acc = {(c["label"], c["shuffled"]): _acc(c["replicas"]) for c in result["cells"]}
  steps = result["cells"][0]["steps"]
  m = {k: v[0] * 100 for k, v in acc.items()}
  sd = {k: v[1] * 100 for k, v in acc.items()}
  paper_rows = ", ".join(f"{k} {_pct(acc[(k, False)])} (paper {PAPER_MNIST1D[k][0]})" for k in PAPER_MNIST1D)
  within = all(abs(m[(k, False)] - PAPER_MNIST1D[k][0]) <= 3 for k in PAPER_MNIST1D)
  d4, u4 = m[("dilated 1,2,4,8, depth 4", False)], m[("undilated, depth 4", False)]
  d3, u7 = m[("dilated 1,2,4, depth 3", False)], m[("undilated, depth 7", False)]
  noise = lambda *keys: max(sd[k] for k in keys)  # noqa: E731
  cnn_drop = m[("cnn", False)] - m[("cnn", True)]
  mlp_change = m[("mlp", False)] - m[("mlp", True)]
  return [
      Claim("Greydanus 2020, MNIST-1D table",
            "test accuracy: logistic 32%, MLP 68%, CNN 94% (within 3 points, after 8000 steps)",
            within if full else None,
            paper_rows + ("" if full else f"; quick preset: {steps} steps, not 8000, so not compared")),
      Claim("Greydanus 2020, MNIST-1D table", "ordering CNN > MLP > logistic regression",
            m[("cnn", False)] > m[("mlp", False)] > m[("logistic", False)], paper_rows),
      Claim("Greydanus 2020, shuffled spatial dim",
            "shuffling the positions costs the CNN > 10 points (94 -> 56) and leaves the MLP "
            "within 3 points (68 -> 68)",
            cnn_drop > 10 and abs(mlp_change) <= 3,
            f"CNN {_pct(acc[('cnn', False)])} -> {_pct(acc[('cnn', True)])}; MLP "
            f"{_pct(acc[('mlp', False)])} -> {_pct(acc[('mlp', True)])}"),
      Claim("Yu & Koltun 2016 (dilation aggregates context)",
            "at equal depth, width and parameters (4 layers, 32 ch, global pooling), the dilated "
            "CNN (field 31) beats the undilated one (field 9) by more than the seed std",
            d4 - u4 > noise(("dilated 1,2,4,8, depth 4", False), ("undilated, depth 4", False)),
            f"dilated {d4:.1f} vs undilated {u4:.1f} (seed std <= "
            f"{noise(('dilated 1,2,4,8, depth 4', False), ('undilated, depth 4', False)):.1f})"),
      Claim("Yu & Koltun 2016 (exponential field, linear parameters)",
            "a 3-layer dilated CNN (field 15) is no worse (within 2 points) than a 7-layer "
            "undilated CNN of the same field",
            d3 >= u7 - 2, f"dilated depth 3: {d3:.1f}, undilated depth 7: {u7:.1f}"),
  ]


# ---------------------------------------------------------------- part 3


def context_module_study(p: StudyPreset, seeds: tuple[int, ...], dataset: str, data_dir: str | None,
                         echo: Echo) -> dict[str, Any]:
  """Front end alone vs + context module (identity init) vs + context module (He init)."""
  data = load_dataset(dataset, data_dir=data_dir)
  if p.image_test_size:
    data = dataclasses.replace(data, x_test=data.x_test[:p.image_test_size],
                               y_test=data.y_test[:p.image_test_size])
  w = p.image_width
  base = {"front_widths": (w,), "front_kernel_size": 5, "pool": 2, "width": w}
  cells = [("front end alone", {**base, "context_dilations": ()}),
           ("+ context module, identity init", {**base, "context_dilations": p.image_dilations,
                                                "context_init": "identity"}),
           ("+ context module, random (He) init", {**base, "context_dilations": p.image_dilations,
                                                   "context_init": "he_normal"})]
  out = []
  for label, options in cells:
    cfg = TrainConfig(dataset=dataset, model="context_module", model_options=options,
                      optim=OptimConfig(name="adam", lr=1e-3), batch_size=64, epochs=p.image_epochs,
                      seeds=seeds, train_size=p.image_train_size)
    front = rf.conv_layers(5, (1,)) + [rf.ConvLayer(2, 2)]
    module = rf.conv_layers((3,) * len(options["context_dilations"]) + (1,),
                            (*options["context_dilations"], 1)) if options["context_dilations"] else []
    out.append({"label": label, "options": options,
                "params": _param_count("context_module", options, data.input_shape),
                "receptive_field": rf.analytical_receptive_fields(front + module)[-1],
                "replicas": _train_cell(label, cfg, data, echo)})
  return {"dataset": dataset, "cells": out}


def context_module_claims(result: dict[str, Any]) -> list[Claim]:
  front, ident, rand = ([r["test_acc"] for r in c["replicas"]] for c in result["cells"])
  (mf, sf, _), (mi, si, _), (mr, sr, _) = (tables.mean_std(v) for v in (front, ident, rand))
  text = (f"front end {100 * mf:.2f}, + module identity init {100 * mi:.2f}, "
          f"+ module random init {100 * mr:.2f} (% test, {result['dataset']}; nan = every seed diverged)")
  random_beats = math.isfinite(mr) and mr - mf > max(sf, sr)  # a diverged random module beats nothing
  return [
      Claim("Yu & Koltun 2016, Table 3", "the context module (identity init) improves on the front end "
            "alone by more than the seed std", mi - mf > max(sf, si), text),
      Claim("Yu & Koltun 2016, Sec. 3", "identity initialization was required: the randomly "
            "initialized module does not beat the front end alone while the identity one does",
            (mi - mf > max(sf, si)) and not random_beats, text),
  ]


# ---------------------------------------------------------------- report


def _fmt_field(t: tuple[int, ...]) -> str:
  return "x".join(map(str, t))


def receptive_field_table(result: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
  header = ["stack", "layer", "dilation", "closed form", "analytical", "measured", "holes", "agree"]
  body = [[r["stack"], r["layer"], r["dilation"], r["closed_form"], _fmt_field(r["analytical"]),
           _fmt_field(r["measured"]), r["holes"], "yes" if r["agree"] else "NO"] for r in result["rows"]]
  return header, body


def mnist1d_table(result: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
  header = ["model", "spatial dim", "params", "receptive field", "steps", "train acc (%)",
            "test acc (%)", "paper test acc (%)"]
  body = []
  for c in result["cells"]:
    paper = PAPER_MNIST1D.get(c["label"])
    body.append([c["label"], "shuffled" if c["shuffled"] else "ordered", c["params"],
                 c["receptive_field"] or "all (dense)", c["steps"], _pct(_acc(c["replicas"], "train_acc")),
                 _pct(_acc(c["replicas"])), paper[c["shuffled"]] if paper else "-"])
  return header, body


def context_table(result: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
  header = ["model", "params", "receptive field (px)", "train acc (%)", "test acc (%)"]
  body = [[c["label"], c["params"], c["receptive_field"], _pct(_acc(c["replicas"], "train_acc")),
           _pct(_acc(c["replicas"]))] for c in result["cells"]]
  return header, body


def plot_erf(path: str, rf_result: dict[str, Any]) -> None:
  """ERF profiles per depth for the two 1-D stacks, and the context module's last ERF."""
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  fig, axes = plt.subplots(1, 3, figsize=(15, 4))
  for ax, name in zip(axes[:2], ("1x3, undilated", "1x3, dilation 2^i")):
    erf = rf_result["erfs"][name]
    pos = np.arange(erf.shape[1]) - erf.shape[1] // 2
    for i, profile in enumerate(erf):
      ax.plot(pos, profile, label=f"depth {i + 1}")
    ax.set_yscale("log")
    ax.set_ylim(1e-6, 1)
    ax.set_xlabel("input position - centre")
    ax.set_title(f"ERF (mean |grad|, normalized): {name}")
    ax.legend(fontsize=7)
  ctx = rf_result["erfs"]["context module"][-1]
  im = axes[2].imshow(np.log10(ctx + 1e-12), vmin=-8, cmap="viridis")
  axes[2].set_title("context module, layer 8: log10 ERF")
  fig.colorbar(im, ax=axes[2])
  plots.save(fig, path)


def run_study(p: StudyPreset, workdir: str, seeds: tuple[int, ...], dataset: str = "fashion_mnist",
              data_dir: str | None = None, echo: Echo = print, full: bool = False) -> dict[str, Any]:
  """Runs the three parts, writes table.md/csv, results.json, claims.json, erf.png; returns all."""
  start = time.time()
  os.makedirs(workdir, exist_ok=True)
  echo("== part 1: receptive fields")
  rf_result = receptive_field_study(p, jax.random.PRNGKey(0))
  echo("== part 2: MNIST-1D")
  m1d = mnist1d_study(p, seeds, echo)
  echo(f"== part 3: context module on {dataset}")
  ctx = context_module_study(p, seeds, dataset, data_dir, echo)
  sections = [("Receptive fields: analytical vs measured", *receptive_field_table(rf_result)),
              ("MNIST-1D (Adam lr 1e-2, batch 100; mean ± std over seeds)", *mnist1d_table(m1d)),
              (f"Context module on {dataset} (Adam lr 1e-3, batch 64; mean ± std over seeds)",
               *context_table(ctx))]
  markdown = "".join(f"### {title}\n\n{tables.markdown_table(h, b)}\n" for title, h, b in sections)
  long_rows = [[title, i, col, cell] for title, h, b in sections for i, row in enumerate(b)
               for col, cell in zip(h, row)]
  write_atomic(os.path.join(workdir, "table.md"), markdown)
  write_atomic(os.path.join(workdir, "table.csv"), tables.csv_table(["table", "row", "column", "value"], long_rows))
  plot_erf(os.path.join(workdir, "erf.png"), rf_result)
  echo(markdown)
  claims = receptive_field_claims(rf_result) + mnist1d_claims(m1d, full) + context_module_claims(ctx)
  report_claims(claims, os.path.join(workdir, "claims.json"), echo=echo)
  wall = time.time() - start
  results = {"preset": dataclasses.asdict(p), "seeds": list(seeds), "wall_time_s": wall,
             "receptive_fields": rf_result["rows"],
             "erf_radius": {k: v.tolist() for k, v in rf_result["erf_radius"].items()},
             "mnist1d": m1d["cells"], "context_module": ctx}
  write_json(os.path.join(workdir, "results.json"), results)
  echo(f"wall time {wall:.0f} s; outputs in {workdir}")
  return {**results, "claims": claims, "erfs": rf_result["erfs"]}


def main(argv: list[str]) -> None:
  del argv

  def run() -> int:
    preset = PRESETS[FLAGS.preset]
    seeds = tuple(range(FLAGS.seeds or preset.seeds))
    run_study(preset, FLAGS.workdir, seeds, FLAGS.dataset, FLAGS.data_dir, full=FLAGS.preset == "full")
    return 0

  sys.exit(run_cleanly(run))


if __name__ == "__main__":
  define_study_flags("dilated_convs")
  # The 2-D task is Fashion-MNIST; --dataset=mnist also works.
  FLAGS.set_default("dataset", "fashion_mnist")
  app.run(main)
