"""The study's cells: the receptive-field measurement, twelve MNIST-1D nets, three dense-prediction nets.

Each trained cell is one `TrainConfig` whose replicas are the seeds; it
measures its parameter count and its number of training steps, and a
dense-prediction cell each replica's per-pixel accuracy and mean IoU on the
test canvases (measurements.json).
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import numpy as np
from ml_collections import ConfigDict

from experiments.configs import seed_range, train_config
from experiments.dilated_convs.receptive_fields import receptive_field_cell
from jaxdl import receptive_field as rf
from jaxdl.data import load_dataset
from jaxdl.data.batching import steps_per_epoch
from jaxdl.models import MODELS
from jaxdl.study import Cell, TrainCell
from jaxdl.data.dataset import DenseDataset
from jaxdl.tasks.dense_digits import dense_digits_dataset
from jaxdl.train import RunResult, TrainConfig
from jaxdl.train.dense_prediction import DensePredictionProgram, segmentation_scores

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


def _mnist1d_nets() -> tuple[list[Net], list[Net]]:
  """Greydanus's four models, ordered then shuffled; then (jaxdl's own comparison) dilated vs
  undilated CNNs of equal depth and width (global pooling), and a shallow dilated CNN vs a deep
  undilated one of equal field."""
  paper = [("logistic", "mlp", {"widths": ()}), ("mlp", "mlp", {"widths": (100, 100), "residual": True}),
           ("cnn", "dilated", PAPER_CNN), ("gru", "birnn", {"cell": "gru", "hidden_size": 6})]
  return ([*(Net(f"mnist1d_{label}", label, model, options) for label, model, options in paper),
           *(Net(f"mnist1d_{label}_shuffled", label, model, options, shuffled=True)
             for label, model, options in paper)],
          [Net("mnist1d_undilated_d4", "undilated, depth 4", "dilated", {"dilations": (1, 1, 1, 1), "width": 32}),
           Net("mnist1d_dilated_d4", "dilated 1,2,4,8, depth 4", "dilated", {"dilations": (1, 2, 4, 8), "width": 32}),
           Net("mnist1d_dilated_d3", "dilated 1,2,4, depth 3", "dilated", {"dilations": (1, 2, 4), "width": 32}),
           Net("mnist1d_undilated_d7", "undilated, depth 7", "dilated", {"dilations": (1,) * 7, "width": 32})])


PAPER_NETS, DILATION_NETS = _mnist1d_nets()
MNIST1D_NETS = PAPER_NETS + DILATION_NETS


def context_nets(config: ConfigDict) -> list[Net]:
  """Dense prediction: the front end alone, + context module (identity init), + context module
  (random init)."""
  c = config.context
  base = {"front_widths": tuple(c.front_widths)}
  return [Net("context_front_end", "front end alone", "context_segmenter", {**base, "context_dilations": ()}),
          Net("context_identity_init", "+ context module, identity init", "context_segmenter",
              {**base, "context_dilations": tuple(c.dilations), "context_init": "identity"}),
          Net("context_random_init", f"+ context module, random ({c.random_init}) init", "context_segmenter",
              {**base, "context_dilations": tuple(c.dilations), "context_init": c.random_init})]


def receptive_field_of(model: str, options: dict[str, Any]) -> int | None:
  """The analytical field (side, input positions) of the last layer before the head; None for an
  MLP or a bidirectional RNN, whose every unit sees all positions."""
  if model in ("mlp", "birnn"):
    return None
  if model == "dilated":
    layers = rf.conv_layers(options.get("kernel_size", 3), options["dilations"], options.get("strides", 1))
  else:  # context_segmenter: front end, max pool, 1x1 scores, the module's 3x3 layers and its final 1x1
    options = {**MODELS.defaults(model), **options}
    dilations = tuple(options["context_dilations"])
    layers = (rf.conv_layers(options["front_kernel_size"], (1,) * len(options["front_widths"]))
              + [rf.ConvLayer(options["pool"], options["pool"]), rf.ConvLayer(1)]
              + (rf.conv_layers((3,) * len(dilations) + (1,), (*dilations, 1)) if dilations else []))
  return rf.analytical_receptive_fields(layers)[-1]


def measure_cell(result: RunResult) -> dict[str, int]:
  """{"params": trainable parameters of one replica, "steps": training steps of the run}."""
  params = sum(int(np.prod(x.shape)) for x in jax.tree_util.tree_leaves(result.variables(0)["params"]))
  cfg = result.config
  return {"params": params, "steps": cfg.epochs * steps_per_epoch(len(result.data.y_train), cfg.batch_size)}


def measure_dense_cell(result: RunResult) -> dict[str, Any]:
  """measure_cell's counts, and per replica the test canvases' per-pixel accuracy and mean IoU."""
  data = result.data
  scores = [segmentation_scores(result.model(k), result.variables(k), data.x_test, data.y_test, data.num_classes)
            for k in range(len(result.replicas))]
  return {**measure_cell(result), "scores": scores}


TASK_KEYS = ("n_train", "n_test", "canvas", "digits", "digit_size", "task_seed")


def dense_digits_data(cfg: TrainConfig, task: dict[str, Any]) -> DenseDataset:
  """The dense-digits canvases built from the digits of `cfg.dataset` (MNIST)."""
  digits = load_dataset(cfg.dataset, data_dir=cfg.data_dir, download=cfg.download)
  return dense_digits_dataset(digits, task["n_train"], task["n_test"], canvas=task["canvas"],
                              digits=task["digits"], digit_size=task["digit_size"], seed=task["task_seed"])


def cells(config: ConfigDict) -> list[Cell]:
  """The receptive-field measurement, the MNIST-1D cells, then the dense-prediction cells."""
  seeds = seed_range(config)
  out: list[Cell] = [receptive_field_cell(config)]
  for nets, section in ((PAPER_NETS, config.mnist1d.train), (DILATION_NETS, config.dilation.train)):
    for net in nets:
      cfg = train_config(section, model=net.model, model_options=net.options, seeds=seeds,
                         data_options={**section.data_options.to_dict(), "shuffle_seq": net.shuffled})
      out.append(TrainCell(net.name, cfg, measure=measure_cell))
  task = {k: config.context[k] for k in TASK_KEYS}
  for net in context_nets(config):
    cfg = train_config(config.context.train, model=net.model, model_options=net.options, seeds=seeds)
    out.append(TrainCell(net.name, cfg, data=functools.partial(dense_digits_data, cfg, task), data_spec=task,
                         program_factory=DensePredictionProgram, measure=measure_dense_cell))
  return out
