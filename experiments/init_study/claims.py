"""The papers' claims, checked on the cells' records (a claim needing a cell not trained is skipped)."""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np

from experiments.init_study.analysis import error_percent, init_statistic, mean_singular_values, outcome
from jaxdl.report import tables
from jaxdl.report.claims import Claim
from jaxdl.study import CellRecord

HE = "He et al. 2015"
GLOROT = "Glorot & Bengio 2010"


def he_claims(cells: Mapping[tuple[int, str], CellRecord], num_classes: int) -> list[Claim]:
  """He et al.'s claims on the cells keyed by (depth, initializer spec)."""
  depths = list(dict.fromkeys(depth for depth, _ in cells))
  inits = {init for _, init in cells}
  claims = _xavier_vs_he_claims(cells, depths, num_classes) if {"lecun_normal", "he_normal"} <= inits else []
  for init, text, want in [("normal:std=1", "N(0,1) explodes: training diverges", "diverged"),
                           ("normal:std=0.01", "N(0,0.01^2) makes deep nets stall", "stalled")]:
    if init in inits:
      seen = {d: outcome(cells[d, init].replicas, num_classes) for d in depths}
      claims.append(Claim(HE, text, all(o.split(" (")[0] == want for o in seen.values()),
                          ", ".join(f"depth {d}: {o}" for d, o in seen.items())))
  return claims


def _xavier_vs_he_claims(cells: Mapping[tuple[int, str], CellRecord], depths: list[int],
                         num_classes: int) -> list[Claim]:
  """Var[w] = 1/n ("Xavier", LeCun normal) against He's 2/n: activations, gradients, training."""
  claims, parts, held = [], [], True
  for depth in depths:
    lecun = init_statistic(cells[depth, "lecun_normal"], "preact_std")[-1]
    he_std = init_statistic(cells[depth, "he_normal"], "preact_std")[-1]
    want = 2.0 ** (-depth / 2)  # y_{L-1} has passed L kernels: one factor sqrt(1/2) each
    ratio = lecun / he_std
    held &= bool(1 / 1.5 <= ratio / want <= 1.5)
    parts.append(f"depth {depth}: Xavier/He std at the last layer {ratio:.3g} vs 2^(-{depth}/2) = {want:.3g}")
  claims.append(Claim(f"{HE}, Sec. 2.2", "With Var[w]=1/n ('Xavier') the activation std after L ReLU "
                      "layers is 2^(-L/2) of He's (within a factor 1.5)", held, "; ".join(parts)))
  spreads = [float(np.max(s) / np.min(s)) for s in
             (init_statistic(cells[d, "he_normal"], "preact_std") for d in depths)]
  claims.append(Claim(f"{HE}, eq. (10)", "He's init keeps the pre-activation std roughly constant "
                      "over depth (max/min over layers <= 2)", all(s <= 2 for s in spreads),
                      ", ".join(f"depth {d}: max/min {s:.2f}" for d, s in zip(depths, spreads))))
  shallow, deepest = min(depths), max(depths)
  he = {d: outcome(cells[d, "he_normal"].replicas, num_classes) for d in (shallow, deepest)}
  xavier = {d: outcome(cells[d, "lecun_normal"].replicas, num_classes) for d in (shallow, deepest)}
  he_loss, xavier_loss = (float(np.nanmean(cells[shallow, i].curve("train_loss")[0]))
                          for i in ("he_normal", "lecun_normal"))
  # Outcomes are compared exactly: "converged, 1/2 diverged" is not "converged".
  claims.append(Claim(f"{HE}, Fig. 2", f"At {shallow} layers both He and Xavier converge, He's earlier",
                      he[shallow] == "converged" and xavier[shallow] == "converged" and he_loss < xavier_loss,
                      f"He: {he[shallow]}, Xavier: {xavier[shallow]}; "
                      f"epoch-1 train loss He {he_loss:.3f} vs Xavier {xavier_loss:.3f}"))
  grad_ratio = (init_statistic(cells[deepest, "lecun_normal"], "kernel_grad_norm")[0]
                / init_statistic(cells[deepest, "he_normal"], "kernel_grad_norm")[0])
  claims.append(Claim(f"{HE}, Fig. 3", f"At {deepest} layers Xavier stalls with diminishing gradients "
                      "(first-layer dL/dW at init < 1/10 of He's) while He converges",
                      xavier[deepest] == "stalled" and he[deepest] == "converged" and bool(grad_ratio < 0.1),
                      f"He: {he[deepest]}, Xavier: {xavier[deepest]}; "
                      f"first-layer dL/dW norm at init Xavier/He = {grad_ratio:.2g}"))
  return claims


def glorot_claims(cells: Mapping[str, CellRecord]) -> list[Claim]:
  """Glorot & Bengio's claims on the cells keyed by Table-1 row label."""
  claims = []
  if {"tanh", "tanh-N"} <= set(cells):
    ratio = {label: float(init_statistic(cells[label], "preact_grad_std")[0]
                          / init_statistic(cells[label], "preact_grad_std")[-1])
             for label in ("tanh", "tanh-N")}
    claims.append(Claim(f"{GLOROT}, Fig. 7", "At init (tanh) the back-propagated gradient std shrinks toward "
                        "the input under standard init and stays roughly constant under normalized init "
                        "(first/last layer ratio: standard < half of normalized's; normalized in [0.5, 2])",
                        ratio["tanh"] < 0.5 * ratio["tanh-N"] and 0.5 <= ratio["tanh-N"] <= 2,
                        f"dL/dpre std first/last hidden layer: standard {ratio['tanh']:.3f}, "
                        f"normalized {ratio['tanh-N']:.3f}"))
  jacobians = {label: mean_singular_values(cells[label]) for label in ("tanh", "tanh-N") if label in cells}
  if len(jacobians) == 2 and all(means is not None for means in jacobians.values()):
    means = {k: [float(m) for m in v] for k, v in jacobians.items()}
    claims.append(Claim(f"{GLOROT}, Sec. 4.2.2", "Normalized init gives layer Jacobians a larger mean singular "
                        "value than standard init (paper: ~0.8 vs ~0.5)",
                        bool(np.mean(means["tanh-N"]) > np.mean(means["tanh"])),
                        f"mean singular value per layer, standard {np.round(means['tanh'], 2).tolist()}, "
                        f"normalized {np.round(means['tanh-N'], 2).tolist()}"))
  return claims + _table1_claims(cells)


def _table1_claims(cells: Mapping[str, CellRecord]) -> list[Claim]:
  """Table 1's test errors: tanh-N below tanh, sigmoid the highest."""
  # mean and std over the finite seeds; a cell with a diverged seed is not comparable
  stats = {label: tables.mean_std(error_percent(c)) for label, c in cells.items()}
  error = {label: (m, s) if n == len(cells[label].replicas) else (math.nan, math.nan)
           for label, (m, s, n) in stats.items()}
  shown = ", ".join(f"{k} {m:.2f} ± {s:.2f}%" for k, (m, s) in error.items())
  claims = []
  if {"tanh", "tanh-N"} <= set(error):
    (normalized, sd_n), (standard, sd_s) = error["tanh-N"], error["tanh"]
    claims.append(Claim(f"{GLOROT}, Table 1", "tanh-N has lower test error than tanh (paper, MNIST: 1.64 vs 1.76), "
                        "by more than the larger seed std", bool(standard - normalized > max(sd_n, sd_s)),
                        f"tanh-N {normalized:.2f} ± {sd_n:.2f}% vs tanh {standard:.2f} ± {sd_s:.2f}%"))
  if "sigmoid" in error and len(error) > 1:
    means = {k: m for k, (m, _) in error.items()}
    finite = all(math.isfinite(m) for m in means.values())
    claims.append(Claim(f"{GLOROT}, Table 1", f"sigmoid has the highest test error of the {len(error)} cells "
                        "(paper, MNIST: 2.21%)", max(means, key=means.get) == "sigmoid" if finite else None,
                        shown + ("" if finite else " (a diverged cell: not comparable)")))
  return claims
