"""Adversarial examples (Goodfellow, Shlens & Szegedy 2015): FGSM, adversarial training, transfer, PGD.

  python -m experiments.fgsm_adversarial --preset=quick
  python -m experiments.fgsm_adversarial --preset=quick --dataset=fashion_mnist
  python -m experiments.fgsm_adversarial --preset=full      # paper scale: NOT run here

Hardware: 2-core x86 CPU, no GPU, shared with other jobs while measured
(load average ~14, so times are inflated several-fold). Quick preset on MNIST:
1102 s wall (18.6 min; 5.2 min of user CPU time), most of it compiling and the
CNNs' input gradients. Result (quick, 2 seeds, 2000 test images, eps = 0.25):
FGSM error 100% for softmax regression (90.8% mean confidence on errors;
paper 99.9% / 79.3%) and for the maxout MLP (90.0%; paper 89.4% / 97.6%);
adversarial training cut the maxout MLP's own-FGSM error 100% -> 22.0 ± 4.2%
(paper 17.9%) but raised its clean error 7.1% -> 10.4% (paper 0.94 -> 0.84%),
and 10-step PGD still fools it on 100% of the images: the FGSM robustness
does not survive PGD. The full preset was NOT run (no GPU in this session).

Setting: pixels in [0, 1], eps = 0.25 of that range, attacks NOT clipped to
[0, 1] (as in the paper; `--clip` clips every attack and the adversarial
training). Models: softmax regression (`mlp`, widths=()), a maxout MLP
(2 x 240 units x 5 pieces in full), a ReLU MLP of the same widths, the CNN
(conv 20/40 5x5 + pool, FC100 in full), and the maxout MLP and CNN trained
with Goodfellow et al.'s alpha = 0.5 objective at eps = 0.25 (adversarial
examples regenerated from the current parameters at every step). Every cell
is mean ± std over seeds.
Quick: 10k training examples, 3 epochs, no dropout, narrower nets (maxout
2 x 100 x 5 pieces, ReLU 2 x 100, CNN conv 8/16 + FC64), 2 seeds, 2000 test
examples, PGD 10 steps of 0.0625 x 1 random restart.
Full: 60k, maxout with dropout and max-norm as in pylearn2's mnist_pi.yaml
(momentum fixed at 0.5), 50 epochs (no early stopping), 3 seeds, the 10k
test set, PGD 40 steps of 0.01 x 5 random restarts.

Writes table.md/csv, results.json, claims.json, eps_sweep.png and
adversarial_panda.png into --workdir and prints one verdict per claim.
"""
from __future__ import annotations

import dataclasses
import functools
import os
import sys
import time
from typing import Any, Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from absl import app, flags

from experiments.common import define_study_flags, run_cleanly
from jaxdl import attacks
from jaxdl.data import Dataset, load_dataset
from jaxdl.models import build_model
from jaxdl.optim import OptimConfig
from jaxdl.report import plots, tables
from jaxdl.report.claims import Claim, report_claims
from jaxdl.report.rundir import write_atomic, write_json
from jaxdl.train import TrainConfig, train_and_evaluate
from jaxdl.train.steps import ReplicaProgram

FLAGS = flags.FLAGS

EPS_GRID = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
# The paper's MNIST numbers at eps = 0.25 (PAPERS.md 5a), in %.
PAPER = {"softmax": {"fgsm_error": 99.9, "confidence": 79.3},
         "maxout": {"fgsm_error": 89.4, "confidence": 97.6, "clean_error": 0.94},
         "maxout_adv": {"fgsm_error": 17.9, "confidence": 81.4, "clean_error": 0.84}}


@dataclasses.dataclass(frozen=True)
class Family:
  """One kind of trained model: architecture, optimizer, and whether adversarially trained."""
  name: str
  model: str
  options: dict[str, Any]
  optim: OptimConfig
  adversarial: bool = False


@dataclasses.dataclass(frozen=True)
class StudySettings:
  dataset: str = "mnist"
  data_dir: str | None = None
  train_size: int = 10000         # first N training examples (0 = all)
  eval_size: int = 2000           # first N test examples attacked (0 = all)
  epochs: int = 3
  batch_size: int = 128
  seeds: tuple[int, ...] = (0, 1)
  families: tuple[Family, ...] = ()
  eps: float = 0.25               # fraction of the pixel range
  eps_grid: tuple[float, ...] = EPS_GRID
  alpha: float = 0.5
  clip: bool = False
  pgd_steps: int = 10
  pgd_step_size: float = 0.0625   # fraction of the pixel range (2.5 eps / steps)
  pgd_restarts: int = 1
  eval_chunk: int = 1000


def families(preset: str) -> tuple[Family, ...]:
  """The models of the study; `full` gives the maxout net pylearn2's mnist_pi.yaml recipe."""
  fast = OptimConfig(name="momentum", lr=0.05, momentum=0.9)
  if preset == "full":
    cnn = {"conv_features": (20, 40), "dense_widths": (100,)}
    maxout = {"widths": (240, 240), "pieces": 5, "dropout_rate": 0.5, "input_dropout_rate": 0.2}
    maxout_optim = OptimConfig(name="momentum", lr=0.1, momentum=0.5, max_norm=1.9365)
  else:  # narrower nets: the full ones take ~10x longer on a 2-core CPU
    cnn = {"conv_features": (8, 16), "dense_widths": (64,)}
    maxout = {"widths": (100, 100), "pieces": 5}
    maxout_optim = fast
  relu = {"widths": maxout["widths"], "activation": "relu"}
  return (Family("softmax", "mlp", {"widths": ()}, fast),
          Family("maxout", "maxout", maxout, maxout_optim),
          Family("relu_mlp", "mlp", relu, fast),
          Family("cnn", "cnn", cnn, fast),
          Family("maxout_adv", "maxout", maxout, maxout_optim, adversarial=True),
          Family("cnn_adv", "cnn", cnn, fast, adversarial=True))


PRESETS = {
    "quick": dict(train_size=10000, eval_size=2000, epochs=3, seeds=(0, 1), pgd_steps=10,
                  pgd_step_size=0.0625, pgd_restarts=1),
    "full": dict(train_size=0, eval_size=0, epochs=50, batch_size=100, seeds=(0, 1, 2), pgd_steps=40,
                 pgd_step_size=0.01, pgd_restarts=5),
}


def settings_for(preset: str, **overrides: Any) -> StudySettings:
  return StudySettings(**{**PRESETS[preset], "families": families(preset), **overrides})


@dataclasses.dataclass
class Trained:
  """A family's K trained replicas: variables with leaves [K, ...]."""
  family: Family
  model: nn.Module
  variables: Any
  diverged: np.ndarray
  wall_s: float


def prepare_data(s: StudySettings, data: Dataset | None = None) -> Dataset:
  if data is None:
    data = load_dataset(s.dataset, data_dir=s.data_dir)
  n_train = s.train_size or len(data.y_train)
  n_eval = s.eval_size or len(data.y_test)
  return dataclasses.replace(data, x_train=data.x_train[:n_train], y_train=data.y_train[:n_train],
                             x_test=data.x_test[:n_eval], y_test=data.y_test[:n_eval])


def train_family(s: StudySettings, fam: Family, data: Dataset, units: attacks.InputUnits,
                 echo: Callable[[str], None]) -> Trained:
  """Trains the family's seeds as replicas of one program (the engine, or the adversarial program)."""
  start = time.time()
  cfg = TrainConfig(dataset=data.name, model=fam.model, model_options=fam.options, optim=fam.optim,
                    batch_size=s.batch_size, epochs=s.epochs, seeds=tuple(s.seeds))
  echo(f"training {fam.name} ({len(s.seeds)} seeds, {s.epochs} epochs"
       f"{', adversarial alpha=%g eps=%g' % (s.alpha, s.eps) if fam.adversarial else ''})")
  factory = (functools.partial(attacks.AdversarialProgram, eps=units.eps(s.eps), alpha=s.alpha,
                               bounds=units.bounds if s.clip else None)
             if fam.adversarial else ReplicaProgram)
  result = train_and_evaluate(cfg, None, data=data, echo=lambda line: echo("  " + line),
                              program_factory=factory)
  program, state = result.program, result.state
  model = build_model(fam.model, data.num_classes, fam.options)
  return Trained(fam, model, program.variables(state), np.asarray(state.diverged), time.time() - start)


@functools.partial(jax.jit, static_argnames=("model",))
def _logits(model: nn.Module, variables: Any, x: jax.Array) -> jax.Array:
  """Replica k's logits on its own inputs x[k]: variables [K, ...], x [K, B, ...] -> [K, B, C]."""
  return jax.vmap(lambda v, xk: model.apply(v, xk, train=False))(variables, x)


@functools.partial(jax.jit, static_argnames=("model", "bounds", "steps", "restarts"))
def _attack(model: nn.Module, variables: Any, x: jax.Array, y: jax.Array, key: jax.Array | None,
            eps: float, step_size: float, steps: int, restarts: int,
            bounds: attacks.Bounds) -> tuple[jax.Array, jax.Array]:
  """Each replica attacks itself: FGSM when key is None, else PGD.

  x [B, ...] -> (adversarial inputs [K, B, ...], the attacked replica's logits on them [K, B, C]).
  """
  def one(v):
    logits_fn = lambda z: model.apply(v, z, train=False)  # noqa: E731
    if key is None:
      x_adv = attacks.fgsm(logits_fn, x, y, eps, bounds=bounds)
    else:
      x_adv = attacks.pgd(logits_fn, x, y, eps, steps=steps, step_size=step_size, key=key,
                          restarts=restarts, bounds=bounds)
    return x_adv, logits_fn(x_adv)
  return jax.vmap(one)(variables)


def _chunks(n: int, size: int) -> list[slice]:
  return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def _stats(logits: np.ndarray, y: np.ndarray, diverged: np.ndarray) -> dict[str, list[float]]:
  """Per replica: error and mean confidence on errors; NaN for a diverged replica
  (reported apart, never averaged in)."""
  out = jax.vmap(attacks.misclassification_stats, in_axes=(0, None))(jnp.asarray(logits), jnp.asarray(y))
  return {k: [float("nan") if d else float(v) for v, d in zip(np.asarray(vals), diverged)]
          for k, vals in out.items()}


def self_attack(s: StudySettings, t: Trained, x: np.ndarray, y: np.ndarray, eps: float,
                bounds: attacks.Bounds, key: jax.Array | None = None,
                step: float = 0.0) -> tuple[np.ndarray, dict[str, list[float]]]:
  """Each replica attacked by itself (FGSM, or PGD of step size `step` with `key`),
  in chunks of the eval set. eps, step: model-input units."""
  advs, logits = [], []
  for sl in _chunks(len(y), s.eval_chunk):
    xa, lg = _attack(t.model, t.variables, jnp.asarray(x[sl]), jnp.asarray(y[sl]), key, eps, step,
                     s.pgd_steps, s.pgd_restarts, bounds)
    advs.append(np.asarray(xa))
    logits.append(np.asarray(lg))
  return np.concatenate(advs, 1), _stats(np.concatenate(logits, 1), y, t.diverged)


def transfer_error(s: StudySettings, source_adv: np.ndarray, source: Trained, target: Trained,
                   y: np.ndarray) -> list[float]:
  """Error of target replicas on source replicas' FGSM examples, per source replica k.

  The target is replica k of another architecture, or replica k+1 (another
  seed) of the same architecture; NaN where that does not exist (one seed)
  or a replica diverged.
  """
  k_count = len(source.diverged)
  # Same architecture (e.g. maxout and maxout_adv share init and data order per
  # seed): use another seed, so every cell is between independently trained nets.
  same = source.family.model == target.family.model
  if same and k_count < 2:
    return [float("nan")] * k_count
  order = np.roll(np.arange(k_count), -1) if same else np.arange(k_count)
  variables = jax.tree_util.tree_map(lambda leaf: leaf[order], target.variables)
  logits = np.concatenate([np.asarray(_logits(target.model, variables, jnp.asarray(source_adv[:, sl])))
                           for sl in _chunks(len(y), s.eval_chunk)], 1)
  dead = source.diverged | target.diverged[order]
  return _stats(logits, y, dead)["error"]


def run_study(s: StudySettings, data: Dataset | None = None,
              echo: Callable[[str], None] = print) -> dict[str, Any]:
  """Trains every family and measures (1) the eps sweep, (2) clean and own-FGSM error,
  (3) transfer between families, (4) PGD error. Per-replica lists in the result."""
  start = time.time()
  log = lambda msg: echo(f"[{time.time() - start:6.1f} s] {msg}")  # noqa: E731
  data = prepare_data(s, data)
  units = attacks.InputUnits.of(data)
  bounds = units.bounds if s.clip else None
  x, y = data.x_test, data.y_test
  trained = [train_family(s, fam, data, units, log) for fam in s.families]
  out: dict[str, Any] = {"settings": dataclasses.asdict(s), "data": data.describe(),
                         "families": {}, "transfer": {}}
  adv_at_eps = {}
  for t in trained:
    log(f"attacking {t.family.name}: eps sweep, FGSM, PGD")
    rec: dict[str, Any] = {"diverged": t.diverged.tolist(), "train_wall_s": round(t.wall_s, 1)}
    rec["sweep"] = {f"{e:g}": self_attack(s, t, x, y, units.eps(e), bounds, None)[1] for e in s.eps_grid}
    adv_at_eps[t.family.name], rec["fgsm"] = self_attack(s, t, x, y, units.eps(s.eps), bounds, None)
    rec["clean"] = rec["sweep"]["0"]
    rec["pgd"] = self_attack(s, t, x, y, units.eps(s.eps), bounds, jax.random.PRNGKey(0),
                             units.eps(s.pgd_step_size))[1]
    out["families"][t.family.name] = rec
  log("transfer")
  for src in trained:
    out["transfer"][src.family.name] = {
        tgt.family.name: transfer_error(s, adv_at_eps[src.family.name], src, tgt, y) for tgt in trained}
  out["panda"] = panda_examples(trained, x, y, adv_at_eps)
  out["wall_time_s"] = round(time.time() - start, 1)
  return out


def panda_examples(trained: list[Trained], x: np.ndarray, y: np.ndarray,
                   adv_at_eps: dict[str, np.ndarray]) -> list[dict[str, Any]]:
  """For the maxout net and its adversarially trained twin (replica 0), the first test
  image both classify correctly: clean image, perturbation, adversarial image, with
  predicted labels and confidences."""
  chosen = [t for t in trained if t.family.model == "maxout"] or trained[:1]
  first = lambda tree: jax.tree_util.tree_map(lambda leaf: leaf[:1], tree)  # noqa: E731
  clean_pred = [np.asarray(_logits(t.model, first(t.variables), jnp.asarray(x[None]))[0]) for t in chosen]
  ok = np.all([np.argmax(p, -1) == y for p in clean_pred], axis=0)
  i = int(np.flatnonzero(ok)[0]) if ok.any() else 0
  rows = []
  for t, clean_logits in zip(chosen, clean_pred):
    x_adv = adv_at_eps[t.family.name][0, i]
    adv_logits = np.asarray(_logits(t.model, first(t.variables), jnp.asarray(x_adv[None, None]))[0, 0])
    p_clean, p_adv = jax.nn.softmax(clean_logits[i]), jax.nn.softmax(adv_logits)
    rows.append({"family": t.family.name, "index": i, "label": int(y[i]),
                 "clean": x[i].tolist(), "adversarial": x_adv.tolist(),
                 "clean_pred": int(np.argmax(p_clean)), "clean_conf": float(np.max(p_clean)),
                 "adv_pred": int(np.argmax(p_adv)), "adv_conf": float(np.max(p_adv))})
  return rows


def _cell(values: list[float], scale: float = 100.0, digits: int = 1) -> str:
  return tables.format_mean_std(*tables.mean_std(values), scale=scale, digits=digits)


def _mean(values: list[float]) -> float:
  return tables.mean_std(values)[0]


def report_tables(r: dict[str, Any]) -> tuple[str, list[list[Any]]]:
  """Markdown tables (1)-(4) and the long-format CSV rows (table, row, column, mean, std, n)."""
  fams, s = r["families"], r["settings"]
  eps = f"{s['eps']:g}"
  csv_rows: list[list[Any]] = []

  def add(table: str, row: str, col: str, values: list[float]) -> str:
    mean, std, n = tables.mean_std(values)
    csv_rows.append([table, row, col, mean, std, n])
    return tables.format_mean_std(mean, std, n, 100, 1)

  paper = lambda f, m: f"{PAPER[f][m]:g}" if m in PAPER.get(f, {}) else "-"  # noqa: E731
  main = tables.markdown_table(
      ["model", "clean error (%)", f"FGSM error, eps={eps} (%)", "paper", "confidence on errors (%)",
       "paper", f"PGD-{s['pgd_steps']}x{s['pgd_restarts']} error (%)", "diverged"],
      [[f, add("main", f, "clean_error", v["clean"]["error"]), add("main", f, "fgsm_error", v["fgsm"]["error"]),
        paper(f, "fgsm_error"), add("main", f, "confidence", v["fgsm"]["confidence_on_errors"]),
        paper(f, "confidence"), add("main", f, "pgd_error", v["pgd"]["error"]),
        f"{sum(v['diverged'])}/{len(v['diverged'])}"] for f, v in fams.items()])
  sweep = tables.markdown_table(
      ["model", *[f"eps={e:g}" for e in s["eps_grid"]]],
      [[f, *[f"{add('sweep_error', f, f'{e:g}', v['sweep'][f'{e:g}']['error'])} "
             f"({add('sweep_confidence', f, f'{e:g}', v['sweep'][f'{e:g}']['confidence_on_errors'])})"
             for e in s["eps_grid"]]] for f, v in fams.items()])
  pairs = [(f[:-4], f) for f in fams if f.endswith("_adv") and f[:-4] in fams]
  adv = tables.markdown_table(
      ["model", "clean error: standard -> adv. trained (%)", "paper", "own-FGSM error (%)", "paper",
       "PGD error (%)"],
      [[base, f"{_cell(fams[base]['clean']['error'], digits=2)} -> {_cell(fams[a]['clean']['error'], digits=2)}",
        "0.94 -> 0.84" if base == "maxout" else "-",
        f"{_cell(fams[base]['fgsm']['error'])} -> {_cell(fams[a]['fgsm']['error'])}",
        "89.4 -> 17.9" if base == "maxout" else "-",
        f"{_cell(fams[base]['pgd']['error'])} -> {_cell(fams[a]['pgd']['error'])}"] for base, a in pairs])
  transfer = tables.markdown_table(
      ["crafted on \\ evaluated on", *fams],
      [[src, *[add("transfer", src, tgt, r["transfer"][src][tgt]) for tgt in fams]] for src in fams])
  text = (f"Data: {r['data']}; eps in pixel units, attacks {'clipped to' if s['clip'] else 'not clipped to'} "
          f"[0, 1]; mean ± std over seeds {tuple(s['seeds'])}.\n\n"
          f"### (2)+(4) Errors at eps={eps}, paper (Goodfellow et al. 2015, MNIST) beside\n\n{main}\n"
          f"### (1) FGSM eps sweep: error % (mean confidence on errors %)\n\n{sweep}\n"
          f"### (2) Adversarial training, alpha={s['alpha']:g}, eps={eps}\n\n{adv}\n"
          f"### (3) Transfer: FGSM error (%) of column models on examples crafted on the row model "
          f"(same architecture, e.g. maxout -> maxout_adv: another seed)\n\n{transfer}")
  return text, csv_rows


def claims_of(r: dict[str, Any]) -> list[Claim]:
  """The paper's claims, each with a criterion fixed before looking at the numbers."""
  fams, src = r["families"], "Goodfellow et al. 2015"
  out = []

  def fgsm_claim(fam: str, min_error: float, min_conf: float) -> None:
    if fam not in fams:
      return
    err, conf = _mean(fams[fam]["fgsm"]["error"]), _mean(fams[fam]["fgsm"]["confidence_on_errors"])
    out.append(Claim(src, f"{fam}: FGSM at eps=0.25 fools it {PAPER[fam]['fgsm_error']}% of the time with "
                     f"{PAPER[fam]['confidence']}% mean confidence (criterion: error >= {min_error:.0%}, "
                     f"confidence >= {min_conf:.0%})",
                     bool(err >= min_error and conf >= min_conf),
                     f"error {err:.1%}, confidence on errors {conf:.1%}"))

  fgsm_claim("softmax", 0.90, 0.70)
  fgsm_claim("maxout", 0.80, 0.90)
  for base in ("maxout", "cnn"):
    a = base + "_adv"
    if base in fams and a in fams:
      before, after = _mean(fams[base]["fgsm"]["error"]), _mean(fams[a]["fgsm"]["error"])
      c_before, c_after = _mean(fams[base]["clean"]["error"]), _mean(fams[a]["clean"]["error"])
      out.append(Claim(src, f"{base}: adversarial training (alpha=0.5) cuts the error on its own FGSM "
                       "examples (89.4% -> 17.9%) (criterion: at least halved)", bool(after <= before / 2),
                       f"{before:.1%} -> {after:.1%}"))
      out.append(Claim(src, f"{base}: adversarial training does not hurt clean error (0.94% -> 0.84%) "
                       "(criterion: mean clean error not higher)", bool(c_after <= c_before),
                       f"{c_before:.2%} -> {c_after:.2%}"))
      p_before, p_after = _mean(fams[base]["pgd"]["error"]), _mean(fams[a]["pgd"]["error"])
      out.append(Claim("issue 5 (cf. Madry et al. 2018)", f"{base}: FGSM-training robustness survives PGD "
                       "(criterion: PGD error of the adv. trained net at most half the standard net's)",
                       bool(p_after <= p_before / 2),
                       f"PGD error {p_before:.1%} -> {p_after:.1%}; FGSM {before:.1%} -> {after:.1%}"))
  if "maxout" in fams and len(r["settings"]["seeds"]) > 1:
    t = {tgt: _mean(r["transfer"]["maxout"][tgt]) for tgt in ("maxout", "relu_mlp", "cnn") if tgt in fams}
    out.append(Claim(src, "FGSM examples transfer: most examples crafted on a maxout net fool another "
                     "seed of it (criterion: error > 50%)", bool(t["maxout"] > 0.5),
                     ", ".join(f"on {k}: {v:.1%}" for k, v in t.items())))
  return out


def plot_sweep(path: str, r: dict[str, Any]) -> None:
  """Error and mean confidence on errors against eps, one line per model (mean ± std band)."""
  plt = plots.plt
  grid = r["settings"]["eps_grid"]
  fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
  for name, v in r["families"].items():
    for ax, metric in zip(axes, ("error", "confidence_on_errors")):
      ms = np.array([tables.mean_std(v["sweep"][f"{e:g}"][metric])[:2] for e in grid])
      ax.plot(grid, 100 * ms[:, 0], marker="o", label=name)
      ax.fill_between(grid, 100 * (ms[:, 0] - ms[:, 1]), 100 * (ms[:, 0] + ms[:, 1]), alpha=0.2)
  for ax, title in zip(axes, ("FGSM error (%)", "mean confidence on errors (%)")):
    ax.set_xlabel("eps (fraction of the pixel range)")
    ax.set_title(title)
  axes[0].legend(fontsize=8)
  fig.suptitle(f"FGSM on {r['data'].split(':')[0]}")
  plots.save(fig, path)


def plot_panda(path: str, r: dict[str, Any]) -> None:
  """Clean image, perturbation, adversarial image (per model row), labels and confidences."""
  plt = plots.plt
  rows = r["panda"]
  fig, axes = plt.subplots(len(rows), 3, figsize=(7.5, 2.6 * len(rows)), squeeze=False)
  for ax_row, p in zip(axes, rows):
    clean, adv = np.asarray(p["clean"])[..., 0], np.asarray(p["adversarial"])[..., 0]
    panels = [(clean, f"{p['family']}: \"{p['clean_pred']}\"\n{p['clean_conf']:.1%} confidence", "gray"),
              (adv - clean, f"+ eps * sign(grad)\n(eps={r['settings']['eps']:g})", "coolwarm"),
              (adv, f"= \"{p['adv_pred']}\"\n{p['adv_conf']:.1%} confidence", "gray")]
    for ax, (img, title, cmap) in zip(ax_row, panels):
      ax.imshow(img, cmap=cmap)
      ax.set_title(title, fontsize=9)
      ax.axis("off")
  plots.save(fig, path)


def write_report(r: dict[str, Any], workdir: str, echo: Callable[[str], None] = print) -> list[Claim]:
  """Writes table.md/csv, results.json, claims.json and the figures; prints tables and verdicts."""
  os.makedirs(workdir, exist_ok=True)
  text, csv_rows = report_tables(r)
  write_atomic(os.path.join(workdir, "table.md"), text)
  write_atomic(os.path.join(workdir, "table.csv"),
               tables.csv_table(["table", "row", "column", "mean", "std", "n"], csv_rows))
  write_json(os.path.join(workdir, "results.json"), r)
  plot_sweep(os.path.join(workdir, "eps_sweep.png"), r)
  plot_panda(os.path.join(workdir, "adversarial_panda.png"), r)
  echo(text)
  claims = claims_of(r)
  report_claims(claims, os.path.join(workdir, "claims.json"), echo)
  return claims


def main(argv: list[str]) -> None:
  del argv

  def run() -> int:
    overrides: dict[str, Any] = {"dataset": FLAGS.dataset, "data_dir": FLAGS.data_dir, "clip": FLAGS.clip}
    if FLAGS.seeds:
      overrides["seeds"] = tuple(range(FLAGS.seeds))
    result = run_study(settings_for(FLAGS.preset, **overrides))
    write_report(result, FLAGS.workdir)
    print(f"wall time {result['wall_time_s']:.0f} s; outputs in {FLAGS.workdir}")
    return 0

  sys.exit(run_cleanly(run))


if __name__ == "__main__":
  define_study_flags("fgsm_adversarial")
  flags.DEFINE_bool("clip", False, "Clip adversarial inputs to the pixel range (the paper does not).")
  app.run(main)
