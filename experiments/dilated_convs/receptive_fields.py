"""Part 1, a measurement (no training): analytical vs measured receptive fields, and ERFs.

Four stacks of randomly initialized convs: 1x3 undilated (field 2i+1 after
layer i), 1x3 with dilation 2^i (2^(i+1)-1), 3x3 with dilation 2^i
((2^(i+2)-1)^2) and Yu & Koltun's context module (Table 1: 3, 5, 9, 17, 33,
65, 67, 67). Per layer, the closed form and the analytical field are checked
against the field measured from input gradients; the ERFs (Luo et al.) are
saved for the figure and the ERF-shrinks-with-depth claim.
"""
from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
from ml_collections import ConfigDict

from jaxdl import receptive_field as rf
from jaxdl.models import build_model
from jaxdl.study import MeasureCell

YU_KOLTUN_CONTEXT_FIELDS = [3, 5, 9, 17, 33, 65, 67, 67]  # Table 1
UNDILATED, DOUBLING = "1x3, undilated", "1x3, dilation 2^i"  # the 1-D stacks (ERF radii and profiles)
CONTEXT_MODULE = "context module"
ERF_STACKS = (UNDILATED, DOUBLING)

# A measured stack: its model, input shape [*spatial, C], conv layers, and closed-form field per layer.
Stack = tuple[nn.Module, tuple[int, ...], list[rf.ConvLayer], list[int]]


def _stacks(depth: int, depth_2d: int, width: int) -> dict[str, Stack]:
  """The four stacks by name, randomly initialized (`width` channels for the dilated ones)."""
  doubling = tuple(2 ** i for i in range(depth))
  length = 2 ** (depth + 1) - 1 + 16  # the largest field plus a margin: no unit near the border
  side_2d = 2 ** (depth_2d + 1) - 1 + 10
  ctx_side = YU_KOLTUN_CONTEXT_FIELDS[-1] + 10
  dilated = lambda dilations: build_model("dilated", 10, {"dilations": dilations, "width": width})  # noqa: E731
  return {
      UNDILATED: (dilated((1,) * depth), (length, 1), rf.conv_layers(3, (1,) * depth),
                  [2 * i + 1 for i in range(1, depth + 1)]),
      DOUBLING: (dilated(doubling), (length, 1), rf.conv_layers(3, doubling),
                 [2 ** (i + 1) - 1 for i in range(1, depth + 1)]),
      "3x3, dilation 2^i": (dilated(doubling[:depth_2d]), (side_2d, side_2d, 1),
                            rf.conv_layers(3, doubling[:depth_2d]), [2 ** (i + 2) - 1 for i in range(depth_2d)]),
      # Random (He) weights: the identity init's off-centre zeros would hide the structure.
      CONTEXT_MODULE: (build_model("context_module", 10, {
          "front_widths": (), "pool": 1, "width": 8, "context_dilations": (1, 1, 2, 4, 8, 16, 1),
          "context_init": "he_normal"}), (ctx_side, ctx_side, 8),
          rf.conv_layers((3,) * 7 + (1,), (1, 1, 2, 4, 8, 16, 1, 1)), YU_KOLTUN_CONTEXT_FIELDS),
  }


def measure_receptive_fields(depth: int, depth_2d: int, draws: int, width: int, seed: int) -> dict[str, Any]:
  """The measurement cell's results.

  rows: per stack and layer, the closed-form, analytical and measured field
    (side per spatial axis, in input positions), the holes inside it and
    whether all agree.
  erf_radius: per 1-D stack, the ERF's RMS radius per layer (input positions).
  erf_radius_draws: per 1-D stack, the same per draw [draws, layers] (each
    draw's |gradient| normalized on its own), for the spread over draws.
  erf: per 1-D stack its ERF profiles [layers, positions] (each layer sums to
    1), and for the context module its last layer's ERF [rows, columns].
  """
  key = jax.random.PRNGKey(seed)  # the same draws for every stack
  rows, erfs, radius_draws = [], {}, {}
  for name, (model, shape, layers, closed_form) in _stacks(depth, depth_2d, width).items():
    grads = rf.input_gradient_maps(model, shape, key, draws)
    measured = rf.measured_receptive_fields(grads)
    fields = rf.analytical_receptive_fields(layers)
    for i, (field, m, expected) in enumerate(zip(fields, measured, closed_form, strict=True)):
      analytical = (field,) * len(m["extent"])
      rows.append({"layer": i + 1, "dilation": layers[i].dilation, "analytical": analytical,
                   "measured": m["extent"], "holes": m["holes"], "stack": name, "closed_form": expected,
                   "agree": m["extent"] == analytical and m["holes"] == 0 and field == expected})
    erfs[name] = rf.effective_receptive_fields(grads)
    if name in ERF_STACKS:
      radius_draws[name] = [rf.erf_radius(rf.effective_receptive_fields(g[None])) for g in grads]
  return {"rows": rows, "erf_radius": {name: rf.erf_radius(erfs[name]) for name in ERF_STACKS},
          "erf_radius_draws": radius_draws,
          "erf": {**{name: erfs[name] for name in ERF_STACKS}, CONTEXT_MODULE: erfs[CONTEXT_MODULE][-1]}}


def receptive_field_cell(config: ConfigDict) -> MeasureCell:
  spec = config.receptive_field.to_dict()
  return MeasureCell.standalone("receptive_fields", spec, lambda: measure_receptive_fields(**spec))
