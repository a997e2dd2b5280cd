"""The study's cells: inception counts and auxiliary-head gradients (measurements at init), the CNN
with a dense or a global-average-pooling head on each dataset, the CNN with pooling or strided
convolutions, and the trained dense head rewritten as convolutions."""
from __future__ import annotations

import functools

from ml_collections import ConfigDict

from experiments.architectures.measures import aux_gradients, fcn_equivalence, inception_counts
from experiments.configs import seed_range, train_config
from jaxdl.study import Cell, MeasureCell, TrainCell

HEADS = ("dense", "gap")
STRIDED = "downsample_stride"


def head_cell(head: str, dataset: str) -> str:
  return f"head_{head}_{dataset}"


def cells(config: ConfigDict) -> list[Cell]:
  seeds = seed_range(config)
  cnn = config.cnn.to_dict()
  out: list[Cell] = [
      MeasureCell.standalone("inception_counts", {"module": "inception (3a)"}, inception_counts),
      MeasureCell.standalone("aux_gradients", {**config.aux.to_dict(), "seeds": list(seeds)},
                             functools.partial(aux_gradients, seeds=seeds, **config.aux.to_dict()))]
  for dataset in config.datasets:
    for head in HEADS:
      out.append(TrainCell(head_cell(head, dataset), train_config(
          config.train, dataset=dataset, model="cnn", seeds=seeds, model_options={**cnn, "head": head})))
  first = config.datasets[0]
  # The pooling arm is the dense-head cell of the first dataset. Same parameters: 'VALID' 5x5
  # convolutions at stride 2 give the 12x12 and 4x4 maps the 2x2 pools give.
  out.append(TrainCell(STRIDED, train_config(config.train, dataset=first, model="cnn", seeds=seeds,
                                             model_options={**cnn, "strides": 2, "pool": 1})))
  dense = head_cell("dense", first)
  spec = {"cell": dense, "dataset": first, "cnn": cnn, **config.fcn.to_dict()}
  out.append(MeasureCell("fcn", spec, functools.partial(fcn_equivalence, **spec), needs=(dense,)))
  return out
