"""The study's report from the cells' records: the tables, the claims and the figures."""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
from ml_collections import ConfigDict

from experiments.init_study import draws, figures
from experiments.init_study.analysis import (diverged, error_percent, final_statistic, init_statistic,
                                             mean_singular_values, num_classes, outcome, predicted_std)
from experiments.init_study.cells import GLOROT_ROWS, glorot_cell_name, glorot_labels, he_cell_name
from experiments.init_study.claims import glorot_claims, he_claims
from jaxdl.report.tables import mean_std_text
from jaxdl.study import CellRecord, Report

HE_LABELS = {"normal:std=1": "N(0,1)", "normal:std=0.01": "N(0,0.01^2)", "lecun_normal": "Xavier (LeCun 1/n)",
             "glorot_uniform": "Glorot uniform", "he_normal": "He (2/n)", "orthogonal": "orthogonal"}
# Glorot & Bengio 2010, Table 1: MNIST test error (%) of each row.
GLOROT_PAPER_MNIST_ERROR = {"softsign": 1.64, "softsign-N": 1.72, "tanh": 1.76, "tanh-N": 1.64, "sigmoid": 2.21}


def he_label(init: str) -> str:
  return HE_LABELS.get(init, init)


def he_outcome_table(cells: Mapping[tuple[int, str], CellRecord], num_classes: int) -> tuple[list, list]:
  header = ["depth", "init", "n Var[w] (hidden)", "outcome", "train loss", "test acc (%)", "diverged",
            "first-layer dL/dW at init", "last-layer dL/dW at init"]
  rows = []
  for (depth, init), c in cells.items():
    grads = init_statistic(c, "kernel_grad_norm")
    dead = diverged(c.replicas)
    rows.append([str(depth), he_label(init), f"{float(np.mean(init_statistic(c, 'kernel_fan_in_var')[1:])):.3g}",
                 outcome(c.replicas, num_classes), mean_std_text([r["train_loss"] for r in c.replicas], digits=3),
                 mean_std_text([r["test_acc"] for r in c.replicas], 100), f"{len(dead)}/{len(c.replicas)}"
                 + (f" (step {min(r['diverged_step'] for r in dead)})" if dead else ""),
                 f"{grads[0]:.3g}", f"{grads[-1]:.3g}"])
  return header, rows


def he_std_table(cells: Mapping[tuple[int, str], CellRecord]) -> tuple[list, list]:
  """Measured vs predicted std at a few layers of each cell, as He et al.'s theory states it."""
  header = ["depth", "init", "layer", "measured pre-act std", "predicted (He eq. 9)", "measured/predicted"]
  rows = []
  for (depth, init), c in cells.items():
    measured, want = init_statistic(c, "preact_std"), predicted_std(c)
    for layer in sorted({0, depth // 4, depth // 2, 3 * depth // 4, depth - 1}):
      rows.append([str(depth), he_label(init), str(layer + 1), f"{measured[layer]:.3g}",
                   f"{want[layer]:.3g}", f"{measured[layer] / want[layer]:.3g}"])
  return header, rows


def glorot_table(cells: Mapping[str, CellRecord]) -> tuple[list, list]:
  header = ["cell", "activation", "init", "test error (%)", "paper MNIST error (%)", "train acc (%)",
            "dL/dpre std first/last layer at init", "saturated at init (last layer)", "mean Jacobian s.v."]
  rows = []
  for label, c in cells.items():
    grads = init_statistic(c, "preact_grad_std")
    jacobian = mean_singular_values(c)
    rows.append([label, *GLOROT_ROWS[label], mean_std_text(error_percent(c)),
                 f"{GLOROT_PAPER_MNIST_ERROR[label]:.2f}", mean_std_text([r["train_acc"] for r in c.replicas], 100),
                 f"{grads[0] / grads[-1]:.3f}", f"{init_statistic(c, 'saturated_frac')[-1]:.3f}",
                 "not computed" if jacobian is None else f"{np.mean(jacobian):.3f}"])
  return header, rows


def draws_table(results: Mapping[str, Any]) -> tuple[list, list]:
  """Per depth and initializer: the last-layer rms of independent nets against eq. (9)'s prediction."""
  header = ["depth", "init", "nets", "last-layer rms / eq. 9: median", "10-90%", "mean square / eq. 9"]
  rows = []
  for key, by_init in results.items():
    if not key.startswith("depth"):
      continue
    depth = int(key[len("depth"):])
    for init, stats in by_init.items():
      # eq. (9): Var[y_1] = n Var[w] E[x^2], then a factor n Var[w] / 2 per ReLU layer.
      scale = 2.0 if init == "he_normal" else 1.0
      predicted = results["probe_mean_square"] * scale * (scale / 2) ** (depth - 1)
      ratio = np.sqrt(np.asarray(stats["last"]) / predicted)
      lo, mid, hi = np.percentile(ratio, [10, 50, 90])
      rows.append([str(depth), he_label(init), str(len(ratio)), f"{mid:.3g}", f"{lo:.3g}-{hi:.3g}",
                   f"{np.mean(ratio ** 2):.3g}"])
  return header, rows


def write_report(config: ConfigDict, records: Mapping[str, CellRecord], out: Report) -> None:
  """Both parts' tables (titled with the dataset), then He's and Glorot's claims, then the figures."""
  dataset = config.train.dataset
  he = {(depth, init): records[he_cell_name(depth, init)] for depth in config.he.depths for init in config.he.inits}
  glorot = {label: records[glorot_cell_name(label)] for label in glorot_labels(config)}
  independent = records[draws.CELL_NAME].results if draws.CELL_NAME in records else None
  classes = num_classes(next(r for r in records.values() if r.history))
  if he:
    out.table(f"He et al. 2015: plain ReLU MLPs, training outcome ({dataset})", *he_outcome_table(he, classes))
    out.table(f"He et al. 2015: pre-activation std at init, measured vs predicted ({dataset})", *he_std_table(he))
  if independent:
    out.table(f"He et al. 2015: independent untrained nets, last hidden layer at init ({dataset})",
              *draws_table(independent))
  if glorot:
    out.table(f"Glorot & Bengio 2010: {config.glorot.depth} hidden layers ({dataset})", *glorot_table(glorot))
  out.claims(he_claims(he, classes, independent) if he else [])
  out.claims(glorot_claims(glorot))
  _figures(config, he, glorot, out)


def _figures(config: ConfigDict, he: Mapping[tuple[int, str], CellRecord], glorot: Mapping[str, CellRecord],
             out: Report) -> None:
  dataset = config.train.dataset
  if he:
    by_depth = lambda values: {f"depth {d}": {he_label(i): values(he[d, i]) for i in config.he.inits}  # noqa: E731
                               for d in config.he.depths}
    out.figure("he_activation_std.png", figures.per_layer, by_depth(lambda c: init_statistic(c, "preact_std")),
               "pre-activation std", f"He et al. 2015 at init on {dataset}: measured (solid) vs predicted (dashed)",
               dashed=by_depth(predicted_std))
    out.figure("he_gradient_std.png", figures.per_layer, by_depth(lambda c: init_statistic(c, "preact_grad_std")),
               "std of dL/d pre-activation", f"He et al. 2015 at init on {dataset}: back-propagated gradient")
    out.figure("he_training_curves.png", figures.training_loss, by_depth(lambda c: c.curve("train_loss")),
               f"He et al. 2015 on {dataset}: same optimizer and budget")
  if glorot:
    out.figure("glorot_gradient_std.png", figures.per_layer,
               {"at init": {k: init_statistic(c, "preact_grad_std") for k, c in glorot.items()},
                "after training": {k: final_statistic(c, "preact_grad_std") for k, c in glorot.items()}},
               "std of dL/d pre-activation", f"Glorot & Bengio 2010 on {dataset}")
    jacobians = {k: mean_singular_values(c) for k, c in glorot.items()}
    jacobians = {k: v.mean(axis=0) for k, v in jacobians.items() if v is not None}  # mean over seeds
    if jacobians:
      out.figure("glorot_jacobian.png", figures.per_layer, {"at init": jacobians},
                 "mean singular value of d act_i / d act_{i-1}", f"Glorot & Bengio 2010 on {dataset}")
    out.figure("glorot_training_curves.png", figures.training_loss,
               {f"{config.glorot.depth} hidden layers": {k: c.curve("train_loss") for k, c in glorot.items()}},
               f"Glorot & Bengio 2010 on {dataset}")
