"""One directory per run: config.json, metrics.jsonl, status.json, results, tables, events.

Rules that protect earlier results:
- a directory that holds a run with a different config is refused, not
  overwritten (use a new --workdir);
- nothing is written before the run has validated its inputs (the caller
  creates the RunDir only after data and model were built);
- metrics.jsonl is rewritten only to drop lines past the checkpoint a run
  resumes from, which that run then writes again, identically.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from typing import Any

import numpy as np

from jaxdl.errors import UserError


PROVENANCE = "provenance"  # the config.json key that is not part of a run's identity


class RunDirConflict(UserError):
  """The work directory holds a different run."""


def _jsonable(value: Any) -> Any:
  if isinstance(value, dict):
    return {str(k): _jsonable(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [_jsonable(v) for v in value]
  if isinstance(value, np.ndarray):
    return _jsonable(value.tolist())
  if isinstance(value, (np.floating, float)):
    v = float(value)
    return v if math.isfinite(v) else str(v)  # JSON has no NaN/inf: "nan", "inf"
  if isinstance(value, (np.integer,)):
    return int(value)
  if isinstance(value, np.bool_):
    return bool(value)
  return value


def from_jsonable(value: Any) -> Any:
  """The inverse of the writer's encoding: the strings "nan", "inf", "-inf" back to floats."""
  if isinstance(value, dict):
    return {k: from_jsonable(v) for k, v in value.items()}
  if isinstance(value, list):
    return [from_jsonable(v) for v in value]
  if value in ("nan", "inf", "-inf"):
    return float(value)
  return value


def write_atomic(path: str, text: str) -> None:
  """Writes via a temporary file and a rename, so a crash leaves old or new, never half."""
  directory = os.path.dirname(os.path.abspath(path))
  fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
  with os.fdopen(fd, "w") as f:
    f.write(text)
  os.replace(tmp, path)


def write_json(path: str, value: Any) -> None:
  write_atomic(path, json.dumps(_jsonable(value), indent=2, sort_keys=True) + "\n")


class RunDir:
  """The files of one run under `path`.

  config.json holds the run's config and, under "provenance", where the run
  that created it came from (command, commit, versions, devices); two configs
  are the same run when they agree on everything but the provenance. Every
  start of the run, resumes included, appends its provenance to
  provenance.jsonl.
  """

  def __init__(self, path: str, config: dict[str, Any], is_writer: bool = True,
               provenance: dict[str, Any] | None = None):
    self.path = os.path.abspath(path)
    self.is_writer = is_writer
    config = _jsonable(config)
    config_path = os.path.join(self.path, "config.json")
    if os.path.exists(config_path):
      with open(config_path) as f:
        existing = json.load(f)
      existing.pop(PROVENANCE, None)
      if existing != config:
        diff = sorted(k for k in set(existing) | set(config) if existing.get(k) != config.get(k))
        raise RunDirConflict(
            f"{self.path} already holds a run with a different config (differs in: "
            f"{', '.join(diff)}); nothing was changed there. Use a new --workdir, or the "
            f"same flags to resume that run.")
    elif is_writer:
      os.makedirs(self.path, exist_ok=True)
      write_json(config_path, {**config, **({PROVENANCE: provenance} if provenance else {})})
    if provenance and is_writer:
      with open(self.file("provenance.jsonl"), "a") as f:
        f.write(json.dumps(_jsonable(provenance), sort_keys=True) + "\n")

  def file(self, name: str) -> str:
    return os.path.join(self.path, name)

  def status(self) -> dict[str, Any] | None:
    try:
      with open(self.file("status.json")) as f:
        return json.load(f)
    except FileNotFoundError:
      return None

  def set_status(self, status: str, **details: Any) -> None:
    if self.is_writer:
      write_json(self.file("status.json"), {"status": status, **details})

  def metrics(self) -> list[dict[str, Any]]:
    return self.read_metrics(self.path)

  @staticmethod
  def read_metrics(run_path: str) -> list[dict[str, Any]]:
    """The logged records. A torn last line (killed mid-append) is dropped: a resume rewrites it."""
    path = os.path.join(run_path, "metrics.jsonl")
    try:
      with open(path) as f:
        lines = [line for line in f if line.strip()]
    except FileNotFoundError:
      return []
    records = []
    for i, line in enumerate(lines):
      try:
        records.append(json.loads(line))
      except json.JSONDecodeError as e:
        if i == len(lines) - 1 and not line.endswith("\n"):
          break
        raise UserError(f"{path} line {i + 1} is not JSON ({e}): the file was altered; fix or "
                        f"delete that line, or use a new --workdir") from None
    return records

  def truncate_metrics(self, last_step: int) -> list[dict[str, Any]]:
    """Drops metric lines past `last_step` (a resume replays them); returns the records kept."""
    kept = [m for m in self.metrics() if m["step"] <= last_step]
    if self.is_writer:
      write_atomic(self.file("metrics.jsonl"), "".join(json.dumps(_jsonable(m)) + "\n" for m in kept))
    return kept

  def log_metrics(self, record: dict[str, Any]) -> None:
    if self.is_writer:
      with open(self.file("metrics.jsonl"), "a") as f:
        f.write(json.dumps(_jsonable(record)) + "\n")

  def write_json(self, name: str, value: Any) -> None:
    if self.is_writer:
      write_json(self.file(name), value)

  def write_text(self, name: str, text: str) -> None:
    if self.is_writer:
      write_atomic(self.file(name), text)
