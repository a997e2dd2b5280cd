"""A rung's data: the dataset's splits cut to the rung's sizes, then Nielsen's 5x expansion."""
from __future__ import annotations

import dataclasses
import functools
from typing import Any

from jaxdl.data import Dataset, expand_by_shifts, load_dataset


def data_spec(spec: dict[str, Any], val_size: int) -> dict[str, Any]:
  """How a rung's data is built (saved in its cell's config.json, so a cell never resumes on other data).

  val_size: the protocol's validation split (the last N training examples); the
  sizes are the first N examples of each split (0 = all).
  """
  return {"dataset": spec["dataset"], "val_size": val_size,
          **{k: int(spec.get(k, 0)) for k in ("train_size", "val_subset", "test_subset")},
          "expand_data": bool(spec.get("expand_data", False))}


# Rungs come in order, one dataset after the other: keeping the last splits and the
# last two rung datasets serves every rung and a vote over the rung before it.
@functools.lru_cache(maxsize=1)
def _splits(dataset: str, val_size: int, data_dir: str | None, download: bool,
            options: tuple[tuple[str, Any], ...]) -> Dataset:
  return load_dataset(dataset, data_dir=data_dir, val_size=val_size, download=download, **dict(options))


@functools.lru_cache(maxsize=2)
def rung_data(dataset: str, val_size: int, train_size: int, val_subset: int, test_subset: int,
              expand_data: bool, data_dir: str | None = None, download: bool = False,
              options: tuple[tuple[str, Any], ...] = ()) -> Dataset:
  """Subsets (the first N of each split; 0 = all), then Nielsen's 5x expansion of the training set.

  The keyword arguments are `data_spec`'s, then where and how to load the
  dataset (`options`: the dataset's own, as sorted (key, value) pairs).
  """
  base = _splits(dataset, val_size, data_dir, download, options)
  cut = lambda n, a: a[:n] if n else a  # noqa: E731
  x, y = cut(train_size, base.x_train), cut(train_size, base.y_train)
  if expand_data:
    x, y = expand_by_shifts(x, y)
  return dataclasses.replace(base, x_train=x, y_train=y, x_val=cut(val_subset, base.x_val),
                             y_val=cut(val_subset, base.y_val), x_test=cut(test_subset, base.x_test),
                             y_test=cut(test_subset, base.y_test))
