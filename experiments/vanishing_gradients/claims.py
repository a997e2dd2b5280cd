"""The papers' claims, decided on each part's rows (see rows.py) with the config's thresholds."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from ml_collections import ConfigDict

from jaxdl.report.claims import Claim
from jaxdl.tasks.adding_problem import BASELINE_MSE, SUCCESS_TOLERANCE

Row = dict[str, Any]


def _mean(values: Any) -> float:
  """The mean over replicas, NaN (diverged) ones left out."""
  return float(np.nanmean(np.asarray(values, float)))


def healthy(ratio: float, thresholds: ConfigDict) -> bool:
  """A gradient ratio (or spread) within a factor healthy_spread of 1; NaN is not healthy."""
  return bool(1 / thresholds.healthy_spread <= ratio <= thresholds.healthy_spread)


def spread(grads: Any) -> float:
  """max/min over layers of the replica-mean per-layer gradient norm (grads [K, L])."""
  g = np.nanmean(np.asarray(grads, float), axis=0)
  return float(np.max(g) / np.min(g))


def depth_claims(rows: Sequence[Row], thresholds: ConfigDict) -> list[Claim]:
  deepest = max(r["depth"] for r in rows)

  def get(act: str, fix: str) -> Row:
    return next(r for r in rows if (r["activation"], r["variant"], r["depth"]) == (act, fix, deepest))

  activations = sorted({r["activation"] for r in rows})
  fixes = sorted({r["variant"] for r in rows} - {"plain"})
  limit = thresholds.healthy_spread
  claims = []
  ratios = {act: _mean(get(act, "plain")["ratio_init"]) for act in activations}
  if {"sigmoid", "relu"} <= set(ratios):
    # Both halves are tested: sigmoid's ratio may underflow to 0, so "ReLU far above it" alone is vacuous.
    claims.append(Claim(
        "Bengio et al. 1994; Glorot & Bengio 2010",
        f"at depth {deepest} the first layer's gradient is orders of magnitude below the last's for "
        f"sigmoid (ratio < {thresholds.vanished_ratio:g}), while for ReLU with He init it stays within a "
        f"factor {limit:g} of 1",
        ratios["sigmoid"] < thresholds.vanished_ratio and healthy(ratios["relu"], thresholds),
        ", ".join(f"{a} |g1|/|gL| = {v:.2e}" for a, v in ratios.items()) + " (at init)"))
  for act in (a for a in activations if a != "relu"):
    base = _mean(get(act, "plain")["ratio_init"])
    for fix in fixes:
      fixed = _mean(get(act, fix)["ratio_init"])
      claims.append(Claim(
          "Ioffe & Szegedy 2015" if fix == "batch_norm" else "He et al. 2016",
          f"{fix.replace('_', ' ')} restores the gradient of the first layers of a {deepest}-layer {act} MLP "
          f"(plain ratio outside, fixed ratio within a factor {limit:g} of 1)",
          None if healthy(base, thresholds) else healthy(fixed, thresholds),  # nothing to restore if healthy
          f"|g1|/|gL| at init {base:.2e} plain -> {fixed:.2e} with {fix}; test acc "
          f"{_mean(get(act, 'plain')['test_acc']) * 100:.1f}% -> {_mean(get(act, fix)['test_acc']) * 100:.1f}%"))
  return claims


def degradation_claims(rows: Sequence[Row], thresholds: ConfigDict) -> list[Claim]:
  net = {r["net"]: r for r in rows}
  lo, hi = sorted({r["depth"] for r in rows})
  src = "He et al. 2016, Fig. 1/6 and Sec. 4.1"
  curve = lambda name: np.nanmean(np.asarray(net[name]["train_err_curve"], float), axis=1)  # noqa: E731
  shallow, deep = curve(f"plain-{lo}"), curve(f"plain-{hi}")
  # A net whose replicas all diverged stops early: its curve is shorter and cannot be compared.
  comparable = len(shallow) == len(deep) > 0
  higher = deep > shallow if comparable else np.zeros(0, bool)
  test_err = {name: _mean(net[name]["test_err"]) for name in (f"resnet-{lo}", f"resnet-{hi}")}
  train_err = {name: _mean(net[name]["train_err"]) for name in test_err}
  spreads = [spread(net[f"plain-{d}"][k]) for d in (lo, hi) for k in ("grad_init", "grad_end")]
  return [
      Claim(src, f"the deeper plain net (plain-{hi}) has higher training error than plain-{lo} throughout training",
            bool(np.all(higher)) if comparable else None,
            f"training error per epoch plain-{lo} {np.round(shallow * 100, 1).tolist()}% vs plain-{hi} "
            f"{np.round(deep * 100, 1).tolist()}% (higher in {int(higher.sum())}/{len(higher)} epochs)"),
      Claim(src, f"the deeper residual net (resnet-{hi}) has lower error than resnet-{lo}",
            test_err[f"resnet-{hi}"] < test_err[f"resnet-{lo}"],
            f"test error resnet-{lo} {test_err[f'resnet-{lo}'] * 100:.2f}% vs resnet-{hi} "
            f"{test_err[f'resnet-{hi}'] * 100:.2f}%; train error "
            f"{train_err[f'resnet-{lo}'] * 100:.2f}% vs {train_err[f'resnet-{hi}'] * 100:.2f}% "
            "(paper, CIFAR-10 test: ResNet-20 8.75%, ResNet-56 6.97%)"),
      Claim(src, "with batch norm the plain nets' per-layer gradient norms are healthy "
            f"(within a factor {thresholds.healthy_spread:g} across layers), so degradation is not vanishing "
            "gradients",
            all(healthy(s, thresholds) for s in spreads),  # a spread is >= 1; NaN (zero or non-finite) fails
            f"max/min per-layer |dL/dW| plain-{lo} init {spreads[0]:.1f} trained {spreads[1]:.1f}; "
            f"plain-{hi} init {spreads[2]:.1f} trained {spreads[3]:.1f}"),
  ]


def adding_claims(rows: Sequence[Row], thresholds: ConfigDict) -> list[Claim]:
  """Per sequence length, where both a tanh RNN and an LSTM were trained."""
  solved, at_baseline = thresholds.solved_mse_divisor, thresholds.at_baseline_mse_divisor
  claims = []
  for length in sorted({r["length"] for r in rows}):
    cell = {r["cell"]: r for r in rows if r["length"] == length}
    if not {"tanh", "lstm"} <= set(cell):
      continue
    mse = {c: _mean(r["test_mse"]) for c, r in cell.items()}
    within = {c: _mean(r["within_tol"]) for c, r in cell.items()}
    claims.append(Claim(
        "Hochreiter & Schmidhuber 1997, Exp. 4",
        f"T={length}: the LSTM solves the adding problem (test MSE < baseline/{solved:g}) where the tanh RNN "
        f"stays at the baseline (MSE > baseline/{at_baseline:g})",
        mse["lstm"] < BASELINE_MSE / solved and mse["tanh"] > BASELINE_MSE / at_baseline,
        "; ".join(f"{c} MSE {m:.2e} ({m / BASELINE_MSE:.2f} x baseline 1/96), {within[c] * 100:.1f}% within "
                  f"{SUCCESS_TOLERANCE}" for c, m in mse.items())))
  return claims


CLAIMS = {"depth": depth_claims, "degradation": degradation_claims, "adding": adding_claims}
