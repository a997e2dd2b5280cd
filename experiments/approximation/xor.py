"""XOR (Goodfellow, Bengio & Courville 2016, sec. 6.1): the exact answers, the trained linear model,
ReLU nets of one hidden layer from many random starts.

Every net is the `mlp` of `jaxdl.models` (widths () is the linear model),
trained on the four points with half the squared error. Outputs on a `grid` x
`grid` square [-0.5, 1.5]^2 are saved for the decision-region figure.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from experiments.approximation.fit import fit_replicas, predict, replica_params
from jaxdl import approximation as approx
from jaxdl.optim import OptimConfig

GRID_LIMITS = (-0.5, 1.5)


def region_grid(side: int) -> np.ndarray:
  """[side * side, 2] points of the square GRID_LIMITS^2, row-major (x2 down the rows, x1 across)."""
  axis = np.linspace(*GRID_LIMITS, side, dtype=np.float32)
  x2, x1 = np.meshgrid(axis, axis, indexing="ij")
  return np.stack([x1.ravel(), x2.ravel()], axis=1)


def xor_loss(outputs: np.ndarray) -> float:
  """Mean half squared error of outputs [4] on the XOR targets (the training loss)."""
  return float(np.mean(0.5 * (np.asarray(outputs, np.float64) - approx.XOR_TARGETS) ** 2))


def measure_exact(grid: int) -> dict[str, Any]:
  """The least-squares linear model (closed form) and the book's ReLU net: parameters, outputs,
  loss, and each one's outputs on the region grid ([grid, grid])."""
  solution = approx.least_squares_affine(approx.XOR_INPUTS.astype(np.float64), approx.XOR_TARGETS)
  points = region_grid(grid)
  book = approx.xor_book_params()
  book_outputs = predict((2,), book, approx.XOR_INPUTS)
  linear_outputs = approx.XOR_INPUTS @ solution["w"] + solution["b"]
  return {
      "least_squares": {"w": solution["w"].tolist(), "b": float(solution["b"]), "outputs": linear_outputs.tolist(),
                        "loss": xor_loss(linear_outputs),
                        "region": (points @ solution["w"] + solution["b"]).reshape(grid, grid).tolist()},
      "book_net": {"outputs": book_outputs.tolist(), "loss": xor_loss(book_outputs),
                   "region": predict((2,), book, points).reshape(grid, grid).tolist()},
  }


def train_xor(widths: tuple[int, ...], seeds: list[int], optim: OptimConfig, steps: int) -> dict[str, Any]:
  return fit_replicas(widths, approx.XOR_INPUTS, np.tile(approx.XOR_TARGETS, (len(seeds), 1)), seeds, optim, steps)


def measure_linear(seeds: list[int], optim: OptimConfig, steps: int, grid: int) -> dict[str, Any]:
  """The linear model trained from each seed: per replica w, b, outputs, loss; replica 0's region."""
  fit = train_xor((), seeds, optim, steps)
  replicas = []
  for r, seed in enumerate(seeds):
    params = replica_params(fit["params"], r)["logits"]
    replicas.append({"seed": seed, "w": params["kernel"][:, 0].tolist(), "b": float(params["bias"][0]),
                     "outputs": fit["outputs"][r].tolist(), "loss": xor_loss(fit["outputs"][r])})
  region = predict((), replica_params(fit["params"], 0), region_grid(grid)).reshape(grid, grid)
  return {"replicas": replicas, "region": region.tolist()}


def measure_random_starts(width: int, seeds: list[int], optim: OptimConfig, steps: int, success_tol: float,
                          groups: int, grid: int) -> dict[str, Any]:
  """ReLU nets of one hidden layer of `width` units from each seed: per start the largest
  |output - target| and success (all four within success_tol); the success fraction per group of
  consecutive starts; the region of the first solving start (and of the first failing one)."""
  fit = train_xor((width,), seeds, optim, steps)
  error = np.abs(fit["outputs"] - approx.XOR_TARGETS).max(axis=1)
  solved = error < success_tol
  out: dict[str, Any] = {"width": width, "starts": len(seeds), "success_tol": success_tol, "max_error": error.tolist(),
                         "solved": solved.tolist(), "fraction": float(solved.mean()),
                         "group_fractions": solved.reshape(groups, -1).mean(axis=1).tolist()}
  points = region_grid(grid)
  for name, hits in (("solved_region", solved), ("failed_region", ~solved)):
    if hits.any():
      r = int(np.argmax(hits))
      out[name] = {"seed": seeds[r], "outputs": fit["outputs"][r].tolist(),
                   "region": predict((width,), replica_params(fit["params"], r), points).reshape(grid, grid).tolist()}
  return out
