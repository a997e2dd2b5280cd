"""Orbax checkpoints of the whole TrainState, verified on restore; the preemption flag.

A save writes to a temporary folder that Orbax renames when complete, so a
job killed mid-save (SIGKILL) leaves the previous checkpoint as the latest.
Orbax does not check the bytes it restores, so each saved step also gets a
manifest of its files' sha256 (written atomically once Orbax has renamed the
step); a restore verifies the newest step and falls back, one warning line per
step, to the newest one that verifies and reads. The periodic save is the
guarantee against a hard kill; the signal handler only asks the loop to save at
the next step boundary and exit cleanly.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
from typing import Any

import jax
import orbax.checkpoint as ocp
from absl import logging

from jaxdl.errors import UserError
from jaxdl.train.state import TrainState

MANIFEST = "jaxdl_sha256.json"  # inside the step directory, so Orbax deletes it with the step


def _file_digests(step_dir: str) -> dict[str, str]:
  """sha256 of every file under `step_dir` (but the manifest), by path relative to it."""
  digests = {}
  for root, _, files in os.walk(step_dir):
    for name in files:
      path = os.path.join(root, name)
      rel = os.path.relpath(path, step_dir)
      if rel == MANIFEST:
        continue
      h = hashlib.sha256()
      with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
          h.update(block)
      digests[rel] = h.hexdigest()
  return digests


def _one_line(error: Exception) -> str:
  first = (str(error).strip().splitlines() or [""])[0]
  return f"{type(error).__name__}: {first[:200]}"


class Checkpointer:
  """Saves every N steps / at epoch ends, keeps the last few, restores the newest intact one."""

  def __init__(self, directory: str, keep: int = 3):
    self.directory = os.path.abspath(directory)
    options = ocp.CheckpointManagerOptions(max_to_keep=keep, enable_async_checkpointing=False,
                                           create=True)
    self._manager = ocp.CheckpointManager(self.directory, options=options)
    self._failed: set[int] = set()  # steps a restore skipped: a save of that step replaces them

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def save(self, state: TrainState, meta: dict[str, Any]) -> None:
    step = int(jax.device_get(state.step)[0])
    if step in self._failed:
      self._manager.delete(step)
      self._failed.discard(step)
    elif step in self._manager.all_steps():
      return
    self._manager.save(step, args=ocp.args.Composite(
        state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)), force=True)
    self._manager.wait_until_finished()
    if jax.process_index() == 0:
      self._write_manifest(step)
    logging.info("checkpoint saved at step %d in %s", step, self.directory)

  def _write_manifest(self, step: int) -> None:
    step_dir = os.path.join(self.directory, str(step))
    digests = _file_digests(step_dir)
    tmp = os.path.join(step_dir, f".{MANIFEST}.tmp")
    with open(tmp, "w") as f:
      json.dump({"sha256": digests}, f, indent=1, sort_keys=True)
    os.replace(tmp, os.path.join(step_dir, MANIFEST))

  def _verify(self, step: int) -> str | None:
    """What is wrong with step's files, or None if they match its manifest.

    A step without a manifest (saved by a jaxdl before manifests, or killed
    between Orbax's rename and the manifest's) is trusted if Orbax can read it:
    it was complete when renamed, but its bytes cannot be checked.
    """
    step_dir = os.path.join(self.directory, str(step))
    try:
      with open(os.path.join(step_dir, MANIFEST)) as f:
        expected = json.load(f)["sha256"]
    except FileNotFoundError:
      logging.info("checkpoint step %d has no %s (an older jaxdl's): trusted if it reads", step, MANIFEST)
      return None
    except (ValueError, KeyError, TypeError) as e:
      return f"has an unreadable {MANIFEST} ({_one_line(e)})"
    actual = _file_digests(step_dir)
    changed = sorted(p for p in expected if actual.get(p) != expected[p])
    extra = sorted(set(actual) - set(expected))
    if changed or extra:
      what = [f"{p} {'missing' if p not in actual else 'changed'}" for p in changed]
      what += [f"{p} added" for p in extra]
      more = f" and {len(what) - 3} more" if len(what) > 3 else ""
      return f"fails its checksums ({', '.join(what[:3])}{more})"
    return None

  def restore(self, like: TrainState, fall_back: bool = True) -> tuple[TrainState, dict[str, Any]] | None:
    """The newest intact checkpoint shaped like `like`, or None if there is none.

    A step that fails its checksums or cannot be read is logged in one line and
    the next older one is tried (`fall_back=False`: a UserError instead). If no
    step is intact: a UserError, and nothing was written.
    """
    steps = sorted(self._manager.all_steps(), reverse=True)
    if not steps:
      return None
    abstract = jax.tree_util.tree_map(ocp.utils.to_shape_dtype_struct, like)
    problems = []
    for step in steps:
      problem = self._verify(step)
      if problem is None:
        try:
          restored = self._manager.restore(step, args=ocp.args.Composite(
              state=ocp.args.StandardRestore(abstract), meta=ocp.args.JsonRestore()))
        except Exception as e:  # noqa: BLE001 - any unreadable step is skipped, named in one line
          problem = f"cannot be read ({_one_line(e)})"
      if problem is None:
        logging.info("resumed from the checkpoint at step %d in %s", step, self.directory)
        return restored["state"], restored["meta"]
      self._failed.add(step)
      problems.append(f"step {step} {problem}")
      if not fall_back:
        raise UserError(f"checkpoint step {step} in {self.directory} {problem}; nothing was written. "
                        f"Training the run again (same flags) rebuilds it from an older intact step")
      logging.warning("checkpoint step %d in %s %s: skipped, trying the next older step",
                      step, self.directory, problem)
    raise UserError(f"no intact checkpoint in {self.directory} ({'; '.join(problems)}); nothing was "
                    f"written there: move that directory away to train the run from the start")

  def close(self) -> None:
    self._manager.close()


class PreemptionFlag:
  """Set by SIGTERM (a scheduler's preemption notice) or SIGINT (Ctrl-C); the loop polls it.

  The handlers stay until `restore_handlers`, which the trainer calls once the
  run's outputs are written: a repeated signal while it checkpoints and writes
  is logged and ignored, so it cannot kill the process half-way.
  """

  def __init__(self, signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT)):
    self._event = threading.Event()
    self._previous = {}
    if threading.current_thread() is threading.main_thread():
      for sig in signals:
        self._previous[sig] = signal.signal(sig, self._handle)

  def _handle(self, signum, frame) -> None:
    name = signal.Signals(signum).name
    if self._event.is_set():
      logging.warning("received %s again: ignored while the run checkpoints and writes its outputs", name)
    else:
      logging.warning("received %s: will checkpoint and exit at the next step", name)
    self._event.set()

  @property
  def requested(self) -> bool:
    return self._event.is_set()

  def restore_handlers(self) -> None:
    for sig, handler in self._previous.items():
      signal.signal(sig, handler)
    self._previous = {}
