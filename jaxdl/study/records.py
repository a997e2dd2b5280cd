"""What a finished cell left in its run directory, read back for the report."""
from __future__ import annotations

import dataclasses
import json
import os
from typing import Any, Sequence

import numpy as np

from jaxdl.errors import UserError
from jaxdl.report.rundir import PROVENANCE, RunDir, from_jsonable
from jaxdl.train.status import RunStatus

CELLS_DIR = "cells"
MEASUREMENTS = "measurements.json"
TIMING = "timing.json"  # the wall and compile seconds of every run of the cell, summed


def cell_dir(workdir: str, name: str) -> str:
  return os.path.join(os.path.abspath(workdir), CELLS_DIR, name)


def read_json(path: str, missing: str = "the cell did not finish; run the study again to finish it",
              invalid: str = "delete that cell's directory and run it again") -> Any:
  """JSON with the "nan"/"inf" strings jaxdl writes for non-finite floats read back as floats; a
  missing or broken file is a UserError saying what to do (`missing`, `invalid`)."""
  try:
    with open(path) as f:
      return from_jsonable(json.load(f))
  except FileNotFoundError:
    raise UserError(f"missing {path}: {missing}") from None
  except json.JSONDecodeError as e:
    raise UserError(f"{path} is not valid JSON ({e}): {invalid}") from None


@dataclasses.dataclass
class CellRecord:
  """One cell's files. Train cells: `replicas` (results.json), `history` (metrics.jsonl,
  one record per epoch, epoch 0 the hook's at init), `measurements`. Measure cells: `results`."""
  name: str
  path: str
  config: dict[str, Any]
  status: RunStatus
  replicas: list[dict[str, Any]]
  history: list[dict[str, Any]]
  measurements: dict[str, Any]
  results: dict[str, Any]

  def curve(self, metric: str) -> np.ndarray:
    """[epochs, K] of a per-epoch metric over the trained epochs (the init record excluded)."""
    return np.array([h[metric] for h in self.history if "train_loss" in h], dtype=float)

  def at_init(self, key: str) -> np.ndarray:
    """The epoch hook's value of `key` at initialization (the epoch-0 record)."""
    return np.asarray(self.history[0][key], dtype=float)

  def final(self, key: str) -> np.ndarray:
    """The epoch hook's value of `key` in the last record (after training)."""
    return np.asarray(self.history[-1][key], dtype=float)


def finished(path: str, needs_measurements: bool = False) -> bool:
  """Whether the cell in `path` is finished (done or diverged, its measurements saved)."""
  status = _status(path)
  if status is None or not RunStatus(status).finished:
    return False
  return not needs_measurements or os.path.exists(os.path.join(path, MEASUREMENTS))


def _status(path: str) -> str | None:
  try:
    with open(os.path.join(path, "status.json")) as f:
      return json.load(f)["status"]
  except (FileNotFoundError, json.JSONDecodeError, KeyError):
    return None


def load_record(workdir: str, name: str) -> CellRecord:
  path = cell_dir(workdir, name)
  status = _status(path)
  if status is None or not RunStatus(status).finished:
    raise UserError(f"cell {name!r} has not finished ({path} status: {status or 'not started'}); "
                    f"run the study (or --cells={name}) to finish it")
  config = read_json(os.path.join(path, "config.json"))
  config.pop(PROVENANCE, None)
  results = read_json(os.path.join(path, "results.json"))
  measurements_path = os.path.join(path, MEASUREMENTS)
  measurements = read_json(measurements_path) if os.path.exists(measurements_path) else {}
  history = [from_jsonable(m) for m in RunDir.read_metrics(path)]
  return CellRecord(name, path, config, RunStatus(status), results.get("replicas", []), history,
                    measurements, results)


def cells_summary(workdir: str, names: Sequence[str]) -> dict[str, Any]:
  """The cells' time (each one's timing.json; None where it has none) and the commits they ran at."""
  by_cell = []
  for name in names:
    path = cell_dir(workdir, name)
    timing_path = os.path.join(path, TIMING)
    timing = read_json(timing_path) if os.path.exists(timing_path) else {}
    config_path = os.path.join(path, "config.json")
    origin = read_json(config_path).get(PROVENANCE, {}) if os.path.exists(config_path) else {}
    by_cell.append({"name": name, "seconds": timing.get("seconds"), "compile_seconds": timing.get("compile_seconds"),
                    "programs": timing.get("programs"), "cached_programs": timing.get("cached_programs"),
                    "runs": timing.get("runs"), "commit": origin.get("commit")})
  timed = [c for c in by_cell if c["seconds"] is not None]
  total = lambda key: round(sum(c[key] or 0 for c in timed), 3) if timed else None  # noqa: E731
  return {"count": len(by_cell), "timed": len(timed), "seconds": total("seconds"),
          "compile_seconds": total("compile_seconds"), "programs": total("programs"),
          "cached_programs": total("cached_programs"),
          "commits": sorted({c["commit"] for c in by_cell if c["commit"]}), "by_cell": by_cell}


def load_records(workdir: str, names: Sequence[str]) -> dict[str, CellRecord]:
  """The records of `names`; an unfinished cell is an error that names it and how to finish it."""
  return {name: load_record(workdir, name) for name in names}

