"""The study's cells: two measurements (gradient curves, Nielsen's neuron), four MNIST sigmoid MLPs
({squared error, cross-entropy} x {default, saturated start}) and two Fashion-MNIST MLPs (without and
with label smoothing), whose replicas are the seeds."""
from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np
from ml_collections import ConfigDict

from experiments.configs import seed_range, train_config
from experiments.losses.saturation import CROSS_ENTROPY, SQUARED, gradient_curves, neuron_runs
from jaxdl import calibration
from jaxdl.study import Cell, MeasureCell, TrainCell
from jaxdl.train import RunResult

LOSS_NAMES = {"squared": SQUARED, "cross_entropy": CROSS_ENTROPY}  # the saturation cells' losses
STARTS = ("default", "saturated")


@dataclasses.dataclass(frozen=True)
class SaturationArm:
  loss: str   # a key of LOSS_NAMES
  start: str  # default: output biases 0; saturated: output biases config.saturation.output_bias

  @property
  def cell(self) -> str:
    return f"mnist_{self.loss}_{self.start}"


SATURATION_ARMS = tuple(SaturationArm(loss, start) for start in STARTS for loss in LOSS_NAMES)
SMOOTHING_ARMS = ("plain", "smoothed")  # label smoothing off / on


def smoothing_cell(arm: str) -> str:
  return f"fashion_{arm}"


def measure_calibration(result: RunResult, bins: int) -> dict[str, Any]:
  """Per replica, on the test set: accuracy, mean confidence (largest softmax probability),
  Guo et al.'s ECE over `bins` equal-width bins, and the reliability bins."""
  data, chunk = result.data, result.config.eval_batch_size
  out = []
  for k in range(len(result.replicas)):
    model, variables = result.model(k), result.variables(k)
    logits = np.concatenate([np.asarray(model.apply(variables, data.x_test[i:i + chunk], train=False))
                             for i in range(0, len(data.x_test), chunk)])
    confidence, correct = calibration.confidences(logits, data.y_test)
    out.append({"accuracy": float(correct.mean()), "mean_confidence": float(confidence.mean()),
                "ece": calibration.expected_calibration_error(confidence, correct, bins),
                "reliability": calibration.reliability_bins(confidence, correct, bins)})
  return {"replicas": out}


def cells(config: ConfigDict) -> list[Cell]:
  """gradient_curves, nielsen_neuron, mnist_<loss>_<start> (4), fashion_<arm> (2)."""
  seeds = seed_range(config)
  out: list[Cell] = [MeasureCell.standalone(name, spec, functools.partial(fn, **spec))
                     for name, spec, fn in (("gradient_curves", config.gradients.to_dict(), gradient_curves),
                                            ("nielsen_neuron", config.neuron.to_dict(), neuron_runs))]
  sat = config.saturation
  for arm in SATURATION_ARMS:
    bias = sat.output_bias if arm.start == "saturated" else 0.0
    train = train_config(config.mnist, model="mlp", loss=LOSS_NAMES[arm.loss], seeds=seeds, optim={"lr": sat.lr},
                         model_options={"widths": tuple(sat.widths), "activation": "sigmoid",
                                        "kernel_init": "lecun_normal", "output_bias_init": float(bias)})
    out.append(TrainCell(arm.cell, train))
  cal = config.calibration
  for arm in SMOOTHING_ARMS:
    eps = cal.label_smoothing if arm == "smoothed" else 0.0
    loss = f"softmax_cross_entropy:label_smoothing={eps:g}" if eps else "softmax_cross_entropy"
    train = train_config(config.fashion, model="mlp", loss=loss, seeds=seeds,
                         model_options={"widths": tuple(cal.widths), "activation": "relu"})
    out.append(TrainCell(smoothing_cell(arm), train, measure=functools.partial(measure_calibration, bins=cal.bins)))
  return out
