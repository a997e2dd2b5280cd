"""The report: tables (1)-(4), the eps-sweep and "panda" figures, and the claims, from the cell records."""
from __future__ import annotations

import functools
from typing import Any, Mapping

import numpy as np
from ml_collections import ConfigDict

from experiments.fgsm_adversarial.cells import ARMS
from experiments.fgsm_adversarial.claims import PAPER, claims_of
from jaxdl.report import plots
from jaxdl.report.tables import mean_std, mean_std_text
from jaxdl.study import CellRecord, Report
from jaxdl.train import RunStatus


def gather(records: Mapping[str, CellRecord]) -> dict[str, Any]:
  """Per net: clean / FGSM / sweep / PGD statistics and its diverged replicas; transfer; the
  panda examples; the settings the measurements ran with (from their specs)."""
  sweep, pgd = records["fgsm_sweep"], records["pgd"]
  spec, pgd_spec = sweep.config["measurement"], pgd.config["measurement"]
  # In the cells' order (results.json files are written with sorted keys).
  families = {name: {**sweep.results["families"][name], "pgd": pgd.results["families"][name],
                     "diverged": [r["status"] == RunStatus.DIVERGED for r in records[name].replicas]}
              for name in spec["of"]}
  trained = [records[name] for name in spec["of"]]
  alphas = [rec.config["program"]["alpha"] for rec in trained if "program" in rec.config]
  settings = {"eps": spec["eps"], "eps_grid": spec["eps_grid"], "clip": spec["clip"],
              "seeds": [r["seed"] for r in trained[0].replicas], "alpha": alphas[0] if alphas else None,
              "pgd_steps": pgd_spec["steps"], "pgd_restarts": pgd_spec["restarts"],
              "dataset": trained[0].config["dataset"]}
  settings["masking_eps"] = min((e for e in spec["eps_grid"] if 0 < e < spec["eps"]), default=None)
  arms = {name: arm for name in records for arm in ARMS if name.endswith("_" + arm)}
  robustness = {name: _robustness(rec) for name, rec in records.items()
                if rec.history and "probe_pgd_acc" in rec.history[0]}
  return {"data": sweep.results["data"], "settings": settings, "families": families,
          "transfer": records["transfer"].results["transfer"], "panda": records["panda"].results["examples"],
          "robustness": robustness, "arms": arms}


def _robustness(record: CellRecord) -> dict[str, Any]:
  """The robustness hook's curves of an adversarially trained cell: per epoch (0 = at init),
  per replica, the probe's clean / FGSM / PGD accuracy; and the eps it was attacked at."""
  out = {"epochs": [h["epoch"] for h in record.history], "eps": record.config["program"]["eps"]}
  for attack in ("clean", "fgsm", "pgd"):
    out[attack] = [[float(v) for v in np.atleast_1d(h[f"probe_{attack}_acc"])] for h in record.history]
  return out


def report(config: ConfigDict, records: Mapping[str, CellRecord], out: Report) -> None:
  del config  # everything shown comes from the records
  r = gather(records)
  tables(r, out)
  out.figure("eps_sweep.png", plot_sweep, r)
  out.figure("adversarial_panda.png", plot_panda, r)
  if r["robustness"]:
    out.figure("robustness_over_training.png", plot_robustness, r)
  out.claims(claims_of(r))


def tables(r: dict[str, Any], out: Report) -> None:
  """(2)+(4) errors at eps beside the paper's, (1) the eps sweep, (2) adversarial training, (3) transfer."""
  fams, s = r["families"], r["settings"]
  eps = f"{s['eps']:g}"
  pct = functools.partial(mean_std_text, scale=100, digits=1)
  paper = lambda f, m: f"{PAPER[f][m]:g}" if m in PAPER.get(f, {}) else "-"  # noqa: E731
  out.table("Setting", ["setting", "value"], [
      ["data", r["data"]],
      ["eps", f"a fraction of the pixel range; attacks {'' if s['clip'] else 'not '}clipped to [0, 1]"],
      ["cells", f"mean ± std over seeds {tuple(s['seeds'])}"]])
  out.table(f"(2)+(4) Errors at eps={eps}, paper (Goodfellow et al. 2015, MNIST) beside",
            ["model", "clean error (%)", f"FGSM error, eps={eps} (%)", "paper", "confidence on errors (%)",
             "paper", "FGSM error, clipped to [0, 1] (%)", f"PGD-{s['pgd_steps']}x{s['pgd_restarts']} error (%)",
             "diverged"],
            [[f, pct(v["clean"]["error"]), pct(v["fgsm"]["error"]), paper(f, "fgsm_error"),
              pct(v["fgsm"]["confidence_on_errors"]), paper(f, "confidence"), pct(v["fgsm_clipped"]["error"]),
              pct(v["pgd"]["error"]), f"{sum(v['diverged'])}/{len(v['diverged'])}"] for f, v in fams.items()])
  out.table("(1) FGSM eps sweep: error % (mean confidence on errors %)",
            ["model", *[f"eps={e:g}" for e in s["eps_grid"]]],
            [[f, *[f"{pct(at['error'])} ({pct(at['confidence_on_errors'])})"
                   for at in (v["sweep"][f"{e:g}"] for e in s["eps_grid"])]] for f, v in fams.items()])
  pairs = [(f[:-4], f) for f in fams if f.endswith("_adv") and f[:-4] in fams]
  if pairs:
    out.table(f"(2) Adversarial training, alpha={s['alpha']:g}, eps={eps}",
              ["model", "clean error: standard -> adv. trained (%)", "paper", "own-FGSM error (%)", "paper",
               "PGD error (%)"],
              [[base, " -> ".join(pct(fams[f]["clean"]["error"], digits=2) for f in (base, a)),
                "0.94 -> 0.84" if base == "maxout" else "-",
                f"{pct(fams[base]['fgsm']['error'])} -> {pct(fams[a]['fgsm']['error'])}",
                "89.4 -> 17.9" if base == "maxout" else "-",
                f"{pct(fams[base]['pgd']['error'])} -> {pct(fams[a]['pgd']['error'])}"] for base, a in pairs])
  out.table("(3) Transfer: FGSM error (%) of column models on examples crafted on the row model "
            "(same architecture, e.g. maxout -> maxout_adv: another seed)",
            ["crafted on \\ evaluated on", *fams],
            [[src, *[pct(r["transfer"][src][tgt]) for tgt in fams]] for src in fams])
  rob = r["robustness"]
  if rob:
    epochs = max(len(c["epochs"]) for c in rob.values())
    cell = lambda c, e: (f"{pct(c['pgd'][e])} ({pct(c['fgsm'][e])})"  # noqa: E731
                         if e < len(c["epochs"]) else "-")
    out.table("(5) Robustness over training on the probe: PGD accuracy % (FGSM accuracy %) after each "
              "epoch (0: at init), at the eps each cell trains at",
              ["cell", "eps", *[f"epoch {e}" for e in range(epochs)]],
              [[name, f"{c['eps']:g}", *[cell(c, e) for e in range(epochs)]] for name, c in rob.items()])


def plot_sweep(path: str, r: dict[str, Any]) -> None:
  """FGSM error and mean confidence on errors against eps, one line per net (mean ± std band)."""
  plt = plots.plt
  grid = r["settings"]["eps_grid"]
  fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
  for name, v in r["families"].items():
    for ax, metric in zip(axes, ("error", "confidence_on_errors")):
      ms = np.array([mean_std(v["sweep"][f"{e:g}"][metric])[:2] for e in grid])
      ax.plot(grid, 100 * ms[:, 0], marker="o", label=plots.words(name))
      ax.fill_between(grid, 100 * (ms[:, 0] - ms[:, 1]), 100 * (ms[:, 0] + ms[:, 1]), alpha=0.2)
  for ax, label in zip(axes, ("FGSM error (%)", "mean confidence on errors (%)")):
    ax.set_xlabel("eps (fraction of the pixel range)")
    ax.set_ylabel(label)
    ax.set_ylim(0, 100)
  plots.outside_legend(axes[-1], fontsize=8)
  fig.suptitle(f"FGSM on {plots.words(r['settings']['dataset'])}")
  plots.save(fig, path, outside_legends=True)


def plot_robustness(path: str, r: dict[str, Any]) -> None:
  """PGD (solid) and FGSM (dashed) accuracy on the probe over training, one colour per
  adversarially trained cell, mean ± std band over seeds: catastrophic overfitting is a PGD
  curve that falls while its FGSM curve stays high."""
  plt = plots.plt
  fig, ax = plt.subplots(figsize=(7.5, 4.2))
  for i, (name, c) in enumerate(r["robustness"].items()):
    color = f"C{i}"
    for attack, style in (("pgd", "-"), ("fgsm", "--")):
      values = np.asarray(c[attack], float)
      mean, std = 100 * np.nanmean(values, 1), 100 * np.nanstd(values, 1)
      ax.plot(c["epochs"], mean, style, color=color, marker="o", ms=3,
              label=f"{name} ({attack.upper()}, eps={c['eps']:g})")
      ax.fill_between(c["epochs"], mean - std, mean + std, color=color, alpha=0.12)
  ax.set_xlabel("epoch (0: at init)")
  ax.set_ylabel("accuracy on the probe (%)")
  ax.set_ylim(0, 100)
  plots.integer_epochs(ax)
  plots.outside_legend(ax, fontsize=7)
  ax.set_title("Robustness over adversarial training: PGD (solid) and FGSM (dashed)")
  plots.save(fig, path, outside_legends=True)


def plot_panda(path: str, r: dict[str, Any]) -> None:
  """Clean image, perturbation, adversarial image (one row per net), predicted classes and confidences."""
  plt = plots.plt
  rows, eps = r["panda"], r["settings"]["eps"]
  label = functools.partial(plots.class_name, r["settings"]["dataset"])
  fig, axes = plt.subplots(len(rows), 3, figsize=(7.5, 2.6 * len(rows)), squeeze=False)
  for ax_row, p in zip(axes, rows):
    clean, adv = np.asarray(p["clean"])[..., 0], np.asarray(p["adversarial"])[..., 0]
    panels = [(clean, f"{plots.words(p['family'])}: \"{label(p['clean_pred'])}\"\n{p['clean_conf']:.1%} confidence",
               "gray"),
              (adv - clean, f"+ eps * sign(grad)\n(eps={eps:g} of the pixel range)", "coolwarm"),
              (adv, f"= \"{label(p['adv_pred'])}\"\n{p['adv_conf']:.1%} confidence", "gray")]
    for ax, (img, title, cmap) in zip(ax_row, panels):
      ax.imshow(img, cmap=cmap)
      ax.set_title(title, fontsize=9)
      ax.axis("off")
  plots.save(fig, path)
