"""Calibration of a classifier's confidence: reliability bins and the expected calibration error.

Guo et al. 2017 (On Calibration of Modern Neural Networks, Sec. 2): the
confidence of a prediction is its largest softmax probability; the predictions
are grouped into M equal-width confidence bins over [0, 1], and

  ECE = sum_m |B_m| / n * |acc(B_m) - conf(B_m)|,

with acc and conf the accuracy and mean confidence of bin m (M = 15 in their
tables). A perfectly calibrated classifier has ECE 0; an overconfident one has
conf > acc in its bins.
"""
from __future__ import annotations

from typing import Any

import numpy as np


def confidences(logits: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """(confidence [N]: the largest softmax probability, correct [N]: argmax == label) of logits [N, K]."""
  logits = np.asarray(logits, np.float64)
  shifted = logits - logits.max(-1, keepdims=True)
  probs = np.exp(shifted) / np.exp(shifted).sum(-1, keepdims=True)
  return probs.max(-1), probs.argmax(-1) == np.asarray(labels)


def reliability_bins(confidence: np.ndarray, correct: np.ndarray, bins: int = 15) -> dict[str, Any]:
  """Per equal-width bin of [0, 1] (bin m holds confidences in (m/M, (m+1)/M], the first also 0):
  its edges, count, accuracy and mean confidence (NaN for an empty bin)."""
  confidence, correct = np.asarray(confidence, np.float64), np.asarray(correct, np.float64)
  edges = np.linspace(0.0, 1.0, bins + 1)
  index = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
  count = np.bincount(index, minlength=bins)
  with np.errstate(invalid="ignore", divide="ignore"):
    accuracy = np.bincount(index, weights=correct, minlength=bins) / count
    mean_conf = np.bincount(index, weights=confidence, minlength=bins) / count
  return {"edges": edges.tolist(), "count": count.tolist(), "accuracy": accuracy.tolist(),
          "confidence": mean_conf.tolist()}


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
  """Guo et al.'s ECE over `bins` equal-width confidence bins (a fraction in [0, 1])."""
  table = reliability_bins(confidence, correct, bins)
  count = np.asarray(table["count"], np.float64)
  gap = np.abs(np.nan_to_num(np.asarray(table["accuracy"]) - np.asarray(table["confidence"])))
  return float(np.sum(count / count.sum() * gap))
