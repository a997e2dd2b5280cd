"""The claims, checked against the cells' results (verdicts: `jaxdl.report.verdicts`).

Each function reads the cells' results.json dicts (as `CellRecord.results`),
so the tests can feed it synthetic ones. Errors are compared as log10 of the
mean squared error: they span decades, and a difference of logs is a ratio.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

from jaxdl import approximation as approx
from jaxdl.report.claims import Claim
from jaxdl.report.verdicts import Verdict, all_of, beyond, exceeds, own_check

BOOK = "Goodfellow, Bengio & Courville 2016, Deep Learning, sec. 6.1"
TELGARSKY = "Telgarsky 2016, Benefits of depth in neural networks"

# The closed-form least squares (float64, four points) is exact up to rounding.
LEAST_SQUARES_TOL = 1e-6
# The trained linear model: Adam with its rate decayed to 0 converges on this convex problem; a
# hundredth of the targets' range, fixed before the run, is far above its rounding and far below
# any other answer (the nearest other outputs, of a model that fits XOR better, differ by 1/4).
LINEAR_TOL = 0.01
# "Most" random starts: more than half.
MOST = 0.5
# The constructions are evaluated on dyadic points, where their float32 arithmetic is exact; the
# tolerance only allows XLA to reorder a sum.
EXACT_TOL = 1e-6
# A trained net "found" the sawtooth when its MSE is below 1e-4 (RMS error 1% of the range 1).
FOUND_MSE = 1e-4
LOG_FLOOR = 1e-12  # log10 of an exact zero error


def log_mse(values: Sequence[float]) -> list[float]:
  return [math.log10(max(float(v), LOG_FLOOR)) for v in values]


def binomial_se(p: float, n: int) -> float:
  return math.sqrt(p * (1 - p) / n)


def _deterministic(held: bool, measured: str) -> Verdict:
  return bool(held), measured


def xor_claims(exact: dict[str, Any], linear: dict[str, Any], starts: Sequence[dict[str, Any]]) -> list[Claim]:
  """exact: xor_exact's results; linear: xor_linear's; starts: the xor_relu_w<n> results, narrowest first."""
  ls = exact["least_squares"]
  ls_dev = max(max(abs(w) for w in ls["w"]), abs(ls["b"] - 0.5))
  deviations = [max(abs(o - 0.5) for o in r["outputs"]) for r in linear["replicas"]]
  book = exact["book_net"]
  book_exact = book["outputs"] == approx.XOR_TARGETS.tolist() and book["loss"] == 0.0
  first, widest = starts[0], starts[-1]
  claims = [
      Claim(BOOK, "a linear model fitted to XOR by squared loss has w = 0, b = 1/2 and outputs 1/2 everywhere",
            *all_of(_deterministic(ls_dev <= LEAST_SQUARES_TOL,
                                   f"least squares w = [{ls['w'][0]:.1e}, {ls['w'][1]:.1e}], b = {ls['b']:.6f}"),
                    beyond(deviations, LINEAR_TOL, above=False, name="trained (Adam): max |output - 1/2|",
                           digits=4)),
            criterion=f"closed form: |w|, |b - 1/2| <= {LEAST_SQUARES_TOL:g} (rounding); trained: the largest "
                      f"|output - 1/2| below {LINEAR_TOL} (a fixed convergence tolerance) by more than the seed std"),
      Claim(BOOK, "the ReLU net W = [[1,1],[1,1]], c = [0,-1], w = [1,-2], b = 0 outputs 0, 1, 1, 0 (loss 0)",
            *_deterministic(book_exact, f"outputs {book['outputs']}, loss {book['loss']:g}"),
            criterion="exact equality (integer arithmetic in float32: no rounding, one evaluation decides)"),
      Claim(own_check("the lectures: gradient descent solves XOR from most random starts (the book, sec. 6.1, "
                      "says only that it can, depending on the starting values)"),
            f"most random starts of the {first['width']}-unit ReLU net solve XOR",
            *_starts_verdict(first),
            criterion=f"success fraction > {MOST} by more than its std over groups of starts (a start succeeds "
                      f"when all four outputs are within {_tol(first)} of the targets)"),
  ]
  if len(starts) > 1:
    claims.append(Claim(own_check("the book's net is the narrowest that can solve XOR; wider nets have more "
                                  "ways to solve it"),
                        f"more random starts solve XOR with {widest['width']} hidden units than with "
                        f"{first['width']}",
                        *exceeds(widest["group_fractions"], first["group_fractions"],
                                 (f"{widest['width']} units", f"{first['width']} units"), scale=100, digits=1,
                                 unit="%"),
                        criterion="difference of success fractions (per group of starts) > the larger std"))
  return claims


def _tol(starts: dict[str, Any]) -> str:
  return f"{starts.get('success_tol', 0.1):g}"


def _starts_verdict(starts: dict[str, Any]) -> Verdict:
  p, n = starts["fraction"], starts["starts"]
  held, measured = beyond(starts["group_fractions"], MOST, name="success fraction per group", scale=100,
                          digits=1, unit="%")
  return held, (f"{100 * p:.1f}% of {n} starts (binomial SE {100 * binomial_se(p, n):.1f}%); "
                f"{len(starts['group_fractions'])} groups: {measured}")


def width_claims(sweep: Sequence[dict[str, Any]], targets: Sequence[str]) -> list[Claim]:
  """sweep: the width_w<n> results, narrowest first. One claim per target: widest vs narrowest."""
  narrow, wide = sweep[0], sweep[-1]
  return [Claim(f"universal approximation (Cybenko 1989; Hornik et al. 1989): {target}",
                f"the error of one hidden layer falls with width ({target}: {narrow['width']} vs "
                f"{wide['width']} units)",
                *exceeds(log_mse(narrow["targets"][target]["mse"]), log_mse(wide["targets"][target]["mse"]),
                         (f"log10 MSE at {narrow['width']} units", f"at {wide['width']}")),
                criterion="log10 MSE of the narrowest - the widest > the larger std over seeds")
          for target in targets]


def sawtooth_claims(constructions: dict[str, Any], pairs: Sequence[dict[str, Any]]) -> list[Claim]:
  """constructions: sawtooth_constructions' results; pairs: the sawtooth_<w>x<L> results, the
  construction's shape (2 x k) first."""
  k = constructions["k"]
  rows = constructions["rows"]
  exact = [r for r in rows if r["deep_max_error"] <= EXACT_TOL and r["shallow_max_error"] <= EXACT_TOL
           and r["deep_linear_pieces"] == r["pieces"]]
  top = rows[-1]
  own = pairs[0]
  depth_pairs = [exceeds(log_mse(p["shallow"]["mse"]), log_mse(p["deep"]["mse"]),
                         (f"{p['params_label']}: shallow {p['shallow']['units']} units log10 MSE",
                          f"deep {p['deep_label']}")) for p in (_labelled(p) for p in pairs)]
  return [
      Claim(TELGARSKY, "the tent map composed k times (2^k pieces) is exact with k layers of 2 ReLU units; one "
            "hidden layer of 2^k units is exact too",
            *_deterministic(len(exact) == len(rows),
                            f"{len(exact)}/{len(rows)} of k = {rows[0]['k']}..{top['k']} exact; at k={top['k']}: "
                            f"deep {top['deep_units']} units ({top['deep_params']} params) vs shallow "
                            f"{top['shallow_units']} units ({top['shallow_params']} params)"),
            criterion=f"largest error on a dyadic grid <= {EXACT_TOL:g} (exact float arithmetic there) and 2^k "
                      f"linear pieces"),
      Claim(TELGARSKY, f"at equal parameter counts, deep nets fit the sawtooth (k={k}) better than one hidden "
            "layer (trained)",
            *all_of(*depth_pairs),
            criterion="at every budget: log10 MSE shallow - deep > the larger std over seeds"),
      Claim(own_check("gradient descent is not known to find the construction: reported as measured"),
            f"training the construction's shape (k={k} layers of 2 units) from random starts finds the sawtooth",
            *beyond(own["deep"]["mse"], FOUND_MSE, above=False, name="MSE", digits=4),
            criterion=f"mean MSE < {FOUND_MSE:g} (RMS 1% of the range) by more than the seed std"),
  ]


def _labelled(pair: dict[str, Any]) -> dict[str, Any]:
  deep = pair["deep"]
  return {**pair, "params_label": f"{deep['params']} params",
          "deep_label": f"{deep['widths'][0]}x{len(deep['widths'])}"}

