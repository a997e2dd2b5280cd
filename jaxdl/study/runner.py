"""Runs a study's cells: skips the finished ones, resumes the interrupted one, trains the rest."""
from __future__ import annotations

import fnmatch
import functools
import os
import time
from typing import Any, Callable, Sequence

import jax

from jaxdl.errors import UserError
from jaxdl.report.rundir import RunDir, write_json
from jaxdl.study.cells import Cell, MeasureCell, TrainCell
from jaxdl.study.records import MEASUREMENTS, CellRecord, cell_dir, finished, load_record
from jaxdl.train import RunResult, RunStatus, load_run, train_and_evaluate


class StudyInterrupted(Exception):
  """A cell stopped before its end (a preemption signal); its checkpoint is saved."""


def select_cells(cells: Sequence[Cell], patterns: Sequence[str]) -> list[Cell]:
  """The cells whose names match any of `patterns` (shell globs); all when none are given."""
  if not patterns:
    return list(cells)
  names = [c.name for c in cells]
  for pattern in patterns:
    if not fnmatch.filter(names, pattern):
      raise UserError(f"--cells: no cell matches {pattern!r}; cells: {', '.join(names)}")
  return [c for c in cells if any(fnmatch.fnmatchcase(c.name, p) for p in patterns)]


def is_finished(workdir: str, cell: Cell) -> bool:
  needs_measurements = isinstance(cell, TrainCell) and cell.measure is not None
  return finished(cell_dir(workdir, cell.name), needs_measurements)


class CellContext:
  """What a measurement cell may use: the records and trained models of the cells it needs."""

  def __init__(self, workdir: str, cells: Sequence[Cell], cell: MeasureCell):
    self._workdir = workdir
    self._by_name = {c.name: c for c in cells}
    self._needs = set(cell.needs)

  def _check(self, name: str) -> TrainCell | MeasureCell:
    if name not in self._needs:
      raise KeyError(f"{name!r} is not among the cells this measurement needs: {sorted(self._needs)}")
    return self._by_name[name]

  def record(self, name: str) -> CellRecord:
    self._check(name)
    return load_record(self._workdir, name)

  @functools.lru_cache(maxsize=None)
  def trained(self, name: str) -> RunResult:
    """The cell's trained replicas, restored from its last checkpoint (nothing is trained)."""
    cell = self._check(name)
    return load_run(cell.config, cell_dir(self._workdir, name), data=cell.data() if cell.data else None,
                    program_factory=cell.program_factory, extra_config=cell.extra_config())


def run_cells(cells: Sequence[Cell], selected: Sequence[Cell], workdir: str,
              echo: Callable[[str], None] = print, provenance: dict[str, Any] | None = None) -> None:
  """Runs every selected cell that is not finished, in order; raises StudyInterrupted if one stops."""
  names = {c.name for c in cells}
  for i, cell in enumerate(selected, start=1):
    prefix = f"[{i}/{len(selected)} {cell.name}]"
    if is_finished(workdir, cell):
      echo(f"{prefix} finished earlier: {cell_dir(workdir, cell.name)}")
      continue
    missing = [n for n in cell.needs if n not in names or not is_finished(workdir, _named(cells, n))]
    if missing:
      raise UserError(f"cell {cell.name!r} needs {', '.join(missing)} finished first; run those cells "
                      f"(e.g. --cells={','.join(missing)}) or the whole study")
    start = time.time()
    if isinstance(cell, TrainCell):
      status = _run_train_cell(cell, workdir, lambda line: echo(f"{prefix} {line}"), provenance)
    else:
      status = _run_measure_cell(cell, cells, workdir, provenance)
    echo(f"{prefix} {status} in {time.time() - start:.1f} s")
    if status == RunStatus.INCOMPLETE:
      raise StudyInterrupted(f"cell {cell.name!r} was interrupted; its checkpoint is saved in "
                             f"{cell_dir(workdir, cell.name)}: run the same command again to resume")


def _named(cells: Sequence[Cell], name: str) -> Cell:
  return next(c for c in cells if c.name == name)


def _run_train_cell(cell: TrainCell, workdir: str, echo: Callable[[str], None],
                    provenance: dict[str, Any] | None) -> RunStatus:
  path = cell_dir(workdir, cell.name)
  data = cell.data() if cell.data else None
  if finished(path):  # trained earlier; only its measurements are missing
    result = load_run(cell.config, path, data=data, program_factory=cell.program_factory,
                      extra_config=cell.extra_config())
  else:
    result = train_and_evaluate(cell.config, path, data=data, echo=echo,
                                epoch_hook=cell.epoch_hook() if cell.epoch_hook else None,
                                program_factory=cell.program_factory, extra_config=cell.extra_config(),
                                provenance=provenance)
  if result.status.finished and cell.measure is not None:
    measurements = cell.measure(result)
    if jax.process_index() == 0:
      write_json(os.path.join(path, MEASUREMENTS), measurements)
  return result.status


def _run_measure_cell(cell: MeasureCell, cells: Sequence[Cell], workdir: str,
                      provenance: dict[str, Any] | None) -> RunStatus:
  rundir = RunDir(cell_dir(workdir, cell.name), {"measurement": cell.spec}, jax.process_index() == 0,
                  provenance)
  rundir.set_status(RunStatus.RUNNING)
  results = cell.run(CellContext(workdir, cells, cell))
  rundir.write_json("results.json", results)
  rundir.set_status(RunStatus.DONE)
  return RunStatus.DONE
