"""The study's report: per selected part a table, its claims and its figures, from the cell records alone."""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import numpy as np
from ml_collections import ConfigDict

from experiments.vanishing_gradients.claims import CLAIMS, spread
from experiments.vanishing_gradients.figures import FIGURES
from experiments.vanishing_gradients.nets import selected_parts
from experiments.vanishing_gradients.rows import ROWS
from jaxdl.report import tables
from jaxdl.report.tables import Table
from jaxdl.study import CellRecord, Report
from jaxdl.tasks.adding_problem import BASELINE_MSE, SUCCESS_TOLERANCE

Row = dict[str, Any]


def scientific_text(values: Iterable[Any]) -> str:
  """mean ± std over the finite values in scientific notation (gradient ratios span many decades)."""
  mean, std, n = tables.mean_std(values)
  if n == 0:
    return "diverged"
  return f"{mean:.2e}" if n == 1 else f"{mean:.2e} ± {std:.1e}"


def depth_table(rows: Sequence[Row]) -> Table:
  header = ["activation", "depth", "variant", "g1/gL norm ratio at init", "g1/gL trained", "test acc (%)"]
  body = [[r["activation"], str(r["depth"]), r["variant"], scientific_text(r["ratio_init"]),
           scientific_text(r["ratio_end"]), tables.mean_std_text(r["test_acc"], 100, 2)] for r in rows]
  return header, body


def degradation_table(rows: Sequence[Row]) -> Table:
  header = ["net", "final train err (%)", "test err (%)", "grad spread init (max/min)",
            "grad spread trained", "wall (s)"]
  body = [[r["net"], tables.mean_std_text(r["train_err"], 100, 2), tables.mean_std_text(r["test_err"], 100, 2),
           f"{spread(r['grad_init']):.1f}", f"{spread(r['grad_end']):.1f}", f"{r['wall_s']:.0f}"] for r in rows]
  return header, body


def adding_table(rows: Sequence[Row]) -> Table:
  header = ["T", "cell", "test MSE (x1e-3)", "MSE / baseline", f"within {SUCCESS_TOLERANCE} (%)",
            "dL/dh_1 : dL/dh_T norm ratio (trained)", "wall (s)"]
  body = []
  for r in rows:
    g = np.asarray(r["hidden_grad_end"], float)
    body.append([str(r["length"]), r["cell"], tables.mean_std_text(r["test_mse"], 1e3, 2),
                 tables.mean_std_text(r["test_mse"] / BASELINE_MSE, 1, 3),
                 tables.mean_std_text(r["within_tol"], 100, 1), scientific_text(g[:, 0] / g[:, -1]),
                 f"{r['wall_s']:.0f}"])
  return header, body


TABLES = {
    "depth": ("depth: first / last hidden layer gradient norm of deep MLPs", depth_table),
    "degradation": ("degradation: plain vs residual 6n+2-layer nets", degradation_table),
    "adding": ("adding problem: test error and gradient through time", adding_table),
}


def report(config: ConfigDict, records: Mapping[str, CellRecord], out: Report) -> None:
  for part in selected_parts(config):
    rows = ROWS[part](config, records)
    title, table = TABLES[part]
    out.table(title, *table(rows))
    out.claims(CLAIMS[part](rows, config.thresholds))
    for name, draw in FIGURES[part]:
      out.figure(name, draw, rows, config)
