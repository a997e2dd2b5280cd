"""Runs a study's cells: skips the finished ones, resumes the interrupted one, trains the rest."""
from __future__ import annotations

import fnmatch
import os
import time
from typing import Any, Callable, Sequence

import jax

from jaxdl.errors import UserError
from jaxdl.report.rundir import RunDir, write_json
from jaxdl.study.cells import Cell, MeasureCell, TrainCell
from jaxdl.study.records import MEASUREMENTS, TIMING, CellRecord, cell_dir, finished, load_record, read_json
from jaxdl.train import RunResult, RunStatus, train_and_evaluate
from jaxdl.train.compile_clock import CompileTotals, compile_totals, compiles_by_program


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
  """What a measurement cell may use: the records and trained models of the cells it needs.

  `trained` is shared by the contexts of one study run, so a trained cell that
  several measurements read is restored (compiled, evaluated) once.
  """

  def __init__(self, workdir: str, cells: Sequence[Cell], cell: MeasureCell,
               trained: dict[str, RunResult] | None = None):
    self._workdir = workdir
    self._by_name = {c.name: c for c in cells}
    self._needs = set(cell.needs)
    self._trained = {} if trained is None else trained

  def _check(self, name: str) -> TrainCell | MeasureCell:
    if name not in self._needs:
      raise KeyError(f"{name!r} is not among the cells this measurement needs: {sorted(self._needs)}")
    return self._by_name[name]

  def record(self, name: str) -> CellRecord:
    self._check(name)
    return load_record(self._workdir, name)

  def trained(self, name: str) -> RunResult:
    """The cell's trained replicas, restored from its last checkpoint (nothing is trained)."""
    cell = self._check(name)
    if name not in self._trained:
      self._trained[name] = cell.load(cell_dir(self._workdir, name))
    return self._trained[name]


def run_cells(cells: Sequence[Cell], selected: Sequence[Cell], workdir: str,
              echo: Callable[[str], None] = print, provenance: dict[str, Any] | None = None) -> None:
  """Runs every selected cell that is not finished, in order; raises StudyInterrupted if one stops."""
  by_name = {c.name: c for c in cells}
  trained: dict[str, RunResult] = {}  # restored trained cells, shared by the measurements
  for i, cell in enumerate(selected, start=1):
    prefix = f"[{i}/{len(selected)} {cell.name}]"
    if is_finished(workdir, cell):
      echo(f"{prefix} finished earlier: {cell_dir(workdir, cell.name)}")
      continue
    missing = [n for n in cell.needs if n not in by_name or not is_finished(workdir, by_name[n])]
    if missing:
      raise UserError(f"cell {cell.name!r} needs {', '.join(missing)} finished first; run those cells "
                      f"(e.g. --cells={','.join(missing)}) or the whole study")
    start, compiled, compiled_by_program = time.time(), compile_totals(), compiles_by_program()
    if isinstance(cell, TrainCell):
      status = _run_train_cell(cell, workdir, lambda line: echo(f"{prefix} {line}"), provenance)
    else:
      status = _run_measure_cell(CellContext(workdir, cells, cell, trained), cell, workdir, provenance)
    spent, seconds = compile_totals() - compiled, time.time() - start
    add_timing(cell_dir(workdir, cell.name), seconds, spent, programs_since(compiled_by_program))
    echo(f"{prefix} {status} in {seconds:.1f} s (compiling {spent.seconds:.1f} s: {spent.describe()})")
    if status == RunStatus.INCOMPLETE:
      raise StudyInterrupted(f"cell {cell.name!r} was interrupted; its checkpoint is saved in "
                             f"{cell_dir(workdir, cell.name)}: run the same command again to resume")


def programs_since(earlier: dict[str, CompileTotals]) -> dict[str, CompileTotals]:
  """The programs built since `earlier` (a `compiles_by_program()`), by jitted function name."""
  now = compiles_by_program()
  empty = CompileTotals(0, 0.0)
  return {name: t - earlier.get(name, empty) for name, t in now.items() if t.count > earlier.get(name, empty).count}


def add_timing(path: str, seconds: float, compiled: CompileTotals,
               by_program: dict[str, CompileTotals] | None = None) -> None:
  """Adds one run's wall and compile time to the cell's timing.json (a resumed cell's runs add up),
  so a study's time is known however its cells were run (resumed, one per SLURM task). `by_program`:
  what was built, per jitted function (`compiled - cached` of a name is what XLA compiled anew)."""
  if jax.process_index() != 0:
    return
  timing_path = os.path.join(path, TIMING)
  earlier = read_json(timing_path) if os.path.exists(timing_path) else {}
  programs = dict(earlier.get("by_program", {}))
  for name, t in (by_program or {}).items():
    before = programs.get(name, {})
    programs[name] = {"count": before.get("count", 0) + t.count, "cached": before.get("cached", 0) + t.cached,
                      "seconds": round(before.get("seconds", 0.0) + t.seconds, 3)}
  write_json(timing_path, {
      "seconds": round(earlier.get("seconds", 0.0) + seconds, 3),
      "compile_seconds": round(earlier.get("compile_seconds", 0.0) + compiled.seconds, 3),
      "programs": earlier.get("programs", 0) + compiled.count,
      "cached_programs": earlier.get("cached_programs", 0) + compiled.cached, "runs": earlier.get("runs", 0) + 1,
      "by_program": dict(sorted(programs.items(), key=lambda item: -item[1]["seconds"]))})


def _run_train_cell(cell: TrainCell, workdir: str, echo: Callable[[str], None],
                    provenance: dict[str, Any] | None) -> RunStatus:
  path = cell_dir(workdir, cell.name)
  if finished(path):  # trained earlier; only its measurements are missing
    result = cell.load(path)
  else:
    result = train_and_evaluate(cell.config, path, data=cell.data() if cell.data else None, echo=echo,
                                epoch_hook=cell.epoch_hook() if cell.epoch_hook else None,
                                program_factory=cell.program_factory, extra_config=cell.extra_config(),
                                provenance=provenance)
  if result.status.finished and cell.measure is not None:
    measurements = cell.measure(result)
    if jax.process_index() == 0:
      write_json(os.path.join(path, MEASUREMENTS), measurements)
  return result.status


def _run_measure_cell(ctx: CellContext, cell: MeasureCell, workdir: str,
                      provenance: dict[str, Any] | None) -> RunStatus:
  rundir = RunDir(cell_dir(workdir, cell.name), {"measurement": cell.spec}, jax.process_index() == 0,
                  provenance)
  rundir.set_status(RunStatus.RUNNING)
  results = cell.run(ctx)
  rundir.write_json("results.json", results)
  rundir.set_status(RunStatus.DONE)
  return RunStatus.DONE
