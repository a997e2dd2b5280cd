"""The study's cells: one `TrainCell` per (net, batch norm off/on), its replicas lr x dropout x seeds;
then Srivastava et al.'s recipe with and without its dropout, each with and without batch norm."""
from __future__ import annotations

import functools

from ml_collections import ConfigDict

from experiments.configs import seed_range, train_config
from experiments.subsets import data_spec, study_data
from experiments.dropout_vs_batchnorm.measure import measure_cell
from jaxdl.errors import UserError
from jaxdl.study import TrainCell

RECIPE_ARMS = ("none", "dropout", "bn", "both")  # (batch norm, the recipe's dropout) off/on


def cell_name(net: str, batch_norm: bool) -> str:
  return f"{net}_{'bn' if batch_norm else 'plain'}"


def recipe_cell_name(arm: str) -> str:
  return f"recipe_{arm}"


def cells(config: ConfigDict) -> list[TrainCell]:
  """For each net in `config.nets` (in order): `<net>_plain`, then `<net>_bn`; then `recipe_<arm>`."""
  if config.train.val_size or config.train.train_size:
    raise UserError("this study cuts its data itself: set config.data.val_size / config.data.train_size, "
                    "not config.train.val_size / train_size")
  unknown = [net for net in config.nets if net not in config.net]
  if unknown:
    raise UserError(f"config.nets names {unknown}, not defined in config.net: {', '.join(config.net)}")
  spec = data_spec(config)
  seeds = seed_range(config)
  out = []
  for net in config.nets:
    settings = config.net[net]
    for batch_norm in (False, True):
      train = train_config(
          config.train, model=settings.model,
          model_options={**settings.model_options.to_dict(), "batch_norm": batch_norm},
          optim={"lr": settings.base_lr}, epochs=settings.epochs, seeds=seeds,
          sweep={"lr": tuple(settings.base_lr * m for m in config.lr_multipliers),
                 "dropout_rate": (0.0, config.dropout_rate)})
      out.append(TrainCell(cell_name(net, batch_norm), train, data=functools.partial(study_data, train, spec),
                           data_spec=spec, measure=functools.partial(
                               measure_cell, recompute_examples=config.bn_recompute_examples)))
  recipe = config.recipe
  for arm in RECIPE_ARMS:
    # Input dropout is not a swept hyper-parameter, so each arm is its own program.
    dropout = arm in ("dropout", "both")
    train = train_config(
        config.train, model="mlp",
        model_options={**recipe.model_options.to_dict(), "batch_norm": arm in ("bn", "both"),
                       "dropout_rate": recipe.dropout_rate if dropout else 0.0,
                       "input_dropout_rate": recipe.input_dropout_rate if dropout else 0.0},
        optim={"lr": recipe.lr, "momentum": recipe.momentum, "max_norm": recipe.max_norm},
        epochs=recipe.epochs, seeds=seeds)
    out.append(TrainCell(recipe_cell_name(arm), train, data=functools.partial(study_data, train, spec),
                         data_spec=spec))
  return out
