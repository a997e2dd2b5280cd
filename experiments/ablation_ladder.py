"""An ablation ladder: rungs that each add one idea, trained in order, one table.

  python -m experiments.ablation_ladder --preset=quick
  python -m experiments.ablation_ladder --preset=full     # Nielsen's protocol, MNIST + Fashion-MNIST (a GPU)
  python -m experiments.ablation_ladder --ladder=nielsen_ch6_cpu.json   # the book's data, 1/10 of its steps
  python -m experiments.ablation_ladder --ladder=experiments/ladders/my_ladder.json

The measured tables, their hardware, wall times and verdicts are in the README
section "Ablation ladder"; `full` (60 epochs at mini-batch 10 per rung, 3-5
seeds, two datasets) was not run here: far beyond a 2-core CPU.

A ladder is data (experiments/ladders/*.json): a `protocol` (the starting
configuration) and `rungs`, each a name, the book's number and a `set` of
overrides applied on top of the rung before it. Keys of `set`: any TrainConfig
field (`model`, `model_options` (merged; reset when `model` changes),
`epochs`, `batch_size`, `seeds` (a count), ...), `optim` (merged OptimConfig
fields), and the ladder's own: `expand_data` (Nielsen's 5x one-pixel shifts),
`vote` (the rung's number is the majority vote of that many seeds' nets),
`train_size`, `val_subset`, `test_subset` (first N examples of each split).
`nielsen_ch6.json` is the book's chapter-6 ladder (full preset);
`nielsen_ch6_quick.json` its laptop variant (quick preset); `nielsen_ch6_cpu.json`
the book's full data split at mini-batch 50 and a tenth of its steps (~40 min on CPU).

The reported number per rung is Nielsen's: test accuracy at the epoch of best
validation accuracy (validation = the last 10k training images), mean +/- std
over seeds; a `vote` rung reports the vote of its nets after the last epoch.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
from typing import Any

import matplotlib
from absl import app, flags

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from experiments.common import define_study_flags, run_cleanly
from jaxdl.data import Dataset, expand_by_shifts, load_dataset
from jaxdl.ensembles import replica_logits, vote_accuracy
from jaxdl.errors import UserError
from jaxdl.optim import OptimConfig
from jaxdl.report import plots, tables
from jaxdl.report.claims import Claim, report_claims
from jaxdl.report.rundir import write_atomic, write_json
from jaxdl.train import RunResult, TrainConfig, train_and_evaluate

FLAGS = flags.FLAGS

LADDER_DIR = os.path.join(os.path.dirname(__file__), "ladders")
PRESETS = {"quick": dict(ladder="nielsen_ch6_quick.json", datasets=None),
           "full": dict(ladder="nielsen_ch6.json", datasets=["mnist", "fashion_mnist"])}
LADDER_KEYS = ("expand_data", "vote", "train_size", "val_subset", "test_subset", "optim")
TRAIN_KEYS = tuple(f.name for f in dataclasses.fields(TrainConfig) if f.name not in ("optim", "sweep"))
TOLERANCE = 0.2  # points: "within about 0.2 points of the book's number"


def load_ladder(path: str) -> dict[str, Any]:
  """Reads and checks a ladder file (unknown override keys are an error listing the valid ones)."""
  if not os.path.exists(path) and os.path.exists(os.path.join(LADDER_DIR, path)):
    path = os.path.join(LADDER_DIR, path)
  with open(path) as f:
    try:
      ladder = json.load(f)
    except json.JSONDecodeError as e:
      raise UserError(f"ladder {path} is not valid JSON: {e}") from None
  for key in ("protocol", "rungs"):
    if key not in ladder:
      raise UserError(f"ladder {path}: missing {key!r}")
  for where, overrides in [("protocol", ladder["protocol"])] + [(r["name"], r.get("set", {})) for r in ladder["rungs"]]:
    unknown = sorted(set(overrides) - set(TRAIN_KEYS) - set(LADDER_KEYS))
    if unknown:
      raise UserError(f"ladder {path}, {where}: unknown keys {unknown}; valid: "
                      f"{', '.join(TRAIN_KEYS + LADDER_KEYS)}")
    bad_optim = sorted(set(overrides.get("optim", {})) - {f.name for f in dataclasses.fields(OptimConfig)})
    if bad_optim:
      raise UserError(f"ladder {path}, {where}: unknown optim keys {bad_optim}")
  return ladder


def _tuples(value: Any) -> Any:
  """JSON lists -> tuples (model widths, decay epochs are sequences of the configs)."""
  if isinstance(value, list):
    return tuple(_tuples(v) for v in value)
  if isinstance(value, dict):
    return {k: _tuples(v) for k, v in value.items()}
  return value


def apply_overrides(current: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
  """One rung on top of the last: optim and model_options merge, the rest replace.

  model_options restart from the rung's own when the rung changes the model
  (an mlp's `widths` mean nothing to a cnn).
  """
  out = {**current}
  overrides = _tuples(overrides)
  for key, value in overrides.items():
    if key == "optim":
      out["optim"] = {**current.get("optim", {}), **value}
    elif key == "model_options":
      same_model = overrides.get("model", current.get("model")) == current.get("model")
      out["model_options"] = {**(current.get("model_options", {}) if same_model else {}), **value}
    else:
      out[key] = value
  if "vote" not in overrides:  # a vote reports on its own rung only
    out.pop("vote", None)
  return out


def rung_specs(ladder: dict[str, Any], dataset: str, seeds: int = 0) -> list[dict[str, Any]]:
  """The full (cumulative) specification of every rung, in order. seeds > 0 replaces the protocol's."""
  current = _tuples(ladder["protocol"])
  if seeds:
    current["seeds"] = seeds
  specs = []
  for rung in ladder["rungs"]:
    current = apply_overrides(current, rung.get("set", {}))
    specs.append({**current, "dataset": dataset})
  return specs


def train_config(spec: dict[str, Any]) -> TrainConfig:
  """The TrainConfig of a rung spec (the ladder's own keys are applied to the data instead)."""
  fields = {k: v for k, v in spec.items() if k in TRAIN_KEYS and k not in ("seeds", "train_size", "val_size")}
  n_seeds = max(int(spec.get("seeds", 1)), int(spec.get("vote", 0)))
  return TrainConfig(**fields, val_size=spec.get("val_size", 10000), seeds=tuple(range(n_seeds)),
                     optim=OptimConfig(**spec.get("optim", {})))


def rung_data(base: Dataset, spec: dict[str, Any]) -> Dataset:
  """Subsets (first N of each split), then Nielsen's 5x expansion of the training set."""
  cut = lambda n, a: a[:n] if n else a  # noqa: E731
  n_train, n_val, n_test = (int(spec.get(k, 0)) for k in ("train_size", "val_subset", "test_subset"))
  x, y = cut(n_train, base.x_train), cut(n_train, base.y_train)
  if spec.get("expand_data"):
    x, y = expand_by_shifts(x, y)
  return dataclasses.replace(base, x_train=x, y_train=y, x_val=cut(n_val, base.x_val), y_val=cut(n_val, base.y_val),
                             x_test=cut(n_test, base.x_test), y_test=cut(n_test, base.y_test))


def _data_key(spec: dict[str, Any]) -> tuple:
  return tuple(spec.get(k) for k in ("train_size", "val_subset", "test_subset", "expand_data"))


def run_ladder(ladder: dict[str, Any], datasets: list[str], data_dir: str | None = None, seeds: int = 0,
               echo=print) -> dict[str, Any]:
  """Trains every rung on every dataset. A rung whose training spec equals an earlier one's
  (e.g. `vote` after the rung it votes over) reuses that run."""
  out = {"ladder": ladder.get("name", "ladder"), "datasets": datasets, "rungs": [], "wall_s": 0.0}
  for dataset in datasets:
    base = load_dataset(dataset, data_dir=data_dir, val_size=int(ladder["protocol"].get("val_size", 10000)))
    trained: dict[str, RunResult] = {}
    for rung, spec in zip(ladder["rungs"], rung_specs(ladder, dataset, seeds)):
      cfg = train_config(spec)
      key = repr((cfg, _data_key(spec)))
      if key not in trained:
        result = train_and_evaluate(cfg, data=rung_data(base, spec), echo=lambda line: None)
        trained[key] = result
        out["wall_s"] += result.wall_time_s
      result = trained[key]
      row = _rung_row(rung, spec, result, dataset)
      echo(f"{dataset} | {rung['name']}: {_fmt(row['accs'])} % ({row['status']}, {result.wall_time_s:.0f} s)")
      out["rungs"].append(row)
  return out


def _rung_row(rung: dict[str, Any], spec: dict[str, Any], result: RunResult, dataset: str) -> dict[str, Any]:
  reps = result.replicas
  # Per-epoch curves, one list per seed: whether a rung was still improving when it stopped.
  curve = lambda key: [[float(h[key][k]) for h in result.history if key in h] for k in range(len(reps))]  # noqa: E731
  row = {"dataset": dataset, "rung": rung["name"], "adds": rung.get("adds", ""), "book": rung.get("book"),
         "spec": spec, "status": result.status, "n_train": len(result.data.y_train),
         "diverged": [r["diverged_step"] for r in reps if r["status"] == "diverged"],
         "val_acc_curves": curve("val_acc"), "test_acc_curves": curve("test_acc")}
  if spec.get("vote"):
    members = [k for k, r in enumerate(reps) if r["status"] != "diverged"][:int(spec["vote"])]
    logits = replica_logits(result, result.data.x_test, members)
    row["accs"] = [vote_accuracy(logits, result.data.y_test)]
    row["member_final_test_accs"] = [reps[k]["test_acc"] for k in members]
  else:
    row["accs"] = [r["test_acc_at_best_val"] for r in reps]
  return row


def _fmt(accs: list[float]) -> str:
  return tables.format_mean_std(*tables.mean_std(accs), scale=100, digits=2)


def ladder_table(study: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
  """One row per rung: the book's number, then per dataset the measured number and the step from the rung before."""
  datasets = study["datasets"]
  header = ["rung", "adds", "book (MNIST)"]
  for d in datasets:
    header += [f"{d} (%)", f"{d} vs previous rung"]
    if d == "mnist":
      header.append("mnist vs book")
  names = list(dict.fromkeys(r["rung"] for r in study["rungs"]))
  body = []
  for i, name in enumerate(names):
    first = next(r for r in study["rungs"] if r["rung"] == name)
    cells = [name, first["adds"], "" if first["book"] is None else f"{first['book']:.2f}"]
    for d in datasets:
      row = _row(study, d, name)
      mean = tables.mean_std(row["accs"])[0]
      prev = tables.mean_std(_row(study, d, names[i - 1])["accs"])[0] if i else math.nan
      note = f" (members {_fmt(row['member_final_test_accs'])})" if "member_final_test_accs" in row else ""
      cells += [_fmt(row["accs"]) + note, f"{100 * (mean - prev):+.2f}" if i else ""]
      if d == "mnist":
        cells.append(f"{100 * mean - first['book']:+.2f}" if first["book"] is not None and math.isfinite(mean) else "")
    body.append(cells)
  return header, body


def _row(study, dataset, name):
  return next(r for r in study["rungs"] if r["dataset"] == dataset and r["rung"] == name)


def ladder_claims(study: dict[str, Any]) -> list[Claim]:
  claims = []
  if "mnist" in study["datasets"]:
    rows = [r for r in study["rungs"] if r["dataset"] == "mnist" and r["book"] is not None]
    for r in rows:
      mean = 100 * tables.mean_std(r["accs"])[0]
      claims.append(Claim(f"Nielsen ch. 6, rung '{r['rung']}'", f"test accuracy {r['book']:.2f}% (within {TOLERANCE})",
                          bool(abs(mean - r["book"]) <= TOLERANCE),
                          f"{_fmt(r['accs'])}% ({mean - r['book']:+.2f}), trained on {r['n_train']} examples"))
    means = [tables.mean_std(r["accs"])[0] for r in rows]
    books = [r["book"] for r in rows]
    # strict: a tie is not an improvement; a NaN (every seed diverged) breaks the ordering
    kept = all((means[i + 1] > means[i]) == (books[i + 1] > books[i]) for i in range(len(rows) - 1))
    claims.append(Claim("Nielsen ch. 6", "each rung improves on the one before (the book's ordering)",
                        kept if len(rows) > 1 else None,
                        " -> ".join(f"{100 * m:.2f}" for m in means)))
  others = [d for d in study["datasets"] if d != "mnist"]
  for d in others:
    names = list(dict.fromkeys(r["rung"] for r in study["rungs"] if r["dataset"] == d))
    steps = [(n, tables.mean_std(_row(study, d, n)["accs"])[0] - tables.mean_std(_row(study, d, p)["accs"])[0])
             for p, n in zip(names, names[1:])]
    claims.append(Claim(f"this ladder on {d}", f"every rung still helps on {d}",
                        all(s > 0 for _, s in steps) if steps else None,
                        ", ".join(f"{n} {100 * s:+.2f}" for n, s in steps)))
  return claims


def write_report(study: dict[str, Any], workdir: str, echo=print) -> list[Claim]:
  """table.md/csv, results.json, claims.json and ladder.png."""
  os.makedirs(workdir, exist_ok=True)
  header, body = ladder_table(study)
  md = tables.markdown_table(header, body)
  echo(md)
  write_atomic(os.path.join(workdir, "table.md"), md)
  write_atomic(os.path.join(workdir, "table.csv"), tables.csv_table(header, body))
  write_json(os.path.join(workdir, "results.json"), study)
  claims = ladder_claims(study)
  report_claims(claims, os.path.join(workdir, "claims.json"), echo=echo)
  _plot(study, os.path.join(workdir, "ladder.png"))
  return claims


def _plot(study: dict[str, Any], path: str) -> None:
  names = list(dict.fromkeys(r["rung"] for r in study["rungs"]))
  fig, ax = plt.subplots(figsize=(1.1 * len(names) + 3, 3.8))
  for d in study["datasets"]:
    stats = [tables.mean_std(_row(study, d, n)["accs"]) for n in names]
    ax.errorbar(range(len(names)), [100 * m for m, _, _ in stats], yerr=[100 * s for _, s, _ in stats],
                marker="o", capsize=3, label=d)
  books = [_row(study, study["datasets"][0], n)["book"] for n in names]
  if "mnist" in study["datasets"] and all(b is not None for b in books):
    ax.plot(range(len(names)), books, "k--", marker="x", label="book (MNIST)")
  ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
  ax.set_ylabel("test acc at best val (%)")
  ax.set_title(study["ladder"])
  ax.legend(fontsize=8)
  plots.save(fig, path)


def main(argv: list[str]) -> None:
  del argv

  def run() -> int:
    preset = PRESETS[FLAGS.preset]
    ladder = load_ladder(FLAGS.ladder or preset["ladder"])
    datasets = FLAGS.datasets or preset["datasets"] or [FLAGS.dataset]
    study = run_ladder(ladder, datasets, FLAGS.data_dir, FLAGS.seeds)
    write_report(study, FLAGS.workdir)
    print(f"trained in {study['wall_s']:.0f} s; wrote {FLAGS.workdir}")
    return 0

  sys.exit(run_cleanly(run))


if __name__ == "__main__":
  define_study_flags("ablation_ladder")
  flags.DEFINE_string("ladder", None, "Ladder file (JSON; a name in experiments/ladders/ or a path). "
                      "Default: the preset's (quick: nielsen_ch6_quick.json, full: nielsen_ch6.json).")
  flags.DEFINE_list("datasets", None, "Datasets, one column each (default: --dataset; full: mnist,fashion_mnist).")
  app.run(main)
