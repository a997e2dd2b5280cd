"""TensorBoard event files of the per-epoch metrics: one TensorBoard run per replica.

`tb/<replica>/` holds replica k's scalars under the metric's own name
(`test_acc`, `train_loss`, ...), so the seeds and swept values of a run overlay
on one chart, and its hyper-parameters (the swept values, the seed, the fixed
settings) for TensorBoard's HParams dashboard; `tb/run/` holds the values of
the whole program (epoch seconds, compile seconds, examples/s).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

RUN = "run"  # the run-wide values' TensorBoard run
# The metrics the HParams dashboard lists beside each replica's hyper-parameters.
HPARAM_METRICS = ("test_acc", "val_acc", "train_acc", "train_loss")

HParams = Mapping[str, bool | str | float | int]


def replica_run_name(k: int, hparams: HParams, varying: Sequence[str]) -> str:
  """e.g. `r03_lr=0.1_seed=1`: the replica's index (so runs sort in replica order), then the values
  that differ between the replicas."""
  return "_".join([f"r{k:02d}", *(f"{key}={hparams[key]:g}" if isinstance(hparams[key], float)
                                   else f"{key}={hparams[key]}" for key in varying)])


class EventWriter:
  """Writes each metrics record: a per-replica array [K] to each replica's run, a run-wide scalar to `run/`.

  replicas: each replica's hyper-parameters (e.g. {"lr": 0.1, "seed": 0, "model": "mlp", ...}).
  """

  def __init__(self, logdir: str, is_writer: bool, replicas: Sequence[HParams], purge_step: int | None = None):
    self._replicas: list[Any] = []
    self._run = None
    if not is_writer:
      return
    from tensorboardX import SummaryWriter  # imported lazily: protobuf import is slow
    from tensorboardX.summary import hparams as hparams_summaries
    purge = purge_step or None
    varying = [key for key in replicas[0] if len({str(r[key]) for r in replicas}) > 1] if replicas else []
    for k, hp in enumerate(replicas):
      writer = SummaryWriter(logdir=f"{logdir}/{replica_run_name(k, hp, varying)}", purge_step=purge)
      if not purge:  # a resumed run recorded them when it started
        for summary in hparams_summaries(dict(hp), {name: 0.0 for name in HPARAM_METRICS}):
          writer.file_writer.add_summary(summary)
      self._replicas.append(writer)
    self._run = SummaryWriter(logdir=f"{logdir}/{RUN}", purge_step=purge)

  def write(self, record: dict[str, Any]) -> None:
    if self._run is None:
      return
    step = record["epoch"]
    for name, value in record.items():
      values = np.asarray(value)
      if values.dtype.kind != "f" or name in ("epoch", "step"):
        continue
      if values.ndim == 0:
        if np.isfinite(values):
          self._run.add_scalar(name, float(values), step)
      # One value per replica; per-layer statistics ([K, L]) stay in metrics.jsonl.
      elif values.ndim == 1 and len(values) == len(self._replicas):
        for writer, v in zip(self._replicas, values):
          if np.isfinite(v):
            writer.add_scalar(name, float(v), step)
    for writer in (*self._replicas, self._run):
      writer.flush()

  def close(self) -> None:
    for writer in (*self._replicas, *([self._run] if self._run else [])):
      writer.close()
