"""Telgarsky 2016's separation on the sawtooth sawtooth(., k) (2^k linear pieces).

The exact constructions: k layers of 2 ReLU units (6k + 1 parameters) and one
hidden layer of 2^k units (3 * 2^k + 1), evaluated on a dyadic grid (exact in
binary floating point); shallow nets with fewer units, constructed (units at
the sawtooth's first kinks, output weights by least squares) against the
lower bound `shallow_sawtooth_mse_bound`; and trained nets: a deep shape
beside the one-hidden-layer net of (about) the same parameter count.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from experiments.approximation.fit import predict
from experiments.approximation.widths import fit_targets, grid_targets
from jaxdl import approximation as approx
from jaxdl.optim import OptimConfig


def max_error(widths: tuple[int, ...], params: Any, x: np.ndarray, y: np.ndarray) -> float:
  return float(np.max(np.abs(predict(widths, params, x) - y)))


def measure_constructions(ks: Sequence[int], k: int, eval_level: int) -> dict[str, Any]:
  """Per construction k: units, parameters and largest error on the dyadic grid (fine enough to hold
  every kink) of the deep and the shallow construction, and the linear pieces of the deep one.
  For `k`: the constructed shallow nets of 1 .. 2^k - 1 units (units relu(x - j / 2^k), j < n, the
  output by least squares on the evaluation grid) with their MSE and the lower bound."""
  rows = []
  for kk in ks:
    x, y = grid_targets(["sawtooth"], kk, max(eval_level, kk + 2))
    deep, shallow = (2,) * kk, (2 ** kk,)
    deep_out = predict(deep, approx.sawtooth_deep_params(kk), x)
    rows.append({"k": kk, "pieces": 2 ** kk, "deep_units": 2 * kk, "deep_params": approx.mlp_param_count(deep),
                 "deep_max_error": float(np.max(np.abs(deep_out - y[0]))),
                 "deep_linear_pieces": approx.linear_pieces(deep_out),
                 "shallow_units": 2 ** kk, "shallow_params": approx.mlp_param_count(shallow),
                 "shallow_max_error": max_error(shallow, approx.sawtooth_shallow_params(kk), x, y[0]),
                 "shallow_units_needed": 2 ** kk - 1})
  x, y = grid_targets(["sawtooth"], k, eval_level)
  partial = []
  for n in range(1, 2 ** k):
    params = approx.knot_least_squares_params(x, y[0], np.arange(n) / 2 ** k)
    mse = float(np.mean((predict((n,), params, x) - y[0]) ** 2))
    partial.append({"units": n, "params": approx.mlp_param_count((n,)), "mse": mse,
                    "bound": approx.shallow_sawtooth_mse_bound(k, n)})
  return {"rows": rows, "k": k, "constructed_shallow": partial}


def matched_shallow_width(deep: tuple[int, ...]) -> int:
  """The one-hidden-layer width whose parameter count 3n + 1 is nearest the deep net's."""
  return max(1, round((approx.mlp_param_count(deep) - 1) / 3))


def measure_depth_vs_width(deep: tuple[int, ...], spec: dict[str, Any], seeds: Sequence[int],
                           optim: OptimConfig) -> dict[str, Any]:
  """The deep net `deep` and its parameter-matched one-hidden-layer net, trained on the sawtooth."""
  out = {}
  k = spec["k"]
  for role, widths in (("deep", deep), ("shallow", (matched_shallow_width(deep),))):
    fit = fit_targets(widths, ["sawtooth"], k, seeds, optim, spec["steps"], spec["train_level"],
                      spec["eval_level"])
    out[role] = {"widths": list(widths), "units": sum(widths), "params": fit["params"], **fit["targets"]["sawtooth"]}
  out["shallow"]["bound"] = approx.shallow_sawtooth_mse_bound(k, out["shallow"]["units"])
  return out
