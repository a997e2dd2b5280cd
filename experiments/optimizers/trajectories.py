"""The 2-D part, a measurement (no dataset): every optimizer's trajectory on one surface.

One compiled program per surface: inside one `jax.jit`, each optimizer (the
optax chain `jaxdl.optim.build_optimizer` gives the training runs) is vmapped
over the learning-rate grid and the starting points, and `lax.scan` runs its
steps. The cell saves, per (optimizer, lr, start), the numbers the claims
need, and the path of the first start for the figures.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax
from ml_collections import ConfigDict

from experiments.configs import seed_range
from jaxdl.optim import OptimConfig, build_optimizer
from jaxdl.study import MeasureCell
from jaxdl.surfaces import Surface, get_surface, starts

PATH_POINTS = 400  # points of a saved path after its first FULL_PATH_STEPS steps (evenly spaced in steps)
FULL_PATH_STEPS = 200


def cell_name(surface: str) -> str:
  return f"surface_{surface}"


def descend(surface: Surface, optimizers: Sequence[str], optim: dict[str, Any], lrs: jax.Array,
            points: jax.Array, steps: int) -> dict[str, jax.Array]:
  """Per optimizer, the positions [lrs, starts, steps + 1, 2] (start included): one jitted program."""

  def trajectory(name: str, lr: jax.Array, start: jax.Array) -> jax.Array:
    opt = build_optimizer(OptimConfig(**{**optim, "name": name}), steps_per_epoch=1, total_steps=steps, lr=lr)

    def step(carry, _):
      p, state = carry
      updates, state = opt.update(jax.grad(surface.value)(p), state, p)
      p = optax.apply_updates(p, updates)
      return (p, state), p

    _, path = jax.lax.scan(step, (start, opt.init(start)), None, length=steps)
    return jnp.concatenate([start[None], path])

  @jax.jit
  def program(lrs: jax.Array, points: jax.Array) -> dict[str, jax.Array]:
    return {name: jax.vmap(jax.vmap(lambda lr, p, name=name: trajectory(name, lr, p), (None, 0)), (0, None))(
        lrs, points) for name in optimizers}

  return program(lrs, points)


def path_steps(steps: int) -> np.ndarray:
  """The steps whose positions a saved path keeps: every one of the first FULL_PATH_STEPS, then
  PATH_POINTS evenly spaced up to the last."""
  return np.unique(np.concatenate([np.arange(min(steps, FULL_PATH_STEPS) + 1),
                                   np.linspace(0, steps, PATH_POINTS).round().astype(int)]))


def first_true_index(mask: np.ndarray) -> np.ndarray:
  """Index of the first True along the last axis, -1 where there is none."""
  return np.where(mask.any(-1), mask.argmax(-1), -1)


def escape_direction(surface: Surface) -> np.ndarray:
  """The unit eigenvector of the Hessian's negative eigenvalue at the surface's saddle."""
  hessian = jax.hessian(surface.value)(jnp.asarray(surface.saddle, jnp.float32))
  values, vectors = np.linalg.eigh(np.asarray(hessian, np.float64))
  return vectors[:, int(np.argmin(values))]


def _none_if_negative(steps: np.ndarray) -> list:
  return [[None if s < 0 else int(s) for s in row] for row in steps]


def measure_surface(spec: dict[str, Any]) -> dict[str, Any]:
  """The cell's results.

  starts: [S, 2] starting points (one per seed). Per optimizer, [lr][start]:
  steps_to_converge: the first step where f - f* <= converged_fraction x its value at the start (None: not
    within the steps); escape_steps (saddle only): the first step whose distance from the saddle along the
    Hessian's negative-curvature direction reaches escape_distance; final_gap: f - f* after the last step;
    diverged: not finite, or f - f* larger at the end than at the start; first_step: |p_1 - p_0| per
    coordinate [2]. path_steps, paths ([lr][points][2]) and gaps ([lr][points]): the first start's path.
  """
  surface = get_surface(spec["surface"])
  points = starts(surface, tuple(spec["seeds"]))
  lrs = jnp.asarray(spec["lrs"], jnp.float32)
  positions = descend(surface, spec["optimizers"], spec["optim"], lrs, points, spec["steps"])
  keep = path_steps(spec["steps"])
  value = jax.jit(jax.vmap(surface.value))
  runs, paths, gaps = {}, {}, {}
  for name, p in positions.items():
    p = np.asarray(p, np.float64)  # [L, S, T + 1, 2]
    gap = np.asarray(value(jnp.asarray(p.reshape(-1, 2), jnp.float32)), np.float64).reshape(p.shape[:-1])
    gap -= surface.min_value
    finite = np.isfinite(gap)
    reached = finite & (gap <= spec["converged_fraction"] * gap[..., :1])
    final = gap[..., -1]
    run = {"steps_to_converge": _none_if_negative(first_true_index(reached).reshape(-1, p.shape[1])),
           "final_gap": final.tolist(),
           "diverged": (~np.isfinite(final) | (final > gap[..., 0])).tolist(),
           "first_step": np.abs(p[:, :, 1] - p[:, :, 0]).tolist()}
    if surface.saddle is not None:
      along = np.abs((p - np.asarray(surface.saddle)) @ escape_direction(surface))
      run["escape_steps"] = _none_if_negative(first_true_index(np.isfinite(along) & (along >= spec["escape_distance"])))
    runs[name] = run
    paths[name] = p[:, 0, keep].tolist()
    gaps[name] = gap[:, 0, keep].tolist()
  return {"starts": np.asarray(points).tolist(), "runs": runs, "path_steps": keep.tolist(), "paths": paths,
          "gaps": gaps}


def surface_spec(config: ConfigDict, surface: str) -> dict[str, Any]:
  """Everything that defines a surface cell (its config.json)."""
  s = config.surfaces
  return {"surface": surface, "optimizers": list(s.optimizers), "optim": s.optim.to_dict(),
          "lrs": list(s.lrs[surface]), "steps": int(s.steps[surface]), "seeds": list(seed_range(config, s.starts)),
          "converged_fraction": s.converged_fraction, "escape_distance": s.escape_distance}


def surface_cell(config: ConfigDict, surface: str) -> MeasureCell:
  spec = surface_spec(config, surface)
  return MeasureCell.standalone(cell_name(surface), spec, lambda: measure_surface(spec))


@dataclasses.dataclass(frozen=True)
class SurfaceRuns:
  """A surface cell's results read back: lookups by (optimizer, lr)."""
  surface: Surface
  spec: dict[str, Any]
  results: dict[str, Any]

  def lr_index(self, lr: float) -> int:
    matches = [i for i, x in enumerate(self.spec["lrs"]) if np.isclose(x, lr, rtol=1e-6)]
    if not matches:
      raise KeyError(f"lr {lr:g} is not in {self.surface.name}'s grid {self.spec['lrs']}")
    return matches[0]

  def per_start(self, optimizer: str, key: str, lr: float) -> list[Any]:
    """`key`'s value for each start, at `lr`."""
    return self.results["runs"][optimizer][key][self.lr_index(lr)]
