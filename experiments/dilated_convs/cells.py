"""The study's cells: the receptive-field measurement, ten MNIST-1D nets, three context-module nets.

Each trained cell is one `TrainConfig` whose replicas are the seeds; it
measures its parameter count and its number of training steps
(measurements.json).
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import numpy as np
from ml_collections import ConfigDict

from experiments.configs import train_config
from experiments.dilated_convs.receptive_fields import receptive_field_cell
from jaxdl import receptive_field as rf
from jaxdl.data import Dataset, load_dataset
from jaxdl.data.batching import steps_per_epoch
from jaxdl.study import Cell, TrainCell
from jaxdl.train import RunResult, TrainConfig

# Greydanus 2020's CNN: three convs (5, 3, 3) of 25 channels, stride 2, then a dense layer.
PAPER_CNN = dict(dilations=(1, 1, 1), width=25, kernel_size=(5, 3, 3), strides=2, padding=1, head="flatten")


@dataclasses.dataclass(frozen=True)
class Net:
  """A trained cell's net: `name` (the cell), `label` (its table row), model and options."""
  name: str
  label: str
  model: str
  options: dict[str, Any]
  shuffled: bool = False  # MNIST-1D with its positions shuffled (one permutation for all examples)


def _mnist1d_nets() -> list[Net]:
  """Greydanus's three models, ordered then shuffled; then dilated vs undilated CNNs of equal
  depth and width (global pooling), and a shallow dilated CNN vs a deep undilated one of equal field."""
  paper = [("logistic", "mlp", {"widths": ()}), ("mlp", "mlp", {"widths": (100, 100), "residual": True}),
           ("cnn", "dilated", PAPER_CNN)]
  return [*(Net(f"mnist1d_{label}", label, model, options) for label, model, options in paper),
          *(Net(f"mnist1d_{label}_shuffled", label, model, options, shuffled=True)
            for label, model, options in paper),
          Net("mnist1d_undilated_d4", "undilated, depth 4", "dilated", {"dilations": (1, 1, 1, 1), "width": 32}),
          Net("mnist1d_dilated_d4", "dilated 1,2,4,8, depth 4", "dilated", {"dilations": (1, 2, 4, 8), "width": 32}),
          Net("mnist1d_dilated_d3", "dilated 1,2,4, depth 3", "dilated", {"dilations": (1, 2, 4), "width": 32}),
          Net("mnist1d_undilated_d7", "undilated, depth 7", "dilated", {"dilations": (1,) * 7, "width": 32})]


MNIST1D_NETS = _mnist1d_nets()


def context_nets(config: ConfigDict) -> list[Net]:
  """A conv + pool front end with global pooling: alone, + context module (identity init),
  + context module (random He init)."""
  w = config.context.width
  base = {"front_widths": (w,), "front_kernel_size": 5, "pool": 2, "width": w}
  module = {**base, "context_dilations": tuple(config.context.dilations)}
  return [Net("context_front_end", "front end alone", "context_module", {**base, "context_dilations": ()}),
          Net("context_identity_init", "+ context module, identity init", "context_module",
              {**module, "context_init": "identity"}),
          Net("context_he_init", "+ context module, random (He) init", "context_module",
              {**module, "context_init": "he_normal"})]


def receptive_field_of(model: str, options: dict[str, Any]) -> int | None:
  """The analytical field (side, input positions) of the last layer before the head; None for an
  MLP, whose every unit sees all positions."""
  if model == "mlp":
    return None
  if model == "dilated":
    layers = rf.conv_layers(options.get("kernel_size", 3), options["dilations"], options.get("strides", 1))
  else:  # context_module: front end, max pool, then the module's 3x3 layers and its final 1x1
    dilations = tuple(options["context_dilations"])
    layers = (rf.conv_layers(options["front_kernel_size"], (1,) * len(options["front_widths"]))
              + [rf.ConvLayer(options["pool"], options["pool"])]
              + (rf.conv_layers((3,) * len(dilations) + (1,), (*dilations, 1)) if dilations else []))
  return rf.analytical_receptive_fields(layers)[-1]


def measure_cell(result: RunResult) -> dict[str, int]:
  """{"params": trainable parameters of one replica, "steps": training steps of the run}."""
  params = sum(int(np.prod(x.shape)) for x in jax.tree_util.tree_leaves(result.variables(0)["params"]))
  cfg = result.config
  return {"params": params, "steps": cfg.epochs * steps_per_epoch(len(result.data.y_train), cfg.batch_size)}


def image_data(cfg: TrainConfig, test_size: int) -> Dataset:
  """`cfg.dataset` with its test set cut to the first `test_size` examples (0: all); the engine
  cuts the training set (`cfg.train_size`)."""
  data = load_dataset(cfg.dataset, data_dir=cfg.data_dir, val_size=cfg.val_size, download=cfg.download,
                      **cfg.data_options)
  if not test_size:
    return data
  return dataclasses.replace(data, x_test=data.x_test[:test_size], y_test=data.y_test[:test_size])


def cells(config: ConfigDict) -> list[Cell]:
  """The receptive-field measurement, the MNIST-1D cells, then the context-module cells."""
  seeds = tuple(range(config.seeds))
  mnist1d = config.mnist1d.train
  out: list[Cell] = [receptive_field_cell(config)]
  for net in MNIST1D_NETS:
    cfg = train_config(mnist1d, model=net.model, model_options=net.options, seeds=seeds,
                       data_options={**mnist1d.data_options.to_dict(), "shuffle_seq": net.shuffled})
    out.append(TrainCell(net.name, cfg, measure=measure_cell))
  test_size = config.context.test_size
  for net in context_nets(config):
    cfg = train_config(config.context.train, model=net.model, model_options=net.options, seeds=seeds)
    out.append(TrainCell(net.name, cfg, data=functools.partial(image_data, cfg, test_size),
                         data_spec={"test_size": test_size}, measure=measure_cell))
  return out
