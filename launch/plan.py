"""A sweep's plan: the grid of flag values, one `Run` per point, and its manifest (sweep.json)."""
from __future__ import annotations

import dataclasses
import itertools
import json
import os
import re
import shlex
from typing import Sequence

from jaxdl.errors import UserError
from jaxdl.report.rundir import dead_run

MANIFEST = "sweep.json"


@dataclasses.dataclass(frozen=True)
class Run:
  """One point of the grid: its flags and its run directory."""
  index: int
  name: str
  workdir: str                # absolute
  flags: dict[str, str]       # the grid values of this run
  args: tuple[str, ...]       # everything after `python -m experiment`

  def argv(self, python: str, experiment: str) -> list[str]:
    return [python, "-m", experiment, *self.args]

  def shell(self, python: str, experiment: str) -> str:
    return shlex.join(self.argv(python, experiment))


def split_values(text: str) -> list[str]:
  """"0.1,0.03" -> ["0.1", "0.03"]; commas inside (), [] or {} do not split:
  "widths=(100,),widths=(50,50)" -> ["widths=(100,)", "widths=(50,50)"]."""
  values, depth, current = [], 0, ""
  for ch in text:
    depth += ch in "([{"
    depth -= ch in ")]}"
    if ch == "," and depth == 0:
      values.append(current)
      current = ""
    else:
      current += ch
  values.append(current)
  return [v.strip() for v in values if v.strip()]


def parse_grid_item(item: str) -> tuple[str, list[str]]:
  """"lr=0.1,0.03" -> ("lr", ["0.1", "0.03"]); "seed=0:4" -> ("seed", ["0", "1", "2", "3"])."""
  key, eq, text = item.partition("=")
  if not eq or not key.strip() or not text.strip():
    raise UserError(f"--grid {item!r}: expected flag=v1,v2,... or flag=start:stop")
  if re.fullmatch(r"-?\d+:-?\d+", text.strip()):
    start, stop = map(int, text.split(":"))
    if stop <= start:
      raise UserError(f"--grid {item!r}: empty range {start}:{stop} (stop is exclusive)")
    return key.strip(), [str(v) for v in range(start, stop)]
  return key.strip(), split_values(text)


def expand_grid(items: Sequence[str]) -> list[dict[str, str]]:
  """The cartesian product of the --grid items, the first item outermost."""
  grid = [parse_grid_item(item) for item in items]
  keys = [k for k, _ in grid]
  if len(set(keys)) != len(keys):
    raise UserError(f"a flag appears twice in --grid: {keys}")
  return [dict(zip(keys, values)) for values in itertools.product(*(v for _, v in grid))]


def run_name(index: int, flags: dict[str, str]) -> str:
  """A directory name that says the run's grid values: r003_lr-0.1_seed-2."""
  parts = [f"{k}-{v}" for k, v in flags.items()]
  return re.sub(r"[^A-Za-z0-9._-]+", "_", "_".join([f"r{index:03d}", *parts]))


def plan_sweep(grid: Sequence[str], sweep_dir: str, base_args: Sequence[str] = ()) -> list[Run]:
  """One Run per grid point; each gets --workdir=<sweep_dir>/<name> and the base args."""
  if any(a.startswith("--workdir") for a in base_args):
    raise UserError("do not pass --workdir to a sweep: each run gets <sweep_dir>/<run name>")
  if "://" in sweep_dir:
    raise UserError(f"--sweep_dir={sweep_dir}: runs write with local file I/O, so a bucket URL does not work; "
                    "mount the bucket (e.g. gcsfuse) or a shared disk at the same path on every machine that "
                    "runs or collects the sweep, and give that path")
  sweep_dir = os.path.abspath(sweep_dir)
  runs = []
  for i, flags in enumerate(expand_grid(grid) if grid else [{}]):
    name = run_name(i, flags)
    workdir = os.path.join(sweep_dir, name)
    args = (*[f"--{k}={v}" for k, v in flags.items()], f"--workdir={workdir}", *base_args)
    runs.append(Run(i, name, workdir, flags, args))
  return runs


def write_manifest(sweep_dir: str, experiment: str, runs: Sequence[Run], python: str) -> str:
  """sweep.json: the experiment, and per run its name, flags, run directory and command."""
  os.makedirs(sweep_dir, exist_ok=True)
  path = os.path.join(sweep_dir, MANIFEST)
  manifest = {"experiment": experiment, "python": python,
              "runs": [{**dataclasses.asdict(r), "args": list(r.args),
                        "command": r.shell(python, experiment)} for r in runs]}
  with open(path, "w") as f:
    json.dump(manifest, f, indent=2)
  return path


def read_manifest(sweep_dir: str) -> tuple[str, str, list[Run]]:
  """(experiment, python, runs) of a sweep directory written by `write_manifest`."""
  with open(os.path.join(sweep_dir, MANIFEST)) as f:
    m = json.load(f)
  runs = [Run(r["index"], r["name"], r["workdir"], r["flags"], tuple(r["args"])) for r in m["runs"]]
  return m["experiment"], m["python"], runs


def run_status(run_dir: str) -> str:
  """done | diverged | incomplete | failed | running | dead (...) | missing, from the run's files.

  "failed": the run recorded an error, or the launcher a non-zero exit code
  and the run no final status. "dead (last heartbeat ...)": status.json says
  running but its process is gone (see `jaxdl.report.rundir.dead_run`).
  """
  record = {}
  try:
    with open(os.path.join(run_dir, "status.json")) as f:
      record = json.load(f)
  except (FileNotFoundError, json.JSONDecodeError):
    pass
  status = record.get("status") if isinstance(record, dict) else None
  if status in ("done", "diverged", "incomplete", "failed"):
    return status
  code = exit_code(run_dir)
  if code is None:
    dead = dead_run(run_dir, record) if status == "running" else None
    return f"dead ({dead})" if dead else status or "missing"
  # A study that keeps its status in sub-directories exits 0 without one here.
  return "failed" if code else "done"


EXIT_CODE_FILE = "launch_exit_code"


def exit_code(run_dir: str) -> int | None:
  try:
    with open(os.path.join(run_dir, EXIT_CODE_FILE)) as f:
      return int(f.read().strip())
  except (FileNotFoundError, ValueError):
    return None


def clear_exit_code(run_dir: str) -> None:
  """At a launch: an earlier attempt's code must not label the run while it runs again."""
  try:
    os.remove(os.path.join(run_dir, EXIT_CODE_FILE))
  except FileNotFoundError:
    pass


def record_exit_code(run_dir: str, code: int) -> None:
  os.makedirs(run_dir, exist_ok=True)
  with open(os.path.join(run_dir, EXIT_CODE_FILE), "w") as f:
    f.write(f"{code}\n")


FINISHED = ("done", "diverged")  # a diverged run is a result: it is not run again
