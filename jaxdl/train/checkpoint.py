"""Orbax checkpoints of the whole TrainState, and the SIGTERM preemption flag.

A save writes to a temporary folder that Orbax renames when complete, so a
job killed mid-save (SIGKILL) leaves the previous checkpoint as the latest.
The periodic save is the guarantee against a hard kill; the SIGTERM handler
only asks the loop to save at the next step boundary and exit cleanly.
"""
from __future__ import annotations

import os
import signal
import threading
from typing import Any

import jax
import orbax.checkpoint as ocp
from absl import logging

from jaxdl.train.state import TrainState


class Checkpointer:
  """Saves every N steps / at epoch ends, keeps the last few, restores the latest."""

  def __init__(self, directory: str, keep: int = 3):
    self.directory = os.path.abspath(directory)
    options = ocp.CheckpointManagerOptions(max_to_keep=keep, enable_async_checkpointing=False,
                                           create=True)
    self._manager = ocp.CheckpointManager(self.directory, options=options)

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def save(self, state: TrainState, meta: dict[str, Any]) -> None:
    step = int(jax.device_get(state.step)[0])
    if step in self._manager.all_steps():
      return
    self._manager.save(step, args=ocp.args.Composite(
        state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)), force=True)
    self._manager.wait_until_finished()
    logging.info("checkpoint saved at step %d in %s", step, self.directory)

  def restore(self, like: TrainState) -> tuple[TrainState, dict[str, Any]] | None:
    """The latest checkpoint shaped like `like`, or None if there is none."""
    step = self.latest_step()
    if step is None:
      return None
    abstract = jax.tree_util.tree_map(ocp.utils.to_shape_dtype_struct, like)
    restored = self._manager.restore(step, args=ocp.args.Composite(
        state=ocp.args.StandardRestore(abstract), meta=ocp.args.JsonRestore()))
    logging.info("resumed from the checkpoint at step %d in %s", step, self.directory)
    return restored["state"], restored["meta"]

  def close(self) -> None:
    self._manager.close()


class PreemptionFlag:
  """Set by SIGTERM (a scheduler's preemption notice); the loop polls it per step."""

  def __init__(self, signals: tuple[int, ...] = (signal.SIGTERM,)):
    self._event = threading.Event()
    self._previous = {}
    if threading.current_thread() is threading.main_thread():
      for sig in signals:
        self._previous[sig] = signal.signal(sig, self._handle)

  def _handle(self, signum, frame) -> None:
    logging.warning("received signal %d: will checkpoint and exit at the next step", signum)
    self._event.set()

  @property
  def requested(self) -> bool:
    return self._event.is_set()

  def restore_handlers(self) -> None:
    for sig, handler in self._previous.items():
      signal.signal(sig, handler)
