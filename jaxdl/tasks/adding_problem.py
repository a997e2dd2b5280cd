"""The adding problem (Hochreiter & Schmidhuber 1997, Experiment 4), a long-lag regression.

A sequence has T pairs (value, marker): values ~ U[0, 1]; the markers are 0
except at two positions, one in each half of the sequence (so the first mark
lies at least T/2 steps from the end). The target is 0.5 + (X1 + X2) / 4 for
the marked values X1, X2, which lies in [0.5, 1].

Baseline: a model that ignores the input and predicts the target's mean 0.75
has expected squared error Var(target) = 2 Var(U[0,1]) / 16 = 1/96.
"""
from __future__ import annotations

import numpy as np

from jaxdl.data import Dataset
from jaxdl.errors import UserError

BASELINE_MSE = 1.0 / 96.0  # Var(0.5 + (X1 + X2) / 4) with X1, X2 ~ U[0, 1] independent
SUCCESS_TOLERANCE = 0.04   # the paper's criterion: |prediction - target| < 0.04


def adding_sequences(rng: np.random.Generator, n: int, length: int) -> tuple[np.ndarray, np.ndarray]:
  """n sequences of `length` steps: x [n, length, 2] (value, marker) float32, target [n, 1] float32."""
  if length < 2:
    raise UserError(f"adding problem: sequence length must be >= 2, got {length}")
  values = rng.uniform(0.0, 1.0, size=(n, length)).astype(np.float32)
  half = length // 2
  first = rng.integers(0, half, size=n)
  second = rng.integers(half, length, size=n)
  markers = np.zeros((n, length), np.float32)
  rows = np.arange(n)
  markers[rows, first] = 1.0
  markers[rows, second] = 1.0
  target = 0.5 + (values[rows, first] + values[rows, second]) / 4.0
  return np.stack([values, markers], axis=-1), target[:, None].astype(np.float32)


def adding_dataset(length: int, n_train: int, n_test: int, seed: int = 0) -> Dataset:
  """Train and test sets of the adding problem at sequence length T (no validation split)."""
  rng = np.random.default_rng(seed)
  x_train, y_train = adding_sequences(rng, n_train, length)
  x_test, y_test = adding_sequences(rng, n_test, length)
  empty_x, empty_y = np.zeros((0, length, 2), np.float32), np.zeros((0, 1), np.float32)
  return Dataset(name=f"adding_T{length}", x_train=x_train, y_train=y_train, x_val=empty_x,
                           y_val=empty_y, x_test=x_test, y_test=y_test, num_classes=1, pixel_range=None)
