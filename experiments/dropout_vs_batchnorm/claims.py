"""The papers' claims, checked on the replica rows (see `rows.replica_rows`)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from experiments.dropout_vs_batchnorm.rows import after_dropout, group, lr_behaviour
from jaxdl.report import tables
from jaxdl.report.claims import Claim

Rows = list[dict[str, Any]]


def check(rows: Rows, stall_acc: float) -> list[Claim]:
  """Ioffe & Szegedy's speed-up and lr tolerance, Srivastava et al.'s dropout gain, Ioffe &
  Szegedy's "BN makes dropout unneeded", and Li et al.'s variance shift, in that order."""
  nets = list(dict.fromkeys(r["net"] for r in rows))
  return [speed_up(rows, nets), lr_tolerance(rows, nets, stall_acc), dropout_gain(rows, nets),
          dropout_after_bn(rows, nets), variance_shift_claim(rows, nets)]


def _at(rows: Rows, net: str, regularizer: str, lr_mult: float = 1.0) -> Rows:
  return group(rows, net=net, regularizer=regularizer, lr_mult=lr_mult)


def _mean_test_acc(members: Rows) -> float:
  return tables.mean_std(r["test_acc"] for r in members)[0]


def speed_up(rows: Rows, nets: list[str]) -> Claim:
  # The target is the baseline seeds' mean best accuracy, so some baseline seeds never reach it: their
  # steps are left out (which understates the speed-up). Every BN@5x seed must reach it.
  speed, bn_reached = {}, {}
  for net in nets:
    none = [r["steps_to_target"] for r in _at(rows, net, "none") if r["steps_to_target"]]
    bn5 = [r["steps_to_target"] for r in _at(rows, net, "bn", 5.0)]
    bn_reached[net] = f"{sum(s is not None for s in bn5)}/{len(bn5)}"
    speed[net] = (np.mean(none) / np.mean(bn5)) if none and bn5 and None not in bn5 else float("nan")
  return Claim(
      "Ioffe & Szegedy 2015, Fig. 3 (31.0M vs 2.1M steps, 14x)",
      "BN with a 5x learning rate reaches the baseline's accuracy in fewer steps (every BN seed)",
      all(v > 1 for v in speed.values()) if speed else None,
      "speed-up (baseline steps at 1x / BN steps at 5x, to the baseline's best val acc): "
      + ", ".join(f"{n} {v:.2f}x" if math.isfinite(v) else f"{n}: {bn_reached[n]} BN@5x seeds reached it"
                  for n, v in speed.items())
      + "; epoch resolution")


def lr_tolerance(rows: Rows, nets: list[str], stall_acc: float) -> Claim:
  tolerance = {net: (lr_behaviour(_at(rows, net, "none", 30.0), stall_acc),
                     lr_behaviour(_at(rows, net, "bn", 30.0), stall_acc)) for net in nets}
  return Claim(
      "Ioffe & Szegedy 2015, Sec. 3.3 / BN-x30",
      "BN nets train at a 30x learning rate where the plain nets stall or diverge (every seed)",
      all(b == "trains" and "trains" not in p for p, b in tolerance.values()),
      "; ".join(f"{n}: none {p}, bn {b}" for n, (p, b) in tolerance.items()))


def dropout_gain(rows: Rows, nets: list[str]) -> Claim:
  gains = {net: _mean_test_acc(_at(rows, net, "dropout")) - _mean_test_acc(_at(rows, net, "none"))
           for net in nets}
  return Claim(
      "Srivastava et al. 2014, Table 2 (1.60% -> 1.25% error, ReLU)",
      "dropout lowers the test error of the ReLU MLP",
      gains["relu_mlp"] > 0 if "relu_mlp" in gains else None,
      "test acc dropout - none: " + ", ".join(f"{n} {100 * g:+.2f} points" for n, g in gains.items()))


def dropout_after_bn(rows: Rows, nets: list[str]) -> Claim:
  with_bn = {net: _mean_test_acc(_at(rows, net, "both")) - _mean_test_acc(_at(rows, net, "bn")) for net in nets}
  return Claim(
      "Ioffe & Szegedy 2015, Sec. 3.4",
      "once BN is there, dropout can be removed: adding it gains < 0.1 points",
      all(g < 0.001 for g in with_bn.values()),
      "test acc both - bn: " + ", ".join(f"{n} {100 * g:+.2f} points" for n, g in with_bn.items()))


def _recompute_gain(members: Rows) -> float:
  """Mean test-accuracy gain from recomputing BN statistics (0 without measured replicas)."""
  return float(np.mean([r["test_acc_recomputed_bn"] - r["test_acc"] for r in members])) if members else 0.0


def variance_shift_claim(rows: Rows, nets: list[str]) -> Claim:
  # Recomputing also helps a BN net without dropout when its running averages lag the weights (a
  # short run): the gain that counts is the one beyond that of the `bn` replicas, the control.
  shifted = []
  for net in nets:
    both = [r for r in _at(rows, net, "both") if "variance_shift" in r]
    control = _recompute_gain([r for r in _at(rows, net, "bn") if "test_acc_recomputed_bn" in r])
    for layer in (both[0]["variance_shift"] if both else {}):
      ratio = np.mean([r["variance_shift"][layer]["mean_ratio"] for r in both])
      if after_dropout(layer):
        shifted.append((net, layer, ratio, _recompute_gain(both), control))
  return Claim(
      "Li et al. 2019, variance shift",
      "with dropout before BN, the running variance exceeds the test-time variance (ratio > 1.05), and "
      "recomputing BN statistics in test mode recovers more accuracy than it does without dropout",
      all(ratio > 1.05 and fix > control for _, _, ratio, fix, control in shifted) if shifted else None,
      "; ".join(f"{n}/{layer}: var ratio {ratio:.3f}, recompute {100 * fix:+.2f} points "
                f"(no-dropout control {100 * control:+.2f})"
                for n, layer, ratio, fix, control in shifted) or "no BN layer with dropout upstream")
