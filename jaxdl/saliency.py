"""Which input pixels a classifier's score depends on: saliency (Simonyan et al. 2014), guided
back-propagation (Springenberg et al. 2015) and occlusion sensitivity (Zeiler & Fergus 2014).

Every function takes a Flax model and its variables, images x [N, H, W, C] and the classes whose
score is explained [N]. Guided back-propagation is the saliency of the same net with its ReLUs
replaced by `guided_relu` (same forward pass, guided backward pass): `guided(model)`.
"""
from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.errors import UserError


def class_score_gradient(model: nn.Module, variables: dict, x: jax.Array, classes: jax.Array) -> jax.Array:
  """d score_c / d x for each image's class c (the logit, before the softmax, as Simonyan et al.)."""
  def total_score(images):
    logits = model.apply(variables, images, train=False)
    return jnp.sum(jnp.take_along_axis(logits, classes[:, None], axis=1))

  return jax.grad(total_score)(x)


def saliency_map(model: nn.Module, variables: dict, x: jax.Array, classes: jax.Array) -> jax.Array:
  """Simonyan et al.'s map: the largest absolute class-score gradient over the channels [N, H, W]."""
  return jnp.max(jnp.abs(class_score_gradient(model, variables, x, classes)), axis=-1)


def guided(model: nn.Module) -> nn.Module:
  """The same net with guided ReLUs, for `class_score_gradient` (it must be a ReLU net)."""
  if getattr(model, "activation", None) != "relu":
    raise UserError(f"guided back-propagation needs a ReLU net with an `activation` option; "
                    f"{type(model).__name__} has activation {getattr(model, 'activation', None)!r}")
  return model.clone(activation="guided_relu")


def class_probability(model: nn.Module, variables: dict, x: np.ndarray, classes: np.ndarray) -> np.ndarray:
  """Each image's softmax probability of its class [N]."""
  logits = model.apply(variables, jnp.asarray(x), train=False)
  return np.asarray(jax.nn.softmax(logits))[np.arange(len(classes)), classes]


def occlusion_drop(model: nn.Module, variables: dict, x: np.ndarray, classes: np.ndarray, patch: int,
                   stride: int, fill: float = 0.0) -> np.ndarray:
  """Zeiler & Fergus's occlusion: the fall of each image's class probability when a patch x patch
  square is set to `fill`, per patch position [N, rows, cols] (positive: the region mattered)."""
  n, h, w, _ = x.shape
  rows, cols = range(0, h - patch + 1, stride), range(0, w - patch + 1, stride)
  base = class_probability(model, variables, x, classes)
  drop = np.zeros((n, len(rows), len(cols)), np.float32)
  for i, r in enumerate(rows):
    for j, c in enumerate(cols):
      occluded = np.array(x, copy=True)
      occluded[:, r:r + patch, c:c + patch, :] = fill
      drop[:, i, j] = base - class_probability(model, variables, occluded, classes)
  return drop
