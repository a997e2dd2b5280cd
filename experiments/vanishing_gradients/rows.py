"""Each part's rows, one per net, read from its cell's record: what the tables, claims and figures use.

Gradient arrays are [K, L] (replicas x layers, layer 1 nearest the input) or
[K, T] (replicas x time steps); `*_init` is the epoch hook at initialization,
`*_end` after the last epoch; errors and accuracies are fractions.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
from ml_collections import ConfigDict

from experiments.vanishing_gradients.cells import GRAD_NORMS
from experiments.vanishing_gradients.nets import adding_nets, degradation_nets, depth_nets
from jaxdl.study import CellRecord

Row = dict[str, Any]


def _test(record: CellRecord, key: str) -> list[float]:
  return [replica[key] for replica in record.replicas]


def depth_rows(config: ConfigDict, records: Mapping[str, CellRecord]) -> list[Row]:
  rows = []
  for net in depth_nets(config):
    record = records[net.cell]
    init, end = record.at_init(GRAD_NORMS), record.final(GRAD_NORMS)
    rows.append({"depth": net.depth, "activation": net.activation, "variant": net.fix,
                 "grad_init": init, "grad_end": end, "ratio_init": init[:, 0] / init[:, -1],
                 "ratio_end": end[:, 0] / end[:, -1], "test_acc": _test(record, "test_acc")})
  return rows


def degradation_rows(config: ConfigDict, records: Mapping[str, CellRecord]) -> list[Row]:
  rows = []
  for net in degradation_nets(config):
    record = records[net.cell]
    rows.append({"net": net.label, "depth": net.depth, "plain": net.plain,
                 "train_err_curve": 1 - record.curve("train_acc"),  # [epochs, K]
                 "train_err": [1 - a for a in _test(record, "train_acc")],
                 "test_err": [1 - a for a in _test(record, "test_acc")],
                 "grad_init": record.at_init(GRAD_NORMS), "grad_end": record.final(GRAD_NORMS),
                 "wall_s": record.results["wall_time_s"]})
  return rows


def adding_rows(config: ConfigDict, records: Mapping[str, CellRecord]) -> list[Row]:
  rows = []
  for net in adding_nets(config):
    record = records[net.cell]
    rows.append({"length": net.length, "cell": net.rnn_cell, "test_mse": np.asarray(record.measurements["test_mse"]),
                 "within_tol": np.asarray(record.measurements["within_tol"]),
                 "hidden_grad_init": record.at_init("hidden_grad_norm"),
                 "hidden_grad_end": record.final("hidden_grad_norm"), "wall_s": record.results["wall_time_s"]})
  return rows


ROWS = {"depth": depth_rows, "degradation": degradation_rows, "adding": adding_rows}
