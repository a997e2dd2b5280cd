"""MNIST and Fashion-MNIST, read from their verified IDX files."""
from __future__ import annotations

import os

import numpy as np

from jaxdl.data.dataset import DATASETS, Dataset
from jaxdl.data.idx import parse_idx
from jaxdl.data.locate import DataSource, check_data_dir, find_data_file, read_data_file

# Labels first: they are small, so a missing or bad file is usually reported
# before the big image files are read.
_FILES = ("train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte",
          "train-images-idx3-ubyte", "t10k-images-idx3-ubyte")


def load_idx_dataset(name: str, folder: str, source: DataSource) -> Dataset:
  """The four IDX files of `folder` as a Dataset: images [N, 28, 28, 1] in [0, 1]."""
  # The files present are verified before the missing ones are reported, so that a
  # corrupted copy is named even where its siblings are missing.
  found = {f: find_data_file(folder, f, source.data_dir) for f in _FILES}
  arrays = {f: parse_idx(read_data_file(folder, f, source), f) for f in _FILES if found[f]}
  check_data_dir(folder, _FILES, source)
  arrays |= {f: parse_idx(read_data_file(folder, f, source), f) for f in _FILES if not found[f]}
  # After the reads: a downloaded file is found where it was saved.
  files = {f: os.path.abspath(find_data_file(folder, f, source.data_dir)) for f in _FILES}

  def images(f: str) -> np.ndarray:
    return arrays[f][..., None] / np.float32(255)  # uint8 / float32 -> float32

  def labels(f: str) -> np.ndarray:
    return arrays[f].astype(np.int32)

  return Dataset(
      name=name,
      x_train=images("train-images-idx3-ubyte"), y_train=labels("train-labels-idx1-ubyte"),
      x_val=np.zeros((0, 28, 28, 1), np.float32), y_val=np.zeros((0,), np.int32),
      x_test=images("t10k-images-idx3-ubyte"), y_test=labels("t10k-labels-idx1-ubyte"),
      num_classes=10, pixel_range=(0.0, 1.0), files=files)


@DATASETS.register("mnist")
def mnist(source: DataSource) -> Dataset:
  """MNIST handwritten digits: 60000 train / 10000 test, 28x28 grey, 10 classes."""
  return load_idx_dataset("mnist", "mnist", source)


@DATASETS.register("fashion_mnist")
def fashion_mnist(source: DataSource) -> Dataset:
  """Fashion-MNIST (Zalando): 60000 train / 10000 test, 28x28 grey, 10 classes."""
  return load_idx_dataset("fashion_mnist", "fashion-mnist", source)
