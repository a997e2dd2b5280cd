"""TensorBoard event files of the metrics: one TensorBoard run per replica, x axis the global step.

`tb/<replica>/` holds replica k's scalars under the metric's own name
(`test_acc`, `train_loss`, ... at each epoch's last step; `step/train_loss` at
every step), so the seeds and swept values of a run overlay
on one chart, and its hyper-parameters (the swept values, the seed, the fixed
settings) for TensorBoard's HParams dashboard; `tb/run/` holds the values of
the whole program (epoch seconds, compile seconds, examples/s). Past
MAX_REPLICA_RUNS replicas, their scalars go to `run/` as `<metric>/r<k>`.
"""
from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

import numpy as np

RUN = "run"  # the run-wide values' TensorBoard run
# The metrics the HParams dashboard lists beside each replica's hyper-parameters.
HPARAM_METRICS = ("test_acc", "val_acc", "train_acc", "train_loss")
# Each TensorBoard run holds an open file and a writer thread: past this many replicas, their
# scalars go to `run/` as `<metric>/r<k>` instead (a file-descriptor limit of 1024 is common).
MAX_REPLICA_RUNS = 64
STEP_LOSS = "step/train_loss"  # every step's batch loss (TensorBoard groups the tags by their prefix)

HParamValues = Mapping[str, bool | str | float | int]


def replica_run_name(k: int, hparams: HParamValues, varying: Sequence[str], width: int = 2) -> str:
  """e.g. `r03_lr=0.1_seed=1`: the replica's index (zero-padded, so runs sort in replica order), then
  the values that differ between the replicas."""
  return "_".join([f"r{k:0{width}d}", *(f"{key}={hparams[key]:g}" if isinstance(hparams[key], float)
                                        else f"{key}={hparams[key]}" for key in varying)])


class EventWriter:
  """Writes each metrics record: a per-replica array [K] to each replica's run, a run-wide scalar to `run/`.

  replicas: each replica's hyper-parameters (e.g. {"lr": 0.1, "seed": 0, "model": "mlp", ...}).
  purge_step: the first step a (re)started run writes (earlier runs' events from there on are dropped).
  """

  def __init__(self, logdir: str, is_writer: bool, replicas: Sequence[HParamValues],
               purge_step: int | None = None):
    self._replicas: list[Any] = []
    self._run = None
    self._count = len(replicas)
    if not is_writer:
      return
    from tensorboardX import SummaryWriter  # imported lazily: protobuf import is slow
    from tensorboardX.summary import hparams as hparams_summaries
    try:
      if self._count <= MAX_REPLICA_RUNS:
        varying = [key for key in replicas[0] if len({str(r[key]) for r in replicas}) > 1] if replicas else []
        width = max(2, len(str(self._count - 1)))
        for k, hp in enumerate(replicas):
          path = os.path.join(logdir, replica_run_name(k, hp, varying, width))
          recorded = os.path.isdir(path) and any(n.startswith("events.") for n in os.listdir(path))
          writer = SummaryWriter(logdir=path, purge_step=purge_step)
          self._replicas.append(writer)
          if not recorded:  # a resumed run recorded them when it started
            for summary in hparams_summaries(dict(hp), {name: 0.0 for name in HPARAM_METRICS}):
              writer.file_writer.add_summary(summary)
      self._run = SummaryWriter(logdir=os.path.join(logdir, RUN), purge_step=purge_step)
    except BaseException:
      self.close()
      raise

  def write(self, record: dict[str, Any]) -> None:
    """An epoch's record, at its global step (the x axis every chart shares)."""
    if self._run is None:
      return
    step = record["step"]
    for name, value in record.items():
      values = np.asarray(value)
      if values.dtype.kind != "f" or name in ("epoch", "step"):
        continue
      if values.ndim == 0:
        if np.isfinite(values):
          self._run.add_scalar(name, float(values), step)
      # One value per replica; per-layer statistics ([K, L]) stay in metrics.jsonl.
      elif values.ndim == 1 and len(values) == self._count:
        self._add_per_replica(name, values, step)
    self._flush()

  def write_steps(self, first_step: int, losses: np.ndarray) -> None:
    """Each step's training loss ([n, K]: steps first_step + 1 .. first_step + n) as `step/train_loss`."""
    if self._run is None:
      return
    for i, row in enumerate(np.asarray(losses, dtype=float)):
      self._add_per_replica(STEP_LOSS, row, first_step + i + 1)
    self._flush()

  def _add_per_replica(self, tag: str, values: np.ndarray, step: int) -> None:
    """values[k] to replica k's run (or to `run/` as `<tag>/r<k>` past MAX_REPLICA_RUNS); non-finite skipped."""
    for k, v in enumerate(values):
      if not np.isfinite(v):
        continue
      if self._replicas:
        self._replicas[k].add_scalar(tag, float(v), step)
      else:
        self._run.add_scalar(f"{tag}/r{k}", float(v), step)

  def _flush(self) -> None:
    for writer in (*self._replicas, self._run):
      writer.flush()

  def close(self) -> None:
    for writer in (*self._replicas, *([self._run] if self._run else [])):
      writer.close()
    self._replicas, self._run = [], None
