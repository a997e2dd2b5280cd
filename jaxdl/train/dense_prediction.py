"""Dense prediction on the engine: per-position labels, per-pixel accuracy, mean IoU.

`DensePredictionProgram` is the engine's `ReplicaProgram` for a model that
returns logits [B, *spatial, K] against int32 labels [B, *spatial] (e.g.
`jaxdl.tasks.dense_digits`): the training loss is the engine's (the mean
over the batch of softmax cross-entropy, which optax takes per position, so
a mean over pixels too); `evaluate` reports the per-pixel loss and accuracy.
Pass it as `train_and_evaluate(..., program_factory=DensePredictionProgram)`.
`segmentation_scores` gives a trained replica's mean IoU, the metric of
semantic segmentation papers (Yu & Koltun 2016 report VOC mean IoU).
"""
from __future__ import annotations

import dataclasses
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.losses import get_loss
from jaxdl.train.state import TrainState
from jaxdl.train.steps import HParams, ReplicaProgram, chunked_sums


@dataclasses.dataclass(frozen=True)
class DensePredictionProgram(ReplicaProgram):
  """The engine's replica program for per-position labels."""

  def train_on_batch(self, state: TrainState, hp: HParams, x: jax.Array, y: jax.Array
                     ) -> tuple[TrainState, jax.Array]:
    """The engine's step. Its running accuracy counts examples, not pixels, so the per-epoch
    training accuracy is NaN (undefined) here; the final one is evaluated per pixel."""
    new, loss = super().train_on_batch(state, hp, x, y)
    return new.replace(epoch_correct=jnp.full_like(new.epoch_correct, jnp.nan)), loss

  def evaluate(self, state: TrainState, hp: HParams, x: jax.Array, y: jax.Array,
               rows: Any = None) -> dict[str, jax.Array]:
    """Mean per-pixel loss and accuracy over (x [N, *spatial, C], y [N, *spatial]), in chunks."""
    model, loss_fn, variables = self.model(hp), get_loss(self.cfg.loss), self.variables(state)

    def chunk(xb, yb, mb):
      logits = model.apply(variables, xb, train=False)
      # Every image has the same number of pixels: the mean of per-image means is the per-pixel mean.
      losses = loss_fn(logits, yb, self.num_classes).reshape(xb.shape[0], -1).mean(axis=1)
      correct = (jnp.argmax(logits, -1) == yb).reshape(xb.shape[0], -1).mean(axis=1)
      return jnp.sum(jnp.where(mb, losses, 0.0)), jnp.sum(jnp.where(mb, correct, 0.0))

    loss, correct = chunked_sums(chunk, x, y, self.cfg.eval_batch_size, rows)
    return {"loss": loss / x.shape[0], "accuracy": correct / x.shape[0]}


def confusion_matrix(predicted: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
  """[K, K] pixel counts: row = true class, column = predicted class."""
  index = labels.reshape(-1).astype(np.int64) * num_classes + predicted.reshape(-1)
  return np.bincount(index, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def mean_iou(confusion: np.ndarray) -> tuple[float, np.ndarray]:
  """Mean over the classes present (true or predicted) of TP / (TP + FP + FN); and the per-class IoU."""
  tp = np.diag(confusion).astype(np.float64)
  union = confusion.sum(axis=0) + confusion.sum(axis=1) - tp
  iou = np.where(union > 0, tp / np.maximum(union, 1), np.nan)
  return float(np.nanmean(iou)), iou


def segmentation_scores(model: nn.Module, variables: Any, x: np.ndarray, y: np.ndarray, num_classes: int,
                        batch_size: int = 500) -> dict[str, Any]:
  """{"pixel_acc", "mean_iou", "iou" (per class)} of one trained replica on (x, y)."""
  predict = jax.jit(lambda v, xb: jnp.argmax(model.apply(v, xb, train=False), -1))
  confusion = np.zeros((num_classes, num_classes), np.int64)
  for start in range(0, len(x), batch_size):
    predicted = np.asarray(predict(variables, x[start:start + batch_size]))
    confusion += confusion_matrix(predicted, y[start:start + batch_size], num_classes)
  miou, iou = mean_iou(confusion)
  return {"pixel_acc": float(np.trace(confusion) / confusion.sum()), "mean_iou": miou, "iou": iou.tolist()}
