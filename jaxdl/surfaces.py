"""Two-dimensional test functions for optimizers: ravines, a saddle, Beale's function.

Each `Surface` gives its value f(p) for p = (x, y), its minimum (a point and
f there), a standard start, plot bounds and its source. They are the classic
pictures of optimization: a curved ravine (Rosenbrock 1960), a straight one
(an elongated quadratic, whose Hessian eigenvalues set gradient descent's
stable learning rates: lr < 2 / lambda_max), a saddle point, and Beale's
function (Beale 1958), flat plateaus with steep walls.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Callable

import jax
import jax.numpy as jnp

from jaxdl.errors import UserError

Point = tuple[float, float]


@dataclasses.dataclass(frozen=True)
class Surface:
  """A function of two variables to minimize.

  value: f(p) for p of shape [2]. minimum / min_value: a global minimizer and f there.
  start: the standard starting point; start_spread: the half-width, per coordinate,
  of the box around it that other starting points ("seeds") are drawn from.
  bounds: ((x_lo, x_hi), (y_lo, y_hi)) for contour plots. saddle: a saddle point,
  if the surface is about one. hessian_eigenvalues: the (constant) Hessian's, for
  a quadratic.
  """
  name: str
  title: str
  source: str
  value: Callable[[jax.Array], jax.Array]
  minimum: Point
  min_value: float
  start: Point
  start_spread: Point
  bounds: tuple[Point, Point]
  saddle: Point | None = None
  hessian_eigenvalues: tuple[float, float] | None = None


def rosenbrock(p: jax.Array, a: float = 1.0, b: float = 100.0) -> jax.Array:
  """(a - x)^2 + b (y - x^2)^2: a curved, narrow valley along y = x^2, minimum 0 at (a, a^2)."""
  x, y = p[0], p[1]
  return (a - x) ** 2 + b * (y - x ** 2) ** 2


# The elongated quadratic: 0.5 (l1 u^2 + l2 v^2) in axes (u, v) turned by QUADRATIC_ANGLE from (x, y),
# so the ravine is not aligned with the coordinates a diagonal preconditioner (Adam, RMSprop) scales.
QUADRATIC_EIGENVALUES = (1.0, 20.0)
QUADRATIC_ANGLE = math.pi / 6


def elongated_quadratic(p: jax.Array) -> jax.Array:
  """0.5 p^T H p with H's eigenvalues QUADRATIC_EIGENVALUES, its eigenvectors turned by QUADRATIC_ANGLE."""
  c, s = math.cos(QUADRATIC_ANGLE), math.sin(QUADRATIC_ANGLE)
  u, v = c * p[0] + s * p[1], -s * p[0] + c * p[1]
  low, high = QUADRATIC_EIGENVALUES
  return 0.5 * (low * u ** 2 + high * v ** 2)


def quartic_saddle(p: jax.Array) -> jax.Array:
  """x^2 - y^2 + y^4 / 4: the saddle x^2 - y^2 at the origin (Hessian diag(2, -2)), bounded below
  by the quartic term, with minima -1 at (0, +-sqrt(2))."""
  x, y = p[0], p[1]
  return x ** 2 - y ** 2 + y ** 4 / 4


def beale(p: jax.Array) -> jax.Array:
  """(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2, minimum 0 at (3, 0.5)."""
  x, y = p[0], p[1]
  return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2


SURFACES: dict[str, Surface] = {s.name: s for s in (
    Surface("rosenbrock", "Rosenbrock's ravine",
            "Rosenbrock 1960, 'An automatic method for finding the greatest or least value of a function', "
            "The Computer Journal 3(3); start (-1.2, 1) is his",
            rosenbrock, minimum=(1.0, 1.0), min_value=0.0, start=(-1.2, 1.0), start_spread=(0.05, 0.05),
            bounds=((-2.0, 2.0), (-1.0, 3.0))),
    Surface("quadratic", "Elongated quadratic (Hessian eigenvalues 1 and 20)",
            "the quadratic model of a ravine: gradient descent is stable for lr < 2 / lambda_max "
            "(LeCun, Bottou, Orr & Mueller 1998, 'Efficient BackProp', Sec. 5)",
            elongated_quadratic, minimum=(0.0, 0.0), min_value=0.0, start=(-4.0, 2.0), start_spread=(0.2, 0.2),
            bounds=((-5.0, 5.0), (-4.0, 4.0)), hessian_eigenvalues=QUADRATIC_EIGENVALUES),
    Surface("saddle", "Saddle x^2 - y^2 + y^4/4",
            "the saddle x^2 - y^2 (Dauphin et al. 2014, 'Identifying and attacking the saddle point problem'), "
            "with y^4/4 so that it has minima to escape to",
            quartic_saddle, minimum=(0.0, math.sqrt(2.0)), min_value=-1.0, start=(1.0, 1e-3),
            start_spread=(0.1, 5e-4), bounds=((-1.5, 1.5), (-2.0, 2.0)), saddle=(0.0, 0.0)),
    Surface("beale", "Beale's function",
            "Beale 1958, 'On an iterative method for finding a local minimum of a function of more than "
            "one variable', Statistical Techniques Research Group, Princeton University",
            beale, minimum=(3.0, 0.5), min_value=0.0, start=(1.0, 1.5), start_spread=(0.1, 0.1),
            bounds=((-4.5, 4.5), (-4.5, 4.5))),
)}


def get_surface(name: str) -> Surface:
  if name not in SURFACES:
    raise UserError(f"unknown surface {name!r}; valid: {', '.join(SURFACES)}")
  return SURFACES[name]


def starts(surface: Surface, seeds: tuple[int, ...]) -> jax.Array:
  """[len(seeds), 2] starting points: the standard start for seed 0, for every other seed a point
  drawn uniformly from the box start +- start_spread with PRNGKey(seed)."""
  base, spread = jnp.asarray(surface.start, jnp.float32), jnp.asarray(surface.start_spread, jnp.float32)
  points = [base if seed == 0 else base + spread * jax.random.uniform(jax.random.PRNGKey(seed), (2,),
                                                                        minval=-1.0, maxval=1.0)
            for seed in seeds]
  return jnp.stack(points)
