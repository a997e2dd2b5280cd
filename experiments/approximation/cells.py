"""The study's cells, all measurements (`MeasureCell`s: small full-batch problems trained in one
compiled program each, their results saved as results.json).

xor_exact: the least-squares linear model and the book's ReLU net (no training).
xor_linear: the linear model trained from each seed.
xor_relu_w<n>: one hidden layer of n ReLU units from xor.starts random starts.
width_w<n>: one hidden layer of n units fitted to each 1-D target from each seed.
sawtooth_constructions: Telgarsky's exact deep and shallow nets, and constructed shallow nets
  with too few units against the lower bound.
sawtooth_<w>x<L>: a deep net of L layers of w units and the one-hidden-layer net of the same
  parameter count, trained on the sawtooth (2x<k> is the construction's own shape).
"""
from __future__ import annotations

from ml_collections import ConfigDict

from experiments.approximation import sawtooth, widths, xor
from experiments.configs import seed_range
from jaxdl.errors import UserError
from jaxdl.optim import OptimConfig
from jaxdl.study import Cell, MeasureCell


def optim_config(config: ConfigDict) -> OptimConfig:
  return OptimConfig(**config.optim.to_dict())


def deep_shapes(config: ConfigDict) -> list[tuple[int, ...]]:
  """The trained deep nets: the construction's shape (2 units x k layers), then deep_width x depths."""
  s = config.sawtooth
  return [(2,) * s.k, *((s.deep_width,) * depth for depth in s.depths)]


def shape_name(deep: tuple[int, ...]) -> str:
  return f"sawtooth_{deep[0]}x{len(deep)}"


def cells(config: ConfigDict) -> list[Cell]:
  x = config.xor
  if x.starts % x.groups:
    raise UserError(f"xor.starts ({x.starts}) must be a multiple of xor.groups ({x.groups})")
  seeds = list(seed_range(config))
  optim = optim_config(config)
  common = {"optim": config.optim.to_dict(), "seeds": seeds}
  cell = MeasureCell.standalone  # every cell here reads no other cell
  out: list[Cell] = [
      cell("xor_exact", {"grid": x.grid}, lambda: xor.measure_exact(x.grid)),
      cell("xor_linear", {**common, "steps": x.steps, "grid": x.grid},
            lambda: xor.measure_linear(seeds, optim, x.steps, x.grid))]
  starts = list(seed_range(config, x.starts))
  for n in x.widths:
    spec = {"optim": config.optim.to_dict(), "first_seed": starts[0], "starts": x.starts, "groups": x.groups,
            "steps": x.steps, "success_tol": x.success_tol, "grid": x.grid}
    out.append(cell(f"xor_relu_w{n}", {**spec, "width": n}, lambda n=n: xor.measure_random_starts(
        n, starts, optim, x.steps, x.success_tol, x.groups, x.grid)))
  w = config.widths.to_dict()
  for n in config.widths.widths:
    out.append(cell(f"width_w{n}", {**common, **w, "width": n}, lambda n=n: widths.measure_width(n, w, seeds, optim)))
  s = config.sawtooth.to_dict()
  out.append(cell("sawtooth_constructions", {"ks": s["construction_ks"], "k": s["k"], "eval_level": s["eval_level"]},
                   lambda: sawtooth.measure_constructions(s["construction_ks"], s["k"], s["eval_level"])))
  for deep in deep_shapes(config):
    out.append(cell(shape_name(deep), {**common, **s, "deep": list(deep)},
                     lambda deep=deep: sawtooth.measure_depth_vs_width(deep, s, seeds, optim)))
  return out
