"""The command line every study shares: a config file with overrides, cells, resume, report.

  python -m experiments.<study> [--config=experiments/<study>/config.py:quick]
      [--config.<key>=<value> ...] [--workdir=runs/<study>] [--cells=a,b*] [--list_cells]
      [--report_only]

The config file's variants: `smoke` (seconds, for tests), `quick` (a laptop
CPU), `full` (the papers' scale, for GPU/TPU). Every cell is a run directory
`<workdir>/cells/<cell>/`: a finished cell is skipped, an interrupted one
resumes from its checkpoint, so running the same command again continues a
killed study. `--cells` runs only the cells it matches (comma-separated shell
globs), e.g. one cell per SLURM array task; the report (tables, verdicts,
figures) is made once every cell has finished, or with `--report_only` from
the cell directories alone. Exit codes: 0 done, 2 bad input, 3 interrupted
(preempted: run again to resume).
"""
from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from typing import Sequence

import jax
from absl import app, flags
from ml_collections import ConfigDict, config_flags

from experiments import common
from experiments.common import EXIT_INTERRUPTED, parse_flags, run_cleanly, show_in_help
from jaxdl.errors import UserError
from jaxdl.report.provenance import provenance
from jaxdl.report.rundir import PROVENANCE, RunDir, write_json
from jaxdl.study import Cell, Report, Study, StudyInterrupted, load_records, run_cells, select_cells
from jaxdl.study.records import CELLS_DIR, cells_summary
from jaxdl.study.runner import is_finished
from jaxdl.train.compile_clock import compile_totals, compiles_by_program
from jaxdl.train.config import as_tuples

FLAGS = flags.FLAGS


def define_flags(study: Study, default_config: str) -> None:
  config_flags.DEFINE_config_file("config", default_config,
                                  "The study's config file and variant (smoke | quick | full), "
                                  "path:variant; override any field with --config.<field>=<value>.",
                                  lock_config=True)
  flags.DEFINE_string("workdir", f"runs/{study.name}", "The study's directory: cells/<cell>/ and the report.")
  flags.DEFINE_list("cells", [], "Run only these cells (comma-separated shell globs; see --list_cells).")
  flags.DEFINE_bool("list_cells", False, "Print the cells (and whether each has finished), then exit.")
  flags.DEFINE_bool("report_only", False, "Make the tables, verdicts and figures from the finished cell "
                    "directories in --workdir, without training (the config saved there is used).")


def main(study: Study) -> None:
  """`python -m experiments.<study>`: defines the flags and runs the study."""
  default = f"{os.path.relpath(study.config_file)}:quick"
  # ml_collections reads the overrides in sys.argv when the flag is defined: check them first.
  _exit_on_unknown_override(sys.argv, default)
  define_flags(study, default)
  # `python -m <package>`: --help shows the package's docstring, the study's description
  package = getattr(sys.modules["__main__"].__spec__, "parent", None)
  show_in_help([sys.modules[__name__], common], doc=importlib.import_module(package).__doc__ if package else None)
  app.run(lambda argv: sys.exit(run_cleanly(lambda: run(study, argv))), flags_parser=parse_flags)


def _exit_on_unknown_override(argv: list[str], default: str) -> None:
  """A config file that does not exist, or an override of a key the config does not have:
  one line (naming the valid keys), exit 2."""
  spec = next((a.split("=", 1)[1] for a in argv if a.startswith("--config=")), default)
  if not os.path.isfile(spec.partition(":")[0]):
    print(f"error: --config={spec}: no file {spec.partition(':')[0]}", file=sys.stderr)
    sys.exit(2)
  config = _load_config(spec)
  if config is None:
    return  # the flag itself reports a config file that does not load
  valid = flat_keys(config)
  for arg in argv:
    key = arg[len("--config."):].split("=", 1)[0] if arg.startswith("--config.") else None
    if key is not None and key not in valid:
      print(f"error: unknown config key --config.{key}; valid keys: {', '.join(valid)}", file=sys.stderr)
      sys.exit(2)


def _load_config(spec: str) -> ConfigDict | None:
  """The config of `path:variant`, loaded without overrides; None if it does not load."""
  path, _, variant = spec.partition(":")
  try:
    module_spec = importlib.util.spec_from_file_location("study_config", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.get_config(variant) if variant else module.get_config()
  except Exception:  # noqa: BLE001 -- only to name the valid keys; the flag reports the error itself
    return None


def flat_keys(config: ConfigDict, prefix: str = "") -> list[str]:
  keys = []
  for key, value in config.items():
    keys += flat_keys(value, f"{prefix}{key}.") if isinstance(value, ConfigDict) else [prefix + key]
  return keys


def variant() -> str:
  return config_flags.get_config_filename(FLAGS["config"]).rpartition(":")[2]


def saved_config(workdir: str) -> ConfigDict:
  path = os.path.join(workdir, "config.json")
  try:
    with open(path) as f:
      return ConfigDict(as_tuples(json.load(f)["config"]))
  except FileNotFoundError:
    raise UserError(f"--report_only: no {path}; run the study into that --workdir first") from None


def cells_listing(cells: Sequence[Cell], workdir: str) -> str:
  """One tab-separated line per cell: name, kind, finished or -, the cells it needs (launch/ reads it)."""
  return "\n".join(f"{c.name}\t{type(c).__name__}\t{'finished' if is_finished(workdir, c) else '-'}\t"
                   f"{','.join(c.needs)}" for c in cells)


def run(study: Study, argv: list[str]) -> int:
  if len(argv) > 1:
    raise UserError(f"unexpected arguments {argv[1:]}; settings are --config.<field>=<value>")
  start, workdir = time.time(), os.path.abspath(FLAGS.workdir)
  config = saved_config(workdir) if FLAGS.report_only else FLAGS.config
  cells = study.cells(config)
  selected = select_cells(cells, FLAGS.cells)
  if FLAGS.list_cells:
    print(cells_listing(cells, workdir))
    return 0
  print(f"{study.title}\nconfig ({'saved in ' + workdir if FLAGS.report_only else variant()}):\n{config}",
        flush=True)
  if not FLAGS.report_only:
    origin = provenance(config_variant=variant())
    RunDir(workdir, {"study": study.name, "config": config.to_dict()}, provenance=origin)
    try:
      run_cells(cells, selected, workdir, provenance=origin)
    except StudyInterrupted as e:
      print(f"interrupted: {e}", file=sys.stderr)
      return EXIT_INTERRUPTED
  unfinished = [c.name for c in cells if not is_finished(workdir, c)]
  if unfinished:
    if FLAGS.report_only:
      raise UserError(f"--report_only: {len(unfinished)} cell(s) not finished: {', '.join(unfinished)}")
    print(f"{len(cells) - len(unfinished)} of {len(cells)} cells finished; the report is made when all "
          f"are (then, or with --report_only)")
    return 0
  report = Report(workdir)
  study.report(config, load_records(workdir, [c.name for c in cells]), report)
  report.write(about(study, config, workdir, [c.name for c in cells]))
  compiling = compile_report(workdir)
  print(f"\n{study.name}: {time.time() - start:.0f} s ({compiling}); outputs in {workdir} "
        f"(cells in {os.path.join(workdir, CELLS_DIR)})")
  return 0


def about(study: Study, config: ConfigDict, workdir: str, names: Sequence[str]) -> dict:
  """What report.json says of the run besides its results: the study, its settings, how and where its
  cells ran (the study's provenance, as its last start saved it) and their time."""
  with open(os.path.join(workdir, "config.json")) as f:
    origin = json.load(f).get(PROVENANCE, {})
  made = provenance()
  return {"study": study.name, "title": study.title, "variant": origin.get("config_variant"),
          "config": config.to_dict(), "run": origin, "cells": cells_summary(workdir, names),
          "report": {"commit": made["commit"], "dirty": made["dirty"], "time_utc": made["time_utc"],
                     "report_only": bool(FLAGS.report_only)}}


def compile_report(workdir: str) -> str:
  """What this command compiled (the cells it ran and the report; not cells finished earlier or run
  by other processes), by program, into compiles.json (report_compiles.json for --report_only, which
  keeps the training run's table); one line back. Each cell's own table is in its timing.json."""
  name = "report_compiles.json" if FLAGS.report_only else "compiles.json"
  total = compile_totals()
  by_program = sorted(compiles_by_program().items(), key=lambda item: -item[1].seconds)
  if jax.process_index() == 0:
    write_json(os.path.join(workdir, name), {
        "programs": total.count, "cached": total.cached, "seconds": round(total.seconds, 3),
        "by_program": [{"name": name, "count": t.count, "cached": t.cached, "seconds": round(t.seconds, 3)}
                       for name, t in by_program]})
  return f"compiling {total.seconds:.0f} s, {total.describe()}: {name}"

