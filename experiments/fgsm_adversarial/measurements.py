"""The measurement cells: attacks on the trained cells' replicas over their test set.

Each `run(ctx, spec)` restores the trained cells it needs (`ctx.trained`) and
returns per-replica lists (NaN for a diverged replica). eps and step sizes in
`spec` are fractions of the pixel range, converted to each dataset's input units.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl import attacks
from jaxdl.study import CellContext
from jaxdl.train.adversarial import attack_targets


@dataclasses.dataclass(frozen=True)
class Target:
  """A trained cell as an attack target: its replicas, the test set they are attacked on, its units."""
  replicas: attacks.Replicas
  x: np.ndarray
  y: np.ndarray
  units: attacks.InputUnits
  bounds: attacks.Bounds
  data: str

  @classmethod
  def of(cls, ctx: CellContext, name: str, clip: bool) -> "Target":
    run = ctx.trained(name)
    units = attacks.InputUnits.of(run.data)
    return cls(attack_targets(run), run.data.x_test, run.data.y_test, units, units.bounds if clip else None,
               run.data.describe())

  def fgsm(self, eps: float, chunk: int) -> tuple[np.ndarray, dict[str, list[float]]]:
    """Each replica's FGSM inputs at `eps` (fraction of the pixel range) [K, N, ...] and its stats on them."""
    return attacks.attack_replicas(self.replicas, self.x, self.y, self.units.eps(eps), bounds=self.bounds,
                                   chunk=chunk)


def fgsm_sweep(ctx: CellContext, spec: dict[str, Any]) -> dict[str, Any]:
  """Per net: FGSM error and confidence at every eps of the grid, at `eps`, and clean (eps 0);
  and at `eps` clipped to the pixel range (the same as `fgsm` when the study clips)."""
  families = {}
  for name in spec["of"]:
    target = Target.of(ctx, name, spec["clip"])
    grid = dict.fromkeys((0.0, *spec["eps_grid"], spec["eps"]))  # each eps attacked once
    stats = {eps: target.fgsm(eps, spec["chunk"])[1] for eps in grid}
    clipped = (stats[spec["eps"]] if spec["clip"] else
               Target.of(ctx, name, clip=True).fgsm(spec["eps"], spec["chunk"])[1])
    families[name] = {"clean": stats[0.0], "fgsm": stats[spec["eps"]], "fgsm_clipped": clipped,
                      "sweep": {f"{eps:g}": stats[eps] for eps in spec["eps_grid"]}}
  return {"data": target.data, "families": families}


def pgd(ctx: CellContext, spec: dict[str, Any]) -> dict[str, Any]:
  """Per net: error and confidence under PGD (each replica attacking itself) at `eps`."""
  families = {}
  for name in spec["of"]:
    target = Target.of(ctx, name, spec["clip"])
    settings = attacks.PGDSettings(spec["steps"], target.units.eps(spec["step_size"]), spec["restarts"],
                                   spec["seed"])
    _, families[name] = attacks.attack_replicas(
        target.replicas, target.x, target.y, target.units.eps(spec["eps"]), pgd_settings=settings,
        bounds=target.bounds, chunk=spec["chunk"])
  return {"families": families}


def transfer(ctx: CellContext, spec: dict[str, Any]) -> dict[str, Any]:
  """Error of every net (column) on the FGSM inputs crafted on every net (row), per replica.

  Two nets of one architecture (e.g. maxout and maxout_adv, which share init
  and data order per seed) are compared across seeds: replica k's inputs on
  the other net's replica k+1.
  """
  targets = {name: Target.of(ctx, name, spec["clip"]) for name in spec["of"]}
  errors = {}
  for source_name, source in targets.items():
    x_adv, _ = source.fgsm(spec["eps"], spec["chunk"])
    errors[source_name] = {
        name: attacks.transfer_error(x_adv, source.y, source.replicas.diverged, target.replicas,
                                     next_seed=spec["models"][name] == spec["models"][source_name],
                                     chunk=spec["chunk"])
        for name, target in targets.items()}
  return {"transfer": errors}


def panda(ctx: CellContext, spec: dict[str, Any]) -> dict[str, Any]:
  """Goodfellow et al.'s Figure 1 on the nets of `of` (replica 0): the first test image all of
  them classify correctly, its FGSM perturbation and adversarial image, predictions, confidences."""
  targets = {name: Target.of(ctx, name, spec["clip"]) for name in spec["of"]}
  first = {name: target.replicas.select([0]) for name, target in targets.items()}
  clean_logits = {name: _logits(r, targets[name].x[None])[0] for name, r in first.items()}
  y = next(iter(targets.values())).y
  correct = np.all([np.argmax(logits, -1) == y for logits in clean_logits.values()], axis=0)
  i = int(np.flatnonzero(correct)[0]) if correct.any() else 0
  rows = []
  for name, target in targets.items():
    x_adv = target.fgsm(spec["eps"], spec["chunk"])[0][0, i]
    adv_logits = _logits(first[name], x_adv[None, None])[0, 0]
    p_clean, p_adv = jax.nn.softmax(clean_logits[name][i]), jax.nn.softmax(adv_logits)
    rows.append({"family": name, "index": i, "label": int(y[i]), "clean": target.x[i].tolist(),
                 "adversarial": x_adv.tolist(), "clean_pred": int(np.argmax(p_clean)),
                 "clean_conf": float(np.max(p_clean)), "adv_pred": int(np.argmax(p_adv)),
                 "adv_conf": float(np.max(p_adv))})
  return {"examples": rows}


def _logits(replicas: attacks.Replicas, x: np.ndarray) -> np.ndarray:
  """Replica k's logits on x[k]: [K, B, ...] -> [K, B, C]."""
  return np.asarray(attacks.replica_logits(replicas.model, replicas.variables, jnp.asarray(x)))
