"""The study's cells: one measurement per 2-D surface, then one MNIST `TrainCell` per optimizer.

A surface cell runs every optimizer at every lr from every start in one
compiled program (`trajectories.measure_surface`). An MNIST cell trains
Kingma & Ba's MLP with one optimizer; its replicas are that optimizer's lr
grid x seeds, one program.
"""
from __future__ import annotations

import functools

from ml_collections import ConfigDict

from experiments.configs import seed_range, train_config
from experiments.subsets import data_spec, study_data
from experiments.optimizers.trajectories import surface_cell
from jaxdl.errors import UserError
from jaxdl.optim import OPTIMIZERS
from jaxdl.study import Cell, TrainCell
from jaxdl.surfaces import SURFACES


def mnist_cell_name(optimizer: str) -> str:
  return f"mnist_{optimizer}"


def check(config: ConfigDict) -> None:
  """Names the config gets wrong, as one-line UserErrors naming what is valid."""
  s, m = config.surfaces, config.mnist
  for kind, names, valid in (("surfaces.names", s.names, list(SURFACES)),
                             ("surfaces.optimizers", s.optimizers, OPTIMIZERS.names()),
                             ("mnist.optimizers", m.optimizers, OPTIMIZERS.names())):
    unknown = [n for n in names if n not in valid]
    if unknown:
      raise UserError(f"config.{kind} names {unknown}; valid: {', '.join(valid)}")
  stray = [n for n in s.animate if n not in s.names]
  if stray:
    raise UserError(f"config.surfaces.animate names {stray}, not in surfaces.names: {', '.join(s.names)}")
  for name in s.names:
    for lr in (s.claim_lr[name], s.adadelta_lr):
      if not any(abs(lr - x) <= 1e-9 * lr for x in s.lrs[name]):
        raise UserError(f"config.surfaces: lr {lr:g} (claim_lr or adadelta_lr) is not in {name}'s grid "
                        f"surfaces.lrs.{name}={tuple(s.lrs[name])}")
  missing = [n for n in m.optimizers if n not in m.lrs]
  if missing:
    raise UserError(f"config.mnist.lrs has no lr grid for {missing}; it has: {', '.join(m.lrs)}")
  if "adam" not in m.optimizers:
    raise UserError("config.mnist.optimizers must include adam: the claims compare it with the others")
  if m.train.val_size or m.train.train_size:
    raise UserError("this study cuts its data itself: set config.data.val_size / config.data.train_size, "
                    "not config.mnist.train.val_size / train_size")


def cells(config: ConfigDict) -> list[Cell]:
  """`surface_<name>` for each surface, then `mnist_<optimizer>` for each MNIST optimizer."""
  check(config)
  out: list[Cell] = [surface_cell(config, name) for name in config.surfaces.names]
  spec = data_spec(config)
  seeds = seed_range(config)
  for name in config.mnist.optimizers:
    lrs = tuple(config.mnist.lrs[name])
    train = train_config(config.mnist.train, optim={"name": name, "lr": lrs[0]}, seeds=seeds, sweep={"lr": lrs})
    out.append(TrainCell(mnist_cell_name(name), train, data=functools.partial(study_data, train, spec),
                         data_spec=spec))
  return out
