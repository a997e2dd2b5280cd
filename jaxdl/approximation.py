"""XOR and universal approximation in 1-D: the target functions and the exact ReLU constructions.

Sources:
- Goodfellow, Bengio & Courville 2016, Deep Learning, sec. 6.1 ("Learning XOR"):
  least squares on the four XOR points gives the linear model w = 0, b = 1/2
  (it outputs 1/2 everywhere), while f(x) = w^T max(0, W^T x + c) + b with
  W = [[1, 1], [1, 1]], c = [0, -1], w = [1, -2], b = 0 gives 0, 1, 1, 0.
- Telgarsky 2016, "Benefits of depth in neural networks": the tent map
  t(x) = 2 relu(x) - 4 relu(x - 1/2) on [0, 1], composed k times, is a
  sawtooth with 2^k linear pieces (2^(k-1) peaks) made by k layers of 2 ReLU
  units; a one-hidden-layer ReLU net on the line has at most one breakpoint
  per unit, so it needs >= 2^k - 1 units for the same function.

The constructions are parameter trees of `jaxdl.models`' `mlp` (hidden layers
`dense<i>`, output `logits`, ReLU), so the model that is trained also
evaluates them. Functions take and return numpy arrays (the targets make the
data sets, on the host).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

XOR_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)  # [4, 2]
XOR_TARGETS = np.array([0, 1, 1, 0], np.float32)  # [4]


def relu(x: Any) -> Any:
  return x * (x > 0)


def tent(x: Any) -> Any:
  """Telgarsky's tent map on [0, 1]: 2x up to 1/2, then 2 - 2x."""
  return 2 * relu(x) - 4 * relu(x - 0.5)


def sawtooth(x: Any, k: int) -> Any:
  """The tent map composed k times: 2^k linear pieces of slope +-2^k between 0 and 1 on [0, 1]."""
  for _ in range(k):
    x = tent(x)
  return x


def smooth(x: Any) -> Any:
  """The smooth target: one period of a sine on [0, 1]."""
  return np.sin(2 * np.pi * x)


def step(x: Any) -> Any:
  """The step target: 0 below x = 1/2, 1 from it on (no ReLU net represents its jump exactly)."""
  return (x >= 0.5) * 1.0


TARGET_NAMES = ("smooth", "step", "sawtooth")


def target_function(name: str, sawtooth_k: int) -> Callable[[Any], Any]:
  """The 1-D target `name` (one of TARGET_NAMES); the sawtooth is `sawtooth(., sawtooth_k)`."""
  if name == "sawtooth":
    return lambda x: sawtooth(x, sawtooth_k)
  targets = {"smooth": smooth, "step": step}
  if name not in targets:
    raise ValueError(f"unknown target {name!r}; valid: {', '.join(TARGET_NAMES)}")
  return targets[name]


def dyadic_grid(level: int) -> np.ndarray:
  """The 2^level + 1 points j / 2^level of [0, 1], [N, 1]: exact in binary floating point, so the
  tent map (x2, -1/2) evaluates them without rounding."""
  return (np.arange(2 ** level + 1, dtype=np.float64) / 2 ** level).astype(np.float32)[:, None]


def mlp_param_count(widths: Sequence[int], inputs: int = 1, outputs: int = 1) -> int:
  """Weights and biases of a fully connected net inputs -> widths -> outputs."""
  sizes = [inputs, *widths, outputs]
  return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def _dense(kernel: Any, bias: Any) -> dict[str, np.ndarray]:
  return {"kernel": np.asarray(kernel, np.float32), "bias": np.asarray(bias, np.float32)}


def xor_book_params() -> dict[str, Any]:
  """The book's XOR net (sec. 6.1) as `mlp` params with widths (2,): outputs 0, 1, 1, 0 on XOR_INPUTS."""
  return {"dense0": _dense([[1, 1], [1, 1]], [0, -1]), "logits": _dense([[1], [-2]], [0])}


def sawtooth_deep_params(k: int) -> dict[str, Any]:
  """`sawtooth(., k)` as `mlp` params with widths (2,) * k: layer i's units are relu(h) and
  relu(h - 1/2) of the previous tent h = 2 a - 4 b (the first layer's h is x). 2k units,
  6k + 1 parameters."""
  if k < 1:
    raise ValueError(f"sawtooth depth k must be >= 1, got {k}")
  params = {"dense0": _dense([[1, 1]], [0, -0.5])}
  for i in range(1, k):  # next pre-activations: (2a - 4b) - [0, 1/2]
    params[f"dense{i}"] = _dense([[2, 2], [-4, -4]], [0, -0.5])
  params["logits"] = _dense([[2], [-4]], [0])
  return params


def sawtooth_shallow_params(k: int) -> dict[str, Any]:
  """`sawtooth(., k)` on [0, 1] as one hidden layer of 2^k units relu(x - j / 2^k), j = 0 .. 2^k - 1:
  the first unit sets the slope 2^k, each later one flips it (a slope change of -+2^(k+1))."""
  n = 2 ** k
  changes = [float(n)] + [(-1) ** j * 2.0 * n for j in range(1, n)]
  return {"dense0": _dense(np.ones((1, n)), -np.arange(n) / n), "logits": _dense(np.array(changes)[:, None], [0])}


def knot_least_squares_params(x: np.ndarray, y: np.ndarray, knots: Sequence[float]) -> dict[str, Any]:
  """A constructed one-hidden-layer net: units relu(x - knot) at fixed `knots`, output weights and
  bias fitted to (x [N, 1], y [N]) by least squares (the best fit with those breakpoints)."""
  knots = np.asarray(knots, np.float64)
  features = np.maximum(0.0, np.asarray(x, np.float64) - knots[None, :])  # [N, units]
  solution = least_squares_affine(features, np.asarray(y, np.float64))
  return {"dense0": _dense(np.ones((1, len(knots))), -knots),
          "logits": _dense(solution["w"][:, None], [solution["b"]])}


def least_squares_affine(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
  """The least-squares affine model y ~ x w + b (x [N, D], y [N]): {"w": [D], "b": scalar}."""
  design = np.concatenate([x, np.ones((len(x), 1))], axis=1)
  coef, *_ = np.linalg.lstsq(design, y, rcond=None)
  return {"w": coef[:-1], "b": coef[-1]}


def shallow_sawtooth_mse_bound(k: int, units: int) -> float:
  """A lower bound on the mean squared error over [0, 1] of any one-hidden-layer ReLU net of
  `units` units against `sawtooth(., k)`.

  Such a net is piecewise linear with at most `units` breakpoints. Around each of the sawtooth's
  2^k - 1 kinks (j / 2^k) take the window of half-width a = 2^-(k+1); the windows are disjoint. In a
  window holding no breakpoint of the net, the net is affine, and the best affine fit to a V of
  slope m = 2^k is its mean (by symmetry), leaving the variance m^2 a^2 / 12 = 1/48 over a length
  2^-k. At least 2^k - 1 - units windows are free, so MSE >= (2^k - 1 - units) / (48 * 2^k).
  (Our own elementary bound, in the spirit of Telgarsky 2016's Lemma 3.)
  """
  return max(0, 2 ** k - 1 - units) / (48 * 2 ** k)


def linear_pieces(y: np.ndarray, tol: float = 1e-6) -> int:
  """How many linear pieces the samples y [N] of a function on a uniform grid make: 1 + the number
  of grid points where the slope changes (each kink must fall on a grid point)."""
  slopes = np.diff(np.asarray(y, np.float64))
  return 1 + int(np.sum(np.abs(np.diff(slopes)) > tol))
