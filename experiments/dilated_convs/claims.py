"""The papers' claims, checked against the cells' results.

MNIST-1D and context-module claims read per-net summaries: dicts with
`label`, `shuffled` and `replicas` (the cell's results.json rows); MNIST-1D
ones also `steps`.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from experiments.dilated_convs.receptive_fields import CONTEXT_MODULE, UNDILATED
from jaxdl.report import tables
from jaxdl.report.claims import Claim

# Greydanus 2020, MNIST-1D test accuracy (%): (unshuffled, shuffled spatial dim), after 8000 steps.
PAPER_MNIST1D = {"logistic": (32, 32), "mlp": (68, 68), "cnn": (94, 56)}
PAPER_MNIST1D_STEPS = 8000

Nets = Sequence[dict[str, Any]]


def accuracies(net: dict[str, Any], metric: str = "test_acc") -> list[float]:
  return [r[metric] for r in net["replicas"]]


def pct(values: Sequence[float]) -> str:
  """Mean ± std over the seeds, in % with one decimal (as the tables show accuracies)."""
  return tables.mean_std_text(values, scale=100, digits=1)


def receptive_field_claims(results: dict[str, Any]) -> list[Claim]:
  """results: the receptive-field cell's results (rows, erf_radius)."""
  rows = results["rows"]
  bad = [f"{r['stack']} layer {r['layer']}" for r in rows if not r["agree"]]
  ctx = [r["measured"][0] for r in rows if r["stack"] == CONTEXT_MODULE]
  radius = np.asarray(results["erf_radius"][UNDILATED])
  field = np.array([r["analytical"][0] for r in rows if r["stack"] == UNDILATED])
  ratio = radius / field
  return [
      Claim("Yu & Koltun 2016, Sec. 2 and Table 1",
            "analytical receptive fields (2i+1; 2^(i+1)-1; (2^(i+2)-1)^2; context module "
            "3,5,9,17,33,65,67,67) equal the measured nonzero-gradient fields",
            not bad, f"{len(rows) - len(bad)}/{len(rows)} layers agree"
            + (f"; disagree: {', '.join(bad)}" if bad else "") + f"; context module measured {ctx}"),
      Claim("Luo et al. 2016",
            "the effective receptive field (RMS radius) shrinks relative to the theoretical one "
            "with depth: at every step from depth 2 on, and from depth 1 to the last (undilated 1x3 stack)",
            bool(np.all(np.diff(ratio[1:]) < 0) and ratio[-1] < ratio[0]),
            "ERF RMS radius / theoretical field per depth: " + ", ".join(f"{r:.3f}" for r in ratio)),
  ]


def mnist1d_claims(nets: Nets) -> list[Claim]:
  """The paper's accuracies are compared only when the cells trained for the paper's 8000 steps."""
  acc = {(n["label"], n["shuffled"]): tables.mean_std(accuracies(n)) for n in nets}
  accs = {(n["label"], n["shuffled"]): accuracies(n) for n in nets}
  steps = nets[0]["steps"]
  paper_budget = steps >= PAPER_MNIST1D_STEPS
  m = {k: v[0] * 100 for k, v in acc.items()}
  sd = {k: v[1] * 100 for k, v in acc.items()}
  paper_rows = ", ".join(f"{k} {pct(accs[(k, False)])} (paper {PAPER_MNIST1D[k][0]})" for k in PAPER_MNIST1D)
  within = all(abs(m[(k, False)] - PAPER_MNIST1D[k][0]) <= 3 for k in PAPER_MNIST1D)
  d4, u4 = ("dilated 1,2,4,8, depth 4", False), ("undilated, depth 4", False)
  d3, u7 = ("dilated 1,2,4, depth 3", False), ("undilated, depth 7", False)
  noise = max(sd[d4], sd[u4])
  cnn_drop = m[("cnn", False)] - m[("cnn", True)]
  mlp_change = m[("mlp", False)] - m[("mlp", True)]
  return [
      Claim("Greydanus 2020, MNIST-1D table",
            "test accuracy: logistic 32%, MLP 68%, CNN 94% (within 3 points, after 8000 steps)",
            within if paper_budget else None,
            paper_rows + ("" if paper_budget else f"; {steps} steps, not {PAPER_MNIST1D_STEPS}, so not compared")),
      Claim("Greydanus 2020, MNIST-1D table", "ordering CNN > MLP > logistic regression",
            m[("cnn", False)] > m[("mlp", False)] > m[("logistic", False)], paper_rows),
      Claim("Greydanus 2020, shuffled spatial dim",
            "shuffling the positions costs the CNN > 10 points (94 -> 56) and leaves the MLP "
            "within 3 points (68 -> 68)",
            cnn_drop > 10 and abs(mlp_change) <= 3,
            f"CNN {pct(accs[('cnn', False)])} -> {pct(accs[('cnn', True)])}; MLP "
            f"{pct(accs[('mlp', False)])} -> {pct(accs[('mlp', True)])}"),
      Claim("Yu & Koltun 2016 (dilation aggregates context)",
            "at equal depth, width and parameters (4 layers, 32 ch, global pooling), the dilated "
            "CNN (field 31) beats the undilated one (field 9) by more than the seed std",
            m[d4] - m[u4] > noise, f"dilated {m[d4]:.1f} vs undilated {m[u4]:.1f} (seed std <= {noise:.1f})"),
      Claim("Yu & Koltun 2016 (exponential field, linear parameters)",
            "a 3-layer dilated CNN (field 15) is no worse (within 2 points) than a 7-layer "
            "undilated CNN of the same field",
            m[d3] >= m[u7] - 2, f"dilated depth 3: {m[d3]:.1f}, undilated depth 7: {m[u7]:.1f}"),
  ]


def context_module_claims(nets: Nets, dataset: str) -> list[Claim]:
  """nets: front end alone, + module (identity init), + module (random init), in that order."""
  (mf, sf, _), (mi, si, _), (mr, sr, _) = (tables.mean_std(accuracies(n)) for n in nets)
  text = (f"front end {100 * mf:.2f}, + module identity init {100 * mi:.2f}, "
          f"+ module random init {100 * mr:.2f} (% test, {dataset}; nan = every seed diverged)")
  identity_beats = mi - mf > max(sf, si)
  random_beats = math.isfinite(mr) and mr - mf > max(sf, sr)  # a diverged random module beats nothing
  return [
      Claim("Yu & Koltun 2016, Table 3", "the context module (identity init) improves on the front end "
            "alone by more than the seed std", identity_beats, text),
      Claim("Yu & Koltun 2016, Sec. 3", "identity initialization was required: the randomly "
            "initialized module does not beat the front end alone while the identity one does",
            identity_beats and not random_beats, text),
  ]
