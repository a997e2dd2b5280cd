"""The `Dataset` container, the dataset registry and `load_dataset`."""
from __future__ import annotations

import dataclasses
import os
from typing import Any, Mapping, Sequence

import numpy as np

from jaxdl.data.locate import DataSource
from jaxdl.errors import UserError
from jaxdl.registry import Registry


# eq=False: field-wise == (and hashing) is ill-defined on arrays; compare by identity.
@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
  """A classification dataset held in host memory as numpy arrays.

  Inputs are float32 [N, ...]: images [N, 28, 28, 1] with values in [0, 1],
  MNIST-1D [N, 40, 1] standardized. Labels are int32 [N] in [0, num_classes).
  The validation arrays may have 0 rows. `files` maps each data file read to
  the path it was read from (empty for generated data), for the run's records.
  """
  name: str
  x_train: np.ndarray
  y_train: np.ndarray
  x_val: np.ndarray
  y_val: np.ndarray
  x_test: np.ndarray
  y_test: np.ndarray
  num_classes: int
  pixel_range: tuple[float, float] | None  # None: inputs are standardized, not pixels
  files: Mapping[str, str] = dataclasses.field(default_factory=dict)

  def __post_init__(self):
    for split in ("train", "val", "test"):
      x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
      # int32 class labels [N], or float32 regression targets [N, K] (e.g. the adding problem).
      labels = y.dtype == np.int32 and y.ndim == 1
      targets = y.dtype == np.float32 and y.ndim == 2
      if x.dtype != np.float32 or not (labels or targets) or len(x) != len(y):
        raise ValueError(f"{self.name} {split}: want float32 x and int32 labels [N] or float32 "
                         f"targets [N, K] of one length, got x {x.dtype}{x.shape}, y {y.dtype}{y.shape}")

  @property
  def input_shape(self) -> tuple[int, ...]:
    """The shape of one example, e.g. (28, 28, 1)."""
    return self.x_train.shape[1:]

  def describe(self) -> str:
    return (f"{self.name}: {len(self.x_train)} train / {len(self.x_val)} val / "
            f"{len(self.x_test)} test, input {self.input_shape}, {self.num_classes} classes")

  def origin(self) -> str:
    """Where the data came from, for every run's startup line: the folders read, or generated."""
    dirs = sorted({os.path.dirname(path) for path in self.files.values()})
    return f"read from {', '.join(dirs)}" if dirs else "generated"


@dataclasses.dataclass(frozen=True, eq=False)
class DenseDataset(Dataset):
  """A `Dataset` whose labels are per position: int32 [N, *spatial] for inputs [N, *spatial, C]
  (segmentation masks, next-character targets); trained with `DensePredictionProgram`."""

  def __post_init__(self):
    for split in ("train", "val", "test"):
      x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
      if x.dtype != np.float32 or y.dtype != np.int32 or y.shape != x.shape[:-1]:
        raise ValueError(f"{self.name} {split}: want float32 x [N, *spatial, C] and int32 labels "
                         f"[N, *spatial], got x {x.dtype}{x.shape}, y {y.dtype}{y.shape}")


# Builders are called as `builder(source: DataSource, **options) -> Dataset`
# and return an empty validation split; `load_dataset` carves it.
DATASETS: Registry[Dataset] = Registry("dataset")


def dataset_names() -> list[str]:
  return DATASETS.names()


def load_dataset(name: str, *, data_dir: str | None = None, val_size: int = 0,
                 download: bool = False, mirrors: Sequence[str] | None = None,
                 **options: Any) -> Dataset:
  """Loads (or generates) a registered dataset and carves a validation split.

  Args:
    name: one of `dataset_names()`.
    data_dir: a directory searched first for data files (see `locate`).
    val_size: the LAST `val_size` training examples become the validation
      split, deterministically (Nielsen's 50k/10k split of MNIST's 60k).
    download: fetch files found nowhere from `mirrors` (checksum-verified).
    mirrors: base URLs to download from; None: the dataset's defaults.
    **options: the dataset's own options, overriding its registered defaults.

  Raises:
    RegistryError: unknown name or option; the message lists the valid ones.
    DataFileError: a data file is missing, truncated or altered.
    ValueError: val_size is negative or leaves no training data.
  """
  source = DataSource(data_dir=data_dir, download=download, mirrors=mirrors)
  dataset = DATASETS.build(name, options, source=source)
  return split_validation(dataset, val_size)


def split_validation(dataset: Dataset, val_size: int) -> Dataset:
  """Moves the last `val_size` training examples into the validation split."""
  n = len(dataset.x_train)
  if not 0 <= val_size < n:
    raise UserError(f"val_size={val_size} must be in [0, {n}): {dataset.name} has {n} "
                    "training examples and at least one must stay for training")
  if val_size == 0:
    return dataset
  keep = n - val_size
  return dataclasses.replace(
      dataset, x_train=dataset.x_train[:keep], y_train=dataset.y_train[:keep],
      x_val=dataset.x_train[keep:], y_val=dataset.y_train[keep:])
