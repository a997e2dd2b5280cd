"""The papers' claims, decided on each part's rows (see rows.py) against the seed noise.

Gradient ratios and spreads are compared in decades (log10): the thresholds are
the config's, fixed before any run by an argument (the papers give no number):
a gradient that has "vanished" is more than two decades (vanished_ratio 1e-2)
below the last layer's; a "healthy" one is within a factor healthy_spread (100)
of it. At initialization the first/last layer ratio is a product of one factor
per layer, so it moves by decades with depth while one seed's draw moves it by
a fraction of a decade: one seed may decide these (`one_seed_ok`). Training
errors and test MSEs are seed-dependent comparisons: they need seeds, and an
effect within the seed noise is NOT TESTED.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
from ml_collections import ConfigDict

from jaxdl.report.claims import Claim
from jaxdl.report.verdicts import Estimate, Verdict, all_of, beyond, exceeds
from jaxdl.tasks.adding_problem import BASELINE_MSE, SUCCESS_TOLERANCE

Row = dict[str, Any]
# A ratio that underflowed to 0 is below float32's smallest subnormal: counted as that, in decades.
UNDERFLOW_LOG10 = math.log10(float(np.finfo(np.float32).smallest_subnormal))


def decades(values: Any) -> list[float]:
  """log10 of each value; 0 (underflow) -> UNDERFLOW_LOG10 and inf (a ratio over an underflowed
  norm) -> -UNDERFLOW_LOG10; NaN (diverged, or 0/0) stays NaN."""
  x = np.asarray(values, float)
  with np.errstate(divide="ignore", invalid="ignore"):
    out = np.where(x == 0, UNDERFLOW_LOG10, np.where(np.isposinf(x), -UNDERFLOW_LOG10, np.log10(x)))
  return [float(v) for v in out]


def spreads(grads: Any) -> list[float]:
  """Per replica: max/min over layers of the per-layer gradient norm (grads [K, L])."""
  g = np.asarray(grads, float)
  with np.errstate(divide="ignore", invalid="ignore"):
    return [float(v) for v in np.max(g, axis=1) / np.min(g, axis=1)]


def spread(grads: Any) -> float:
  """max/min over layers of the replica-mean per-layer gradient norm (grads [K, L]), for the table."""
  g = np.nanmean(np.asarray(grads, float), axis=0)
  return float(np.max(g) / np.min(g))


def _healthy(values: Any, thresholds: ConfigDict, name: str) -> Verdict:
  """Within a factor healthy_spread of 1: |log10| below log10(healthy_spread), beyond the seed noise."""
  return beyond([abs(v) for v in decades(values)], math.log10(thresholds.healthy_spread), above=False,
                name=f"|log10 {name}|", one_seed_ok=True)


def _vanished(values: Any, thresholds: ConfigDict, name: str) -> Verdict:
  held, measured = beyond(decades(values), math.log10(thresholds.vanished_ratio), above=False,
                          name=f"log10 {name}", one_seed_ok=True)
  if np.any(np.asarray(values, float) == 0):
    measured += f" (a ratio of 0 is a float32 underflow, counted as 10^{UNDERFLOW_LOG10:.2f})"
  return held, measured


def _ratio_criterion(thresholds: ConfigDict) -> str:
  return (f"vanished: log10 ratio < {math.log10(thresholds.vanished_ratio):g}; healthy: |log10 ratio| < "
          f"{math.log10(thresholds.healthy_spread):g} (two decades, an argument fixed before the run; the "
          "papers give no number); one seed decides (the ratio moves by decades with depth, a seed by a "
          "fraction of one)")


def depth_claims(rows: Sequence[Row], thresholds: ConfigDict) -> list[Claim]:
  deepest = max(r["depth"] for r in rows)

  def get(act: str, fix: str) -> Row:
    return next(r for r in rows if (r["activation"], r["variant"], r["depth"]) == (act, fix, deepest))

  activations = sorted({r["activation"] for r in rows})
  fixes = sorted({r["variant"] for r in rows} - {"plain"})
  limit = thresholds.healthy_spread
  criterion = _ratio_criterion(thresholds)
  claims = []
  if {"sigmoid", "relu"} <= set(activations):
    # Both halves are tested: sigmoid's ratio may underflow to 0, so "ReLU far above it" alone is vacuous.
    held, measured = all_of(_vanished(get("sigmoid", "plain")["ratio_init"], thresholds, "sigmoid |g1|/|gL|"),
                            _healthy(get("relu", "plain")["ratio_init"], thresholds, "relu |g1|/|gL|"))
    claims.append(Claim(
        "Bengio et al. 1994; Glorot & Bengio 2010",
        f"at depth {deepest} the first layer's gradient is orders of magnitude below the last's for "
        f"sigmoid (ratio < {thresholds.vanished_ratio:g}), while for ReLU with He init it stays within a "
        f"factor {limit:g} of 1", held, measured + " (at init)", criterion=criterion))
  for act in (a for a in activations if a != "relu"):
    plain = get(act, "plain")
    gone, gone_text = _vanished(plain["ratio_init"], thresholds, f"plain {act} |g1|/|gL|")
    for fix in fixes:
      fixed = get(act, fix)
      restored, restored_text = _healthy(fixed["ratio_init"], thresholds, f"{fix} |g1|/|gL|")
      # Nothing to restore where the plain net's gradient has not vanished (or may not have).
      held = restored if gone else None
      why = "" if gone else (" -- the plain net's gradient has not vanished: nothing to restore" if gone is False
                             else " -- whether the plain net's gradient vanished is undecided")
      claims.append(Claim(
          "Ioffe & Szegedy 2015" if fix == "batch_norm" else "He et al. 2016",
          f"{fix.replace('_', ' ')} restores the gradient of the first layers of a {deepest}-layer {act} MLP "
          f"(plain ratio below {thresholds.vanished_ratio:g}, fixed ratio within a factor {limit:g} of 1)",
          held,
          f"{gone_text}; {restored_text} (at init){why}; test acc {Estimate.of(plain['test_acc']).text(100, 1, '%')} "
          f"plain, {Estimate.of(fixed['test_acc']).text(100, 1, '%')} with {fix}", criterion=criterion))
  return claims


def _per_epoch_higher(deep: np.ndarray, shallow: np.ndarray, names: tuple[str, str]) -> Verdict:
  """Is `deep` [epochs, K] above `shallow` in every epoch, each epoch beyond its seed noise?"""
  verdicts = [exceeds(d, s) for d, s in zip(deep, shallow)]
  held = all_of(*verdicts)[0]
  steps = []
  for e, (d, s) in enumerate(zip(deep, shallow)):
    ed, es = Estimate.of(d), Estimate.of(s)
    steps.append(f"{e + 1}: {100 * (ed.mean - es.mean):+.1f} ± {100 * max(ed.std, es.std):.1f}")
  counts = [sum(v[0] is x for v in verdicts) for x in (True, None, False)]
  return held, (f"running training error per epoch, {names[0]} minus {names[1]} (points, ± the larger seed std; "
                f"n={Estimate.of(deep[0]).n}): {', '.join(steps)}; higher beyond the noise in {counts[0]}, within "
                f"it in {counts[1]}, lower in {counts[2]} of {len(verdicts)} epochs")


def degradation_claims(rows: Sequence[Row], thresholds: ConfigDict) -> list[Claim]:
  net = {r["net"]: r for r in rows}
  lo, hi = sorted({r["depth"] for r in rows})
  src = "He et al. 2016, Fig. 1/6 and Sec. 4.1"
  curve = lambda name: np.asarray(net[name]["train_err_curve"], float)  # noqa: E731  [epochs, K]
  shallow, deep = curve(f"plain-{lo}"), curve(f"plain-{hi}")
  # A net whose replicas all diverged stops early: its curve is shorter and cannot be compared.
  if len(shallow) == len(deep) > 0:
    degrades = _per_epoch_higher(deep, shallow, (f"plain-{hi}", f"plain-{lo}"))
  else:
    degrades = None, f"the curves have {len(shallow)} and {len(deep)} epochs (a net stopped early)"
  pct = dict(scale=100, unit="%")
  resnet = exceeds(net[f"resnet-{lo}"]["train_err"], net[f"resnet-{hi}"]["train_err"],
                   names=(f"resnet-{lo}", f"resnet-{hi}"), **pct)
  test = (f"test error resnet-{lo} {Estimate.of(net[f'resnet-{lo}']['test_err']).text(**pct)} vs resnet-{hi} "
          f"{Estimate.of(net[f'resnet-{hi}']['test_err']).text(**pct)}")
  healthy = all_of(*(_healthy(spreads(net[f"plain-{d}"][k]), thresholds, f"spread plain-{d} {when}")
                     for d in (lo, hi) for k, when in (("grad_init", "init"), ("grad_end", "trained"))))
  noise = "the difference beyond the seed noise (the larger std of the two nets)"
  return [
      Claim(src, f"the deeper plain net (plain-{hi}) has higher training error than plain-{lo} throughout training",
            *degrades, criterion=f"in every epoch, {noise}; an epoch within the noise leaves the claim NOT TESTED"),
      Claim(src, f"the deeper residual net (resnet-{hi}) has lower training error than resnet-{lo}",
            resnet[0], f"final training error (eval mode, the training images) {resnet[1]}; {test} "
                       "(paper, CIFAR-10 test: ResNet-20 8.75%, ResNet-56 6.97%)",
            criterion=noise),
      Claim(src, "with batch norm the plain nets' per-layer gradient norms are healthy "
            f"(within a factor {thresholds.healthy_spread:g} across layers), so degradation is not vanishing "
            "gradients", *healthy,
            criterion=f"per seed, log10(max/min of the per-layer |dL/dW|) < {math.log10(thresholds.healthy_spread):g}"
                      " (two decades, an argument fixed before the run; He et al. give no number); one seed "
                      "decides (a vanished gradient is many decades below, cf. the sigmoid MLP)"),
  ]


def adding_claims(rows: Sequence[Row], thresholds: ConfigDict) -> list[Claim]:
  """Per sequence length, where both a tanh RNN and an LSTM were trained."""
  solved, at_baseline = thresholds.solved_mse_divisor, thresholds.at_baseline_mse_divisor
  claims = []
  for length in sorted({r["length"] for r in rows}):
    cell = {r["cell"]: r for r in rows if r["length"] == length}
    if not {"tanh", "lstm"} <= set(cell):
      continue
    ratio = {c: np.asarray(r["test_mse"], float) / BASELINE_MSE for c, r in cell.items()}
    held, measured = all_of(
        beyond(ratio["lstm"], 1 / solved, above=False, name="LSTM test MSE / baseline", digits=3),
        beyond(ratio["tanh"], 1 / at_baseline, above=True, name="tanh RNN test MSE / baseline", digits=3))
    within = "; ".join(f"{c} {Estimate.of(r['within_tol']).text(100, 1, '%')} of test sequences within "
                       f"{SUCCESS_TOLERANCE}" for c, r in cell.items())
    claims.append(Claim(
        "Hochreiter & Schmidhuber 1997, Exp. 4",
        f"T={length}: the LSTM solves the adding problem (test MSE < baseline/{solved:g}) where the tanh RNN "
        f"stays at the baseline (MSE > baseline/{at_baseline:g})", held, f"{measured}; {within}",
        criterion=f"baseline = 1/96, the MSE of predicting the mean; solved below baseline/{solved:g}, not learned "
                  f"above baseline/{at_baseline:g} (factors fixed before the run), each beyond the seed noise "
                  "(the LSTM leaves the baseline plateau at a seed-dependent step, so one seed does not decide)"))
  return claims


CLAIMS = {"depth": depth_claims, "degradation": degradation_claims, "adding": adding_claims}
