"""Gathers a sweep's run directories into one table (markdown, CSV) and one figure.

  python -m launch.collect runs/lr_sweep                 # a sweep directory (its sweep.json)
  python -m launch.collect runs/a runs/b --out=runs/ab   # or run directories

Per run: the config values that differ between the runs (the swept flags,
read from each run's config.json), its status, and mean +/- std over its
replicas of the final accuracies (results.json). A run that diverged says so
(with its replicas' steps); a run that failed, was cut short or never ran is
marked, never dropped. Writes <out>/sweep_table.md, sweep_table.csv and
sweep.png, and prints the markdown.
"""
from __future__ import annotations

import json
import os
import sys
from typing import Any, Sequence

from absl import app, flags

from jaxdl.errors import UserError
from jaxdl.report import plots, tables
from jaxdl.report.rundir import write_atomic
from launch import plan

FLAGS = flags.FLAGS
flags.DEFINE_string("out", None, "Where the table and figure go (default: the sweep directory, "
                    "or the first run directory's parent).")

METRICS = ("train_acc", "val_acc", "test_acc")


def _load(path: str) -> Any:
  try:
    with open(path) as f:
      return json.load(f)
  except (FileNotFoundError, json.JSONDecodeError):
    return None


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
  out = {}
  for k, v in d.items():
    if isinstance(v, dict) and v:
      out.update(_flatten(v, f"{prefix}{k}."))
    else:
      out[f"{prefix}{k}"] = json.dumps(v) if isinstance(v, (list, dict)) else v
  return out


def run_dirs(paths: Sequence[str]) -> list[str]:
  """Run directories from sweep directories (expanded by their sweep.json) and run directories."""
  out = []
  for p in paths:
    if os.path.exists(os.path.join(p, plan.MANIFEST)):
      out += [r.workdir for r in plan.read_manifest(p)[2]]
    else:
      out.append(os.path.abspath(p))
  return out


def summarize_run(run_dir: str) -> dict[str, Any]:
  """A run's name, config (flattened), status and per-metric (mean, std, n) over its replicas."""
  results = _load(os.path.join(run_dir, "results.json")) or {}
  replicas = results.get("replicas", []) if isinstance(results, dict) else []
  status = _load(os.path.join(run_dir, "status.json"))
  row: dict[str, Any] = {
      "run": os.path.basename(run_dir.rstrip("/")), "status": plan.run_status(run_dir),
      "error": status.get("error") if isinstance(status, dict) else None,
      "config": _flatten(_load(os.path.join(run_dir, "config.json")) or {}),
      "replicas": len(replicas), "exit_code": plan.exit_code(run_dir),
      "diverged_steps": [r.get("diverged_step") for r in replicas if r.get("status") == "diverged"]}
  for m in METRICS:
    row[m] = tables.mean_std(r.get(m) for r in replicas if m in r)
  return row


def status_cell(row: dict[str, Any]) -> str:
  status, steps = row["status"], row["diverged_steps"]
  if status in ("done", "diverged") and steps:
    return f"{status}; {len(steps)}/{row['replicas']} diverged (step {', '.join(map(str, steps))})"
  if status == "failed":
    return f"FAILED ({row['error'] or 'exit ' + str(row['exit_code'])})"
  if status in ("running", "incomplete", "missing"):
    return f"INCOMPLETE ({status})"
  return status


def varying_keys(rows: Sequence[dict[str, Any]]) -> list[str]:
  """Config keys whose value differs between the runs that wrote a config.json (not workdir)."""
  configs = [r["config"] for r in rows if r["config"]]
  keys = sorted({k for c in configs for k in c} - {"workdir"})
  return [k for k in keys if len({json.dumps(c.get(k)) for c in configs}) > 1]


def sweep_figure(path: str, labels: Sequence[str], means: Sequence[float], stds: Sequence[float],
                 notes: Sequence[str], ylabel: str) -> None:
  """One point per run (mean, with the std over its replicas as an error bar) on an axis fitted to the
  values (a bar from 0 would flatten the differences a sweep is about); a run without a value is a
  red x at the bottom, and any run with a note (diverged, failed) carries it in red."""
  fig, ax = plots.plt.subplots(figsize=(max(4.0, 0.9 * len(labels) + 1.5), 4.0))
  finite = [m for m in means if m == m]
  for i, (mean, std) in enumerate(zip(means, stds)):
    if mean == mean:  # not NaN
      ax.errorbar(i, mean, yerr=std if std == std else 0, fmt="o", color="tab:blue", capsize=3)
  plots.percent_axis(ax, ylabel)
  bottom = ax.get_ylim()[0] if finite else 0.0
  for i, (mean, note) in enumerate(zip(means, notes)):
    if mean != mean:
      ax.plot(i, bottom, "x", color="tab:red", markersize=9, clip_on=False)
    if note:
      ax.annotate(note, (i, mean if mean == mean else bottom), xytext=(0, 8), textcoords="offset points",
                  rotation=90, ha="center", va="bottom", color="tab:red", fontsize=7)
  ax.set_xlim(-0.5, len(labels) - 0.5)
  ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=7)
  ax.set_xlabel("run")
  plots.save(fig, path)


def collect(paths: Sequence[str], out_dir: str) -> str:
  """Writes sweep_table.md/.csv and sweep.png into out_dir; returns the markdown table."""
  rows = [summarize_run(d) for d in run_dirs(paths)]
  if not rows:
    raise UserError("no run directories given")
  keys = varying_keys(rows)
  metrics = [m for m in METRICS if any(r[m][2] for r in rows)]
  header = ["run", *keys, "status", "replicas", *[m.replace("_", " ") + " (%)" for m in metrics]]
  md_rows, csv_rows = [], []
  for r in rows:
    cfg = [r["config"].get(k, "") for k in keys]
    md_rows.append([r["run"], *cfg, status_cell(r), r["replicas"],
                    *[tables.format_mean_std(*r[m], scale=100) for m in metrics]])
    csv_rows.append([r["run"], *cfg, status_cell(r), r["replicas"],
                     *[v for m in metrics for v in (100 * r[m][0], 100 * r[m][1])]])
  csv_header = ["run", *keys, "status", "replicas", *[f"{m}_{s} (%)" for m in metrics for s in ("mean", "std")]]
  os.makedirs(out_dir, exist_ok=True)
  table = tables.markdown_table(header, md_rows)
  write_atomic(os.path.join(out_dir, "sweep_table.md"), table + "\n")
  write_atomic(os.path.join(out_dir, "sweep_table.csv"), tables.csv_table(csv_header, csv_rows))
  metric = "test_acc" if "test_acc" in metrics else (metrics[-1] if metrics else None)
  if metric:
    labels = [r["run"] for r in rows]
    sweep_figure(os.path.join(out_dir, "sweep.png"), labels,
                 [100 * r[metric][0] for r in rows], [100 * r[metric][1] for r in rows],
                 [status_cell(r) if r["status"] != "done" or r["diverged_steps"] else "" for r in rows],
                 ylabel=plots.metric_label(metric))
  return table


def main(argv: list[str]) -> None:
  paths = argv[1:]
  if not paths:
    print("usage: python -m launch.collect SWEEP_OR_RUN_DIR... [--out=DIR]", file=sys.stderr)
    sys.exit(2)
  out = FLAGS.out or (paths[0] if os.path.exists(os.path.join(paths[0], plan.MANIFEST))
                      else os.path.dirname(os.path.abspath(paths[0])))
  try:
    print(collect(paths, out))
  except ValueError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)
  print(f"\nwrote {out}/sweep_table.md, sweep_table.csv, sweep.png")


if __name__ == "__main__":
  app.run(main)
