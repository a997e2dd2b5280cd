"""Dense digits: a small dense-prediction (semantic segmentation) task made of MNIST digits.

A canvas [S, S] holds `digits` MNIST digits, each shrunk to `digit_size`
pixels (mean pooling) and placed at a random offset inside its own cell of a
grid of (S // cell) x (S // cell) cells, so digits never overlap. Every pixel
is labelled: 1 + the digit's class where that digit's intensity is at least
`threshold`, 0 (background) elsewhere, so 11 classes. To label a stroke
pixel a net must see enough of the digit around it to tell which digit it
is: the task needs context, as Yu & Koltun's semantic segmentation does.

Training canvases use MNIST's training digits, test canvases its test
digits; everything is a function of `seed`.
"""
from __future__ import annotations

import numpy as np

from jaxdl.data.dataset import Dataset, DenseDataset
from jaxdl.errors import UserError

BACKGROUND = 0
NUM_CLASSES = 11  # background + 10 digits


def shrink(images: np.ndarray, size: int) -> np.ndarray:
  """[N, H, W] -> [N, size, size] by mean pooling over (H // size)-pixel blocks (H a multiple of size)."""
  n, h, w = images.shape
  if h % size or w % size:
    raise UserError(f"dense digits: digit_size {size} must divide the digits' {h}x{w} pixels")
  return images.reshape(n, size, h // size, size, w // size).mean(axis=(2, 4))


def place_digits(rng: np.random.Generator, images: np.ndarray, labels: np.ndarray, n: int, canvas: int,
                 digits: int, threshold: float) -> tuple[np.ndarray, np.ndarray]:
  """n canvases from digit images [M, d, d] in [0, 1] and their classes [M].

  Returns x float32 [n, canvas, canvas, 1] and per-pixel labels int32 [n, canvas, canvas].
  """
  size = images.shape[1]
  cell = canvas // max(1, canvas // size)  # the largest grid whose cells hold a digit
  grid = canvas // cell
  if grid * grid < digits:
    raise UserError(f"dense digits: {digits} digits of {size} px do not fit a {canvas}-px canvas "
                    f"({grid}x{grid} cells)")
  x = np.zeros((n, canvas, canvas), np.float32)
  y = np.full((n, canvas, canvas), BACKGROUND, np.int32)
  picks = rng.integers(0, len(images), size=(n, digits))
  offsets = rng.integers(0, cell - size + 1, size=(n, digits, 2))
  for i in range(n):
    for j, slot in enumerate(rng.permutation(grid * grid)[:digits]):
      top = slot // grid * cell + offsets[i, j, 0]
      left = slot % grid * cell + offsets[i, j, 1]
      digit = images[picks[i, j]]
      window = (i, slice(top, top + size), slice(left, left + size))
      x[window] = digit
      y[window] = np.where(digit >= threshold, 1 + labels[picks[i, j]], BACKGROUND)
  return x[..., None], y


def dense_digits_dataset(digits_source: Dataset, n_train: int, n_test: int, canvas: int = 32, digits: int = 3,
                         digit_size: int = 14, threshold: float = 0.5, seed: int = 0) -> DenseDataset:
  """Train canvases from `digits_source`'s training digits, test canvases from its test digits.

  digits_source: MNIST-like images [N, H, W, 1] in [0, 1] with labels [N].
  """
  rng = np.random.default_rng(seed)
  splits = {}
  for split, n in (("train", n_train), ("test", n_test)):
    images = shrink(getattr(digits_source, f"x_{split}")[..., 0], digit_size)
    splits[split] = place_digits(rng, images, getattr(digits_source, f"y_{split}"), n, canvas, digits,
                                 threshold)
  empty_x, empty_y = np.zeros((0, canvas, canvas, 1), np.float32), np.zeros((0, canvas, canvas), np.int32)
  return DenseDataset(name=f"dense_digits_{digits_source.name}", x_train=splits["train"][0],
                      y_train=splits["train"][1], x_val=empty_x, y_val=empty_y, x_test=splits["test"][0],
                      y_test=splits["test"][1], num_classes=NUM_CLASSES, pixel_range=(0.0, 1.0),
                      files=digits_source.files)
