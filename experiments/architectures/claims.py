"""The study's claims. Counts and the rewrite's equivalence are deterministic (decided on their value);
trained comparisons are decided over seeds beyond the seed noise (`jaxdl.report.verdicts`), or NOT TESTED."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from jaxdl.report.claims import Claim
from jaxdl.report.verdicts import all_of, beyond, exceeds, own_check

# GoogLeNet's Table 1, inception (3a): "159K" parameters and "128M" ops.
TABLE_1_PARAMS_K, TABLE_1_OPS_M = 159, 128
# Ours, fixed before the run: a head "removes most of the parameters" below a tenth of the dense head's.
HEAD_RATIO = 0.1
# Ours, fixed before the run: "no loss in accuracy" read as not lower by more than half a point.
ACC_MARGIN = 0.005
# float32 logits of the same arithmetic in another order: equal to rounding (logits are O(10)).
EQUIVALENCE_TOL = 1e-4

PCT = dict(scale=100, digits=2, unit="%")


def inception_claims(counts: Mapping[str, Mapping[str, int]]) -> list[Claim]:
  b, naive = counts["bottleneck"], counts["naive"]
  table = all_of(beyond([b["weights"] // 1024], TABLE_1_PARAMS_K - 0.5, name="weights / 1024", digits=1,
                        one_seed_ok=True),
                 beyond([b["weights"] // 1024], TABLE_1_PARAMS_K + 0.5, above=False, name="weights / 1024",
                        digits=1, one_seed_ok=True),
                 beyond([round(b["multiply_adds"] / 1e6)], TABLE_1_OPS_M - 0.5, name="multiply-adds (M), rounded",
                        digits=1, one_seed_ok=True),
                 beyond([round(b["multiply_adds"] / 1e6)], TABLE_1_OPS_M + 0.5, above=False,
                        name="multiply-adds (M), rounded", digits=1, one_seed_ok=True),
                 beyond([abs(b["flax_weights"] - b["weights"])], 0.5, above=False,
                        name="|Flax module's weights - hand count|", digits=1, one_seed_ok=True))
  saving = beyond([naive["weights"] / b["weights"]], 1.0, name="naive / bottleneck weights", digits=2,
                  one_seed_ok=True)
  return [
      Claim("Szegedy et al. 2015, Table 1 (inception (3a): 159K parameters, 128M ops)",
            "inception (3a) has 159K parameters and 128M operations",
            *table, criterion="hand count / 1024 = 159 and multiply-adds rounded to millions = 128 (Table 1's "
                              "units), and the Flax module holds exactly the hand-counted weights"),
      Claim("Szegedy et al. 2015, Sec. 4 (1x1 reductions before the expensive 3x3 and 5x5 convolutions)",
            "the 1x1 bottlenecks make the module cheaper than the naive module of the same branch widths", *saving,
            criterion="naive / bottleneck weights > 1 (deterministic; the multiply-adds scale alike)"),
  ]


def head_claims(params: Mapping[str, int], accuracy: Mapping[str, Mapping[str, Sequence[float]]]) -> list[Claim]:
  """params[head]: the head's parameters; accuracy[dataset][head]: test accuracy per seed."""
  ratio = params["gap"] / params["dense"]
  out = [Claim("Lin et al. 2014, Sec. 3.2 (global average pooling has no parameters to optimize)",
               "a global-average-pooling head has far fewer parameters than a fully connected head",
               *beyond([ratio], HEAD_RATIO, above=False, name="GAP head / dense head parameters", digits=3,
                       one_seed_ok=True),
               criterion=f"ratio < {HEAD_RATIO:g} (ours, fixed before the run)")]
  for dataset, acc in accuracy.items():
    diff = np.subtract(acc["gap"], acc["dense"])
    out.append(Claim(
        "Lin et al. 2014, Sec. 3.2 (GAP as a structural regularizer: it replaces the fully connected layers)",
        f"on {dataset}, the GAP head classifies as well as the dense head",
        *beyond(diff, -ACC_MARGIN, name="test accuracy, GAP - dense (per seed)", **PCT),
        criterion=f"mean over seeds of GAP - dense test accuracy > -{100 * ACC_MARGIN:g} pt beyond the seed "
                  "std (ours: 'as well as' read as not worse by more than half a point)"))
  return out


def downsampling_claim(pool: Sequence[float], strided: Sequence[float], dataset: str) -> Claim:
  return Claim("Springenberg et al. 2015 (max-pooling can be replaced by a convolution with a larger stride "
               "without loss in accuracy)",
               f"on {dataset}, stride-2 convolutions instead of 2x2 max pooling lose no accuracy",
               *beyond(np.subtract(strided, pool), -ACC_MARGIN, name="test accuracy, strided - pooled (per seed)",
                       **PCT),
               criterion=f"mean over seeds of strided - pooled test accuracy > -{100 * ACC_MARGIN:g} pt beyond "
                         "the seed std (ours; the same parameters and feature-map sizes)")


def aux_claim(grads: Mapping[str, Sequence[Sequence[float]]], weight: float, aux_at: int) -> Claim:
  # log10: the norms span orders of magnitude (a plain sigmoid net's first layer gets ~1e-7)
  first_with = [np.log10(g[0]) for g in grads["with"]]
  first_without = [np.log10(g[0]) for g in grads["without"]]
  return Claim("Szegedy et al. 2015, Sec. 5 (auxiliary classifiers on intermediate layers increase the gradient "
               "signal that gets propagated back)",
               "an auxiliary head increases the gradient reaching the first layer of a deep plain net",
               *exceeds(first_with, first_without, names=(f"log10 ||dL/dW_1|| with the head (weight {weight:g}, "
                                                           f"after layer {aux_at})", "without"), digits=2),
               criterion="with - without log10 first-layer gradient norm at initialization > the larger seed std")


def fcn_claim(result: Mapping[str, Any]) -> Claim:
  return Claim(own_check("Long et al. 2015 rewrite a classifier's dense layers as convolutions; the rewrite "
                         "must leave the classifier unchanged"),
               "the dense head rewritten as convolutions gives the same logits on 28x28 inputs",
               *beyond([result["max_abs_logit_difference"]], EQUIVALENCE_TOL, above=False,
                       name=f"max |logit difference| over {result['examples']} test images", digits=7,
                       one_seed_ok=True),
               criterion=f"< {EQUIVALENCE_TOL:g} (float32 rounding of the same sums in another order)")
