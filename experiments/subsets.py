"""A study's data cut from a dataset: a validation split held out of the training set, then the first N
of each split (`config.data`: val_size, train_size, val_subset, test_subset). Shared by the studies that cut
MNIST this way (dropout vs batch norm, optimizers)."""
from __future__ import annotations

import dataclasses
import functools
from typing import Any

from ml_collections import ConfigDict

from jaxdl.data import Dataset, load_dataset
from jaxdl.train import TrainConfig


def data_spec(config: ConfigDict) -> dict[str, int]:
  """How the cells' data is cut from the dataset (saved in each cell's config.json)."""
  return {key: int(config.data[key]) for key in ("val_size", "train_size", "val_subset", "test_subset")}


def study_data(train: TrainConfig, spec: dict[str, int]) -> Dataset:
  """`train.dataset` with its last `val_size` training examples as the validation split
  (MNIST: 50k/10k/10k), then the first `train_size` / `val_subset` / `test_subset`
  examples of each split (0: all). Loaded once for all the cells that share it."""
  return _subsets(train.dataset, train.data_dir, train.download, tuple(sorted(train.data_options.items())),
                  **spec)


@functools.lru_cache(maxsize=2)
def _subsets(dataset: str, data_dir: str | None, download: bool, options: tuple[tuple[str, Any], ...],
             val_size: int, train_size: int, val_subset: int, test_subset: int) -> Dataset:
  data = load_dataset(dataset, data_dir=data_dir, val_size=val_size, download=download, **dict(options))
  cut = lambda n, x: x[:n] if n else x  # noqa: E731
  return dataclasses.replace(
      data, x_train=cut(train_size, data.x_train), y_train=cut(train_size, data.y_train),
      x_val=cut(val_subset, data.x_val), y_val=cut(val_subset, data.y_val),
      x_test=cut(test_subset, data.x_test), y_test=cut(test_subset, data.y_test))
