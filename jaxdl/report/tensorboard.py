"""TensorBoard event files of the per-epoch metrics, one scalar series per replica."""
from __future__ import annotations

from typing import Any

import numpy as np


class EventWriter:
  """Writes a metrics record's per-replica arrays as scalars `<metric>/r<k>`."""

  def __init__(self, logdir: str, is_writer: bool, purge_step: int | None = None):
    self._writer = None
    if is_writer:
      from tensorboardX import SummaryWriter  # imported lazily: protobuf import is slow
      self._writer = SummaryWriter(logdir=logdir, purge_step=purge_step or None)

  def write(self, record: dict[str, Any]) -> None:
    if self._writer is None:
      return
    for name, value in record.items():
      values = np.atleast_1d(np.asarray(value))
      # Scalars per replica only: per-layer statistics ([K, L]) stay in metrics.jsonl.
      if values.dtype.kind != "f" or values.ndim != 1 or name in ("epoch", "step"):
        continue
      for k, v in enumerate(values):
        if np.isfinite(v):
          self._writer.add_scalar(f"{name}/r{k}", float(v), record["epoch"])
    self._writer.flush()

  def close(self) -> None:
    if self._writer is not None:
      self._writer.close()
