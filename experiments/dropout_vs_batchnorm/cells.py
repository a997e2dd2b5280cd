"""The study's cells: one `TrainCell` per (net, batch norm off/on), its replicas lr x dropout x seeds."""
from __future__ import annotations

import functools

from ml_collections import ConfigDict

from experiments.configs import train_config
from experiments.dropout_vs_batchnorm.data import data_spec, study_data
from experiments.dropout_vs_batchnorm.measure import measure_cell
from jaxdl.errors import UserError
from jaxdl.study import TrainCell


def cell_name(net: str, batch_norm: bool) -> str:
  return f"{net}_{'bn' if batch_norm else 'plain'}"


def cells(config: ConfigDict) -> list[TrainCell]:
  """For each net in `config.nets` (in order): `<net>_plain`, then `<net>_bn`."""
  if config.train.val_size or config.train.train_size:
    raise UserError("this study cuts its data itself: set config.data.val_size / config.data.train_size, "
                    "not config.train.val_size / train_size")
  unknown = [net for net in config.nets if net not in config.net]
  if unknown:
    raise UserError(f"config.nets names {unknown}, not defined in config.net: {', '.join(config.net)}")
  spec = data_spec(config)
  out = []
  for net in config.nets:
    settings = config.net[net]
    for batch_norm in (False, True):
      train = train_config(
          config.train, model=settings.model,
          model_options={**settings.model_options.to_dict(), "batch_norm": batch_norm},
          optim={"lr": settings.base_lr}, epochs=settings.epochs, seeds=tuple(range(config.seeds)),
          sweep={"lr": tuple(settings.base_lr * m for m in config.lr_multipliers),
                 "dropout_rate": (0.0, config.dropout_rate)})
      out.append(TrainCell(cell_name(net, batch_norm), train, data=functools.partial(study_data, train, spec),
                           data_spec=spec, measure=functools.partial(
                               measure_cell, recompute_examples=config.bn_recompute_examples)))
  return out
