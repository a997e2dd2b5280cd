"""The study's cells: the CNN trained on each dataset (replicas: the seeds), measured for its
explanations, deletion curve, maximized classes and features."""
from __future__ import annotations

import functools

from ml_collections import ConfigDict

from experiments.configs import seed_range, train_config
from experiments.visualize.measures import measure
from jaxdl.study import Cell, TrainCell


def cnn_cell(dataset: str) -> str:
  return f"cnn_{dataset}"


def cells(config: ConfigDict) -> list[Cell]:
  seeds = seed_range(config)
  run = functools.partial(measure, explain=config.explain.to_dict(), maximize_spec=config.maximize.to_dict(),
                          embed=config.embed.to_dict())
  return [TrainCell(cnn_cell(d), train_config(config.train, dataset=d, model="cnn", seeds=seeds,
                                              model_options=config.cnn.to_dict()), measure=run)
          for d in config.datasets]
