"""The study's report, from the cell records alone: tables, verdicts, trajectory and MNIST figures."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from ml_collections import ConfigDict

from experiments.optimizers import claims, figures
from experiments.optimizers.cells import mnist_cell_name
from experiments.optimizers.trajectories import SurfaceRuns, cell_name
from jaxdl.report import tables
from jaxdl.report.tables import Table
from jaxdl.study import CellRecord, Report
from jaxdl.surfaces import get_surface
from jaxdl.train import RunStatus


def surface_runs(config: ConfigDict, records: Mapping[str, CellRecord]) -> dict[str, SurfaceRuns]:
  return {name: SurfaceRuns(get_surface(name), records[cell_name(name)].config["measurement"],
                            records[cell_name(name)].results) for name in config.surfaces.names}


def mnist_rows(config: ConfigDict, records: Mapping[str, CellRecord]) -> list[dict[str, Any]]:
  """One row per MNIST replica: optimizer, lr, seed, status, test_acc, the per-epoch training cost
  (`curve`, the epoch's mean minibatch loss with dropout on) and its last value (`final_cost`)."""
  rows = []
  for name in config.mnist.optimizers:
    record = records[mnist_cell_name(name)]
    costs = record.curve("train_loss")  # [epochs, K]
    for k, rep in enumerate(record.replicas):
      curve = costs[:, k]
      final = curve[-1] if rep["status"] != RunStatus.DIVERGED else float("nan")
      rows.append({"optimizer": name, "lr": rep["lr"], "seed": rep["seed"], "status": rep["status"],
                   "test_acc": rep.get("test_acc", float("nan")), "curve": curve.tolist(), "final_cost": float(final)})
  return rows


def report(config: ConfigDict, records: Mapping[str, CellRecord], out: Report) -> None:
  surfaces = surface_runs(config, records)
  rows = mnist_rows(config, records)
  s = config.surfaces
  for name, runs in surfaces.items():
    what = "steps to leave the saddle" if runs.surface.saddle else "steps to converge"
    out.table(f"{runs.surface.title}: {what} per optimizer and lr (mean over {len(runs.results['starts'])} "
              f"starts, of {runs.spec['steps']}; claim lr {s.claim_lr[name]:g})", *surface_table(runs))
  if surfaces and {"adam", "adam_no_bias_correction"} <= set(s.optimizers):
    out.table("Adam's first step, |p_1 - p_0| / lr per coordinate, at each surface's claim lr (mean ± std over "
              "starts and coordinates)", *first_step_table(surfaces, s.claim_lr, s.optim.b1, s.optim.b2))
  out.table(f"MNIST, {_net(config)}: final training cost per optimizer and lr (mean ± std over seeds; * the "
            "best lr)", *mnist_table(rows))
  out.claims(claims.check(surfaces, config, rows))
  for name, runs in surfaces.items():
    out.figure(f"surface_{name}.png", figures.plot_surface, runs, s.claim_lr[name], s.adadelta_lr,
               best_lrs(runs))
    if name in s.animate:
      out.figure(f"surface_{name}.gif", figures.animate_surface, runs, s.claim_lr[name], s.adadelta_lr)
  if surfaces and {"adam", "adam_no_bias_correction"} <= set(s.optimizers):
    out.figure("adam_bias_correction.png", figures.plot_bias_correction, surfaces, s.claim_lr, s.optim.b1,
               s.optim.b2)
  best = {name: claims.best_lr(rows, name) for name in config.mnist.optimizers}
  out.figure("mnist_training_cost.png", figures.plot_training_cost, rows, best, _net(config))
  out.figure("mnist_lr_sensitivity.png", figures.plot_lr_sensitivity, rows, _net(config))


def _net(config: ConfigDict) -> str:
  t = config.mnist.train
  widths = "x".join(map(str, t.model_options.widths))
  return (f"MLP {widths} ReLU, dropout {t.model_options.dropout_rate:g}, batch {t.batch_size}, {t.epochs} epochs"
          f"{f' on {config.data.train_size} examples' if config.data.train_size else ''}")


def _key(runs: SurfaceRuns) -> str:
  return "escape_steps" if runs.surface.saddle else "steps_to_converge"


def best_lrs(runs: SurfaceRuns) -> dict[str, float]:
  """Per optimizer, the grid lr with the fewest mean steps to converge (a start that never gets there counts
  the budget; on the saddle too, where leaving it is not enough: SGD at lr 1 leaves it and oscillates);
  ties, and lrs where none gets there, go to the lowest mean final f - f*."""
  out = {}
  for name, run in runs.results["runs"].items():
    def cost(i: int) -> tuple[float, float]:
      steps = claims.steps_or_budget(run["steps_to_converge"][i], runs.spec["steps"])
      gaps = np.asarray(run["final_gap"][i], float)
      diverged = any(run["diverged"][i])
      return (np.inf if diverged else float(np.mean(steps)),
              np.inf if diverged or not np.all(np.isfinite(gaps)) else float(np.mean(gaps)))
    out[name] = runs.spec["lrs"][min(range(len(runs.spec["lrs"])), key=cost)]
  return out


def steps_text(values: Sequence[int | None], diverged: Sequence[bool]) -> str:
  """Mean steps over the starts that got there, with counts when some did not; 'diverged' / 'never'."""
  n = len(values)
  if any(diverged):
    return f"diverged ({sum(diverged)}/{n})" if sum(diverged) < n else "diverged"
  reached = [v for v in values if v is not None]
  if not reached:
    return "never"
  text = f"{np.mean(reached):.0f}"
  return text if len(reached) == n else f"{text} ({len(reached)}/{n})"


def surface_table(runs: SurfaceRuns) -> Table:
  lrs = runs.spec["lrs"]
  best = best_lrs(runs)
  header = ["optimizer", *[f"lr {lr:g}" for lr in lrs], "best lr (fewest steps to converge)"]
  body = [[name, *[steps_text(run[_key(runs)][i], run["diverged"][i]) for i in range(len(lrs))], f"{best[name]:g}"]
          for name, run in runs.results["runs"].items()]
  return header, body


def first_step_table(surfaces: Mapping[str, SurfaceRuns], claim_lr: Mapping[str, float], b1: float,
                     b2: float) -> Table:
  header = ["surface", "lr", "with bias correction", "without", "ratio", "predicted ratio (1-b1)/sqrt(1-b2)"]
  body = []
  for name, runs in surfaces.items():
    lr = claim_lr[name]
    fixed = np.asarray(runs.per_start("adam", "first_step", lr), float) / lr
    raw = np.asarray(runs.per_start("adam_no_bias_correction", "first_step", lr), float) / lr
    body.append([name, f"{lr:g}", tables.mean_std_text(fixed.ravel(), digits=4),
                 tables.mean_std_text(raw.ravel(), digits=4), tables.mean_std_text((raw / fixed).ravel(), digits=4),
                 f"{(1 - b1) / np.sqrt(1 - b2):.4f}"])
  return header, body


def mnist_table(rows: Sequence[dict[str, Any]]) -> Table:
  header = ["optimizer", "lr", "final training cost", "log10 cost", "test acc (%)", "diverged"]
  body = []
  for name in dict.fromkeys(r["optimizer"] for r in rows):
    best = claims.best_lr(rows, name)
    for lr in sorted({r["lr"] for r in rows if r["optimizer"] == name}):
      members = [r for r in rows if r["optimizer"] == name and r["lr"] == lr]
      costs = [r["final_cost"] for r in members]
      body.append([name, f"{lr:g}{' *' if lr == best else ''}", tables.mean_std_text(costs, digits=4),
                   tables.mean_std_text(claims.log_costs(rows, name, lr), digits=3),
                   tables.mean_std_text((r["test_acc"] for r in members), scale=100, digits=2),
                   f"{sum(r['status'] == RunStatus.DIVERGED for r in members)}/{len(members)}"])
  return header, body
