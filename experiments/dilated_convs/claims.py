"""The papers' claims, checked against the cells' results (verdicts: `jaxdl.report.verdicts`).

MNIST-1D and dense-prediction claims read per-net summaries: dicts with
`label`, `shuffled` and `replicas` (the cell's results.json rows, in seed
order); MNIST-1D ones also `steps`, dense ones `scores` (per replica: the
measured `pixel_acc` and `mean_iou`).
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from experiments.dilated_convs.receptive_fields import CONTEXT_MODULE, UNDILATED
from jaxdl.report import tables
from jaxdl.report.claims import Claim
from jaxdl.report.verdicts import Estimate, Verdict, all_of, beyond, exceeds, own_check

# Greydanus 2020, MNIST-1D test accuracy (%): (ordered, shuffled spatial dim), after 8000 steps.
PAPER_MNIST1D = {"logistic": (32, 32), "mlp": (68, 68), "cnn": (94, 56), "gru": (91, 57)}
PAPER_MNIST1D_STEPS = 8000
MNIST1D_TEST_SIZE = 1000  # the paper's test split (5000 samples, 80/20)

Nets = Sequence[dict[str, Any]]


def accuracies(net: dict[str, Any], metric: str = "test_acc") -> list[float]:
  return [r[metric] for r in net["replicas"]]


def pct(values: Sequence[float]) -> str:
  """Mean ± std over the seeds, in % with one decimal (as the tables show accuracies)."""
  return tables.mean_std_text(values, scale=100, digits=1)


def binomial_se(p: float, n: int = MNIST1D_TEST_SIZE) -> float:
  """The standard error of an accuracy p measured on n test examples."""
  return math.sqrt(p * (1 - p) / n)


def paper_tolerance(paper_pct: float) -> float:
  """How far (in points) a reproduction may sit from a number of the paper's table: two binomial
  standard errors of its 1000-example test set at that accuracy, plus 0.5 for its rounding to
  whole percent. The paper reports one run, so its own seed spread is unknown."""
  return 100 * 2 * binomial_se(paper_pct / 100) + 0.5


# Non-inferiority margin of two MNIST-1D CNNs: two standard errors of the difference of two
# accuracies on the 1000 test examples at the paper's CNN accuracy (94%).
NON_INFERIORITY_MARGIN = 2 * math.sqrt(2) * binomial_se(0.94)


def receptive_field_claims(results: dict[str, Any]) -> list[Claim]:
  """results: the receptive-field cell's results (rows, erf_radius_draws)."""
  rows = results["rows"]
  bad = [f"{r['stack']} layer {r['layer']}" for r in rows if not r["agree"]]
  ctx = [r["measured"][0] for r in rows if r["stack"] == CONTEXT_MODULE]
  field = np.array([r["analytical"][0] for r in rows if r["stack"] == UNDILATED])
  ratios = np.asarray(results["erf_radius_draws"][UNDILATED]) / field  # [draws, layers]
  first, last = ratios[:, 0].tolist(), ratios[:, -1].tolist()
  depth = len(field)
  # The RMS radius of a field of F positions filled uniformly: sqrt((F^2 - 1) / 12).
  uniform = math.sqrt((field[-1] ** 2 - 1) / 12) / float(field[-1])
  return [
      Claim("Yu & Koltun 2016, Sec. 2 and Table 1",
            "analytical receptive fields (2i+1; 2^(i+1)-1; (2^(i+2)-1)^2; context module "
            "3,5,9,17,33,65,67,67) equal the measured nonzero-gradient fields, without holes (no gridding)",
            not bad, f"{len(rows) - len(bad)}/{len(rows)} layers agree"
            + (f"; disagree: {', '.join(bad)}" if bad else "") + f"; context module measured {ctx}",
            criterion="exact equality at every layer (the paper's formula and Table 1; a property of the "
                      "architecture, so no seed noise: one measurement decides)"),
      Claim("Luo et al. 2016, abstract",
            f"the effective receptive field occupies only a fraction of the theoretical one (undilated 1x3 "
            f"stack, depth {depth})",
            *beyond(last, uniform, above=False, name="ERF RMS radius / theoretical field", digits=3),
            criterion=f"< {uniform:.3f}, the ratio of a field filled uniformly (the RMS radius "
                      "sqrt((F^2-1)/12) of F positions), by more than the std over random draws"),
      Claim("Luo et al. 2016 (the shrinking ratio as commonly cited; its sqrt(n) law is unverified)",
            f"the ERF's share of the theoretical field shrinks with depth (undilated 1x3 stack, depth 1 vs {depth})",
            *exceeds(first, last, names=("depth 1", f"depth {depth}"), digits=3),
            criterion="ratio at depth 1 - ratio at the last depth > the std over random (weights, input) draws"),
  ]


def near_paper(values: Sequence[float], paper_pct: float, label: str) -> Verdict:
  """Does the mean lie inside paper ± paper_tolerance, each edge cleared by more than the seed std?"""
  tol = paper_tolerance(paper_pct)
  low, high = (paper_pct - tol) / 100, (paper_pct + tol) / 100
  held = all_of(beyond(values, low), beyond(values, high, above=False))[0]
  e = Estimate.of(values)
  why = {True: "", False: ": outside", None: ": NOT TESTED (within the seed std of an edge, or one seed)"}[held]
  return held, f"{label} {e.text(100, 1)} vs paper {paper_pct:g} (band {100 * low:.1f}-{100 * high:.1f}{why})"


def mnist1d_claims(nets: Nets) -> list[Claim]:
  """Greydanus's models (logistic, mlp, cnn, gru; ordered and shuffled) and the four dilation cells.
  The paper's accuracies are compared only when the cells trained for the paper's 8000 steps."""
  accs = {(n["label"], n["shuffled"]): accuracies(n) for n in nets}
  steps = next(n["steps"] for n in nets if n["label"] in PAPER_MNIST1D)
  paper_budget = steps >= PAPER_MNIST1D_STEPS

  def table_row(shuffled: bool) -> Claim:
    parts = [near_paper(accs[(k, shuffled)], PAPER_MNIST1D[k][shuffled], k) for k in PAPER_MNIST1D]
    held, measured = all_of(*parts, sep=", ")
    if not paper_budget:
      held, measured = None, f"{measured}; {steps} steps, not {PAPER_MNIST1D_STEPS}: not compared"
    row = "shuffled spatial dim" if shuffled else "ordered"
    return Claim(f"Greydanus 2020, MNIST-1D table ({row})",
                 f"test accuracy ({row}): " + ", ".join(f"{k} {PAPER_MNIST1D[k][shuffled]}%" for k in PAPER_MNIST1D),
                 held, measured,
                 criterion="each within the paper's number ± (2 binomial standard errors of its 1000 test "
                           "examples + 0.5 rounding), by more than the seed std, after the paper's 8000 steps")

  ordered = lambda k: accs[(k, False)]  # noqa: E731
  drop = lambda k: np.subtract(accs[(k, False)], accs[(k, True)]).tolist()  # noqa: E731  per seed
  d4, u4 = ordered("dilated 1,2,4,8, depth 4"), ordered("undilated, depth 4")
  d3, u7 = ordered("dilated 1,2,4, depth 3"), ordered("undilated, depth 7")
  pts = dict(scale=100, digits=1)
  return [
      table_row(False), table_row(True),
      Claim("Greydanus 2020, MNIST-1D table", "ordering CNN > GRU > MLP > logistic regression",
            *all_of(exceeds(ordered("cnn"), ordered("gru"), ("cnn", "gru"), **pts),
                    exceeds(ordered("gru"), ordered("mlp"), ("gru", "mlp"), **pts),
                    exceeds(ordered("mlp"), ordered("logistic"), ("mlp", "logistic"), **pts)),
            criterion="each difference > the seed noise (the paper: 94 > 91 > 68 > 32)"),
      Claim("Greydanus 2020, shuffled spatial dim",
            "shuffling the positions costs the CNN and the GRU more than the MLP (paper: 38 and 34 points vs 0)",
            *all_of(exceeds(drop("cnn"), drop("mlp"), ("CNN drop", "MLP drop"), **pts),
                    exceeds(drop("gru"), drop("mlp"), ("GRU drop", "MLP drop"), **pts)),
            criterion="per-seed drop (ordered - shuffled) of the CNN and of the GRU > the MLP's by more than "
                      "the seed noise"),
      Claim(own_check("Yu & Koltun test dilation on dense prediction, not on MNIST-1D; a field of 31 "
                      "positions sees a whole 40-position sequence, one of 9 only a part"),
            "at equal depth, width and parameters (4 layers, 32 ch, global pooling), the dilated "
            "CNN (field 31) beats the undilated one (field 9)",
            *exceeds(d4, u4, ("dilated", "undilated"), **pts),
            criterion="dilated - undilated > the seed noise"),
      Claim(own_check("Yu & Koltun's argument that dilation grows the field exponentially with linear "
                      "parameters, tested as: fewer layers reach the same field at no loss"),
            "a 3-layer dilated CNN (field 15) is no worse than a 7-layer undilated CNN of the same field",
            *beyond(np.subtract(d3, u7).tolist(), -NON_INFERIORITY_MARGIN, name="per-seed (dilated 3 - undilated 7)",
                    **pts),
            criterion=f"difference > -{100 * NON_INFERIORITY_MARGIN:.1f} points (two standard errors of a "
                      "difference of two accuracies on the 1000 test examples at the paper's CNN 94%), by "
                      "more than the seed std"),
  ]


def dense_scores(net: dict[str, Any], metric: str = "mean_iou") -> list[float]:
  return [s[metric] for s in net["scores"]]


def context_module_claims(nets: Nets) -> list[Claim]:
  """nets: front end alone, + module (identity init), + module (random init), in that order, trained
  with SGD on per-pixel labels (dense digits); compared on the test canvases' mean IoU."""
  front, identity, random = (dense_scores(n) for n in nets)
  pts = dict(scale=100, digits=1)
  return [
      Claim("Yu & Koltun 2016, Table 3 (VOC val mean IoU: front end 69.8, + Basic context module 71.3)",
            "the context module (identity init) improves on the front end alone (mean IoU, dense digits)",
            *exceeds(identity, front, ("+ module, identity init", "front end"), **pts),
            criterion="mean IoU difference > the seed noise"),
      Claim("Yu & Koltun 2016, Sec. 3 ('random initialization schemes were not effective for the "
            "context module')",
            "the identity-initialized context module beats the randomly initialized one (mean IoU, SGD)",
            *exceeds(identity, random, ("identity init", "random init"), **pts),
            criterion="mean IoU difference > the seed noise (the paper gives no number)"),
  ]
