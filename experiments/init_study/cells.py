"""The study's cells: one `TrainCell` per (depth, initializer) of He et al.'s plain ReLU nets,
then one per Glorot & Bengio Table-1 row; every cell's replicas are its seeds."""
from __future__ import annotations

import functools
import re

import numpy as np
from ml_collections import ConfigDict

from experiments.configs import seed_range, train_config
from experiments.init_study.draws import draws_cell
from experiments.init_study.hooks import layer_statistics_hook
from jaxdl.data import Dataset, load_dataset
from jaxdl.errors import UserError
from jaxdl.optim import OptimConfig
from jaxdl.study import Cell, TrainCell
from jaxdl.train import TrainConfig
from jaxdl.train.trainer import subset_train

# Glorot & Bengio's Table 1 rows, in the paper's order: label -> (activation, kernel initializer).
# "standard": U[-1/sqrt(n), 1/sqrt(n)]; "-N", normalized: Glorot uniform.
GLOROT_ROWS = {"softsign": ("softsign", "standard_uniform"), "softsign-N": ("softsign", "glorot_uniform"),
               "tanh": ("tanh", "standard_uniform"), "tanh-N": ("tanh", "glorot_uniform"),
               "sigmoid": ("sigmoid", "standard_uniform")}


def _slug(text: str) -> str:
  return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def he_cell_name(depth: int, init: str) -> str:
  """E.g. he_d22_he_normal, he_d30_normal_std_0_01."""
  return f"he_d{depth}_{_slug(init)}"


def glorot_cell_name(label: str) -> str:
  """E.g. glorot_tanh_n for the row tanh-N."""
  return f"glorot_{_slug(label)}"


def glorot_labels(config: ConfigDict) -> list[str]:
  """The Table-1 rows `config.glorot.cells` names, in the paper's order."""
  for field in ("cells", "jacobian_cells"):
    unknown = sorted(set(config.glorot[field]) - set(GLOROT_ROWS))
    if unknown:
      raise UserError(f"config.glorot.{field}: unknown rows {unknown}; valid: {', '.join(GLOROT_ROWS)}")
  return [label for label in GLOROT_ROWS if label in config.glorot.cells]


def _mlp(config: ConfigDict, part: ConfigDict, depth: int, activation: str, init: str) -> TrainConfig:
  return train_config(config.train, model="mlp", seeds=seed_range(config),
                      optim=OptimConfig(**part.optim.to_dict()), batch_size=part.batch_size,
                      epochs=part.epochs, model_options={"widths": (part.width,) * depth,
                                                         "activation": activation, "kernel_init": init})


def _data(train: TrainConfig) -> Dataset:
  """What the engine trains on for `train`: the dataset, its first `train_size` training examples."""
  data = load_dataset(train.dataset, data_dir=train.data_dir, val_size=train.val_size, download=train.download,
                      **train.data_options)
  return subset_train(data, train.train_size)


def cells(config: ConfigDict) -> list[Cell]:
  """he_d<depth>_<init> for every depth and initializer, then glorot_<row>, then the
  measurement of He's law on independent draws (`draws.CELL_NAME`, if config.he.draws.groups)."""
  specs = [(he_cell_name(depth, init), _mlp(config, config.he, depth, "relu", init), 0)
           for depth in config.he.depths for init in config.he.inits]
  specs += [(glorot_cell_name(label), _mlp(config, config.glorot, config.glorot.depth, *GLOROT_ROWS[label]),
             config.glorot.jacobian_examples if label in config.glorot.jacobian_cells else 0)
            for label in glorot_labels(config)]
  names = [name for name, _, _ in specs]
  if len(set(names)) != len(names):
    raise UserError(f"two cells share a name: {names}; give distinct initializers and depths")
  # Every cell trains on the same data (the shared train section); loaded once.
  data = functools.cache(functools.partial(_data, specs[0][1])) if specs else None

  def probe() -> tuple[np.ndarray, np.ndarray]:
    """The fixed batch the layer statistics are measured on: the first probe_size training examples."""
    return data().x_train[:config.probe_size], data().y_train[:config.probe_size]

  trained = [TrainCell(name, train, data=data,
                       epoch_hook=functools.partial(layer_statistics_hook, probe, jacobian_examples))
             for name, train, jacobian_examples in specs]
  return trained + ([draws_cell(config, data, probe)] if config.he.draws.groups and config.he.depths else [])
