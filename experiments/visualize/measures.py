"""What the study measures on each trained CNN: the explanations and their sanity check, the deletion
curve, activation maximization with and without regularizers, and the penultimate features."""
from __future__ import annotations

from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

from jaxdl import saliency
from jaxdl.train import RunResult

METHODS = ("gradient", "guided", "occlusion")


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
  """Spearman's rank correlation of two maps. Tied values share their average rank: MNIST maps have
  many exact zeros (background), and breaking those ties by position would correlate any two maps."""
  ra, rb = stats.rankdata(a.ravel()), stats.rankdata(b.ravel())
  if ra.std() == 0 or rb.std() == 0:
    return 0.0  # a constant map ranks nothing
  return float(np.corrcoef(ra, rb)[0, 1])


def explanations(model, variables, x: np.ndarray, y: np.ndarray, patch: int) -> dict[str, np.ndarray]:
  """Per method, a [N, H, W] map of how much each pixel matters for the true class (occlusion's
  patch values spread over their pixels)."""
  xj, yj = jnp.asarray(x), jnp.asarray(y)
  drop = saliency.occlusion_drop(model, variables, x, y, patch=patch, stride=patch)
  return {"gradient": np.asarray(saliency.saliency_map(model, variables, xj, yj)),
          "guided": np.asarray(saliency.saliency_map(saliency.guided(model), variables, xj, yj)),
          "occlusion": np.kron(drop, np.ones((1, patch, patch)))}


def deletion_curve(model, variables, x: np.ndarray, y: np.ndarray, scores: np.ndarray,
                   fractions: Sequence[float], rng: np.random.Generator) -> dict[str, list[float]]:
  """Mean true-class probability after setting to 0 the given fraction of each image's pixels: the
  most salient first (by `scores` [N, H, W]), or random ones."""
  n, h, w = scores.shape
  order = np.argsort(-scores.reshape(n, -1), axis=1)
  random = np.argsort(rng.random((n, h * w)), axis=1)
  out = {"salient": [], "random": []}
  for fraction in fractions:
    k = int(round(fraction * h * w))
    for name, ranking in (("salient", order), ("random", random)):
      mask = np.ones((n, h * w), np.float32)
      np.put_along_axis(mask, ranking[:, :k], 0.0, axis=1)
      out[name].append(float(saliency.class_probability(model, variables, x * mask.reshape(n, h, w, 1), y).mean()))
  return out


def _blur(img: jax.Array, sigma: float) -> jax.Array:
  """A separable Gaussian blur of [H, W] (radius 2 sigma, at least 1)."""
  radius = max(1, int(np.ceil(2 * sigma)))
  t = np.arange(-radius, radius + 1)
  kernel = jnp.asarray(np.exp(-t ** 2 / (2 * sigma ** 2)) / np.exp(-t ** 2 / (2 * sigma ** 2)).sum(), jnp.float32)
  img = jax.vmap(lambda row: jnp.convolve(row, kernel, mode="same"))(img)
  return jax.vmap(lambda col: jnp.convolve(col, kernel, mode="same"), in_axes=1, out_axes=1)(img)


def maximize(model, variables, num_classes: int, shape: tuple[int, ...], regularized: bool, steps: int, lr: float,
             decay: float, blur_sigma: float, blur_every: int, clip_percentile: float, key: jax.Array) -> np.ndarray:
  """One image per class maximizing that class's logit by gradient ascent from small noise [K, H, W, C];
  with Yosinski et al.'s regularizers (L2 decay, periodic blur, clipping small pixels) if `regularized`."""
  def logit(img, c):
    return model.apply(variables, img[None], train=False)[0, c]

  grad = jax.jit(jax.vmap(jax.grad(logit), in_axes=(0, 0)))
  x = 0.01 * jax.random.normal(key, (num_classes, *shape))
  classes = jnp.arange(num_classes)
  for step in range(1, steps + 1):
    x = x + lr * grad(x, classes)
    if regularized:
      x = (1 - decay) * x
      if step % blur_every == 0:
        x = jax.vmap(lambda img: _blur(img[..., 0], blur_sigma)[..., None])(x)
      cut = jnp.percentile(jnp.abs(x).reshape(num_classes, -1), clip_percentile, axis=1)
      x = jnp.where(jnp.abs(x) < cut[:, None, None, None], 0.0, x)
  return np.asarray(x)


def noisy_class_probability(model, variables, images: np.ndarray, noise_std: float, draws: int,
                            rng: np.random.Generator) -> float:
  """Mean probability of each image's own class (image k: class k) under Gaussian input noise."""
  classes = np.arange(len(images))
  probs = [saliency.class_probability(model, variables, images + noise_std * rng.standard_normal(images.shape)
                                  .astype(np.float32), classes) for _ in range(draws)]
  return float(np.mean(probs))


def activations(model, variables, x: np.ndarray) -> list[np.ndarray]:
  """Every tagged hidden layer's activations, in order (the CNN tags its conv stages, then its dense layers)."""
  _, state = model.apply(variables, jnp.asarray(x), train=False, mutable=["intermediates"])
  acts = state["intermediates"]
  return [np.asarray(acts[k][0]) for k in sorted((k for k in acts if k.startswith("act")), key=lambda k: int(k[3:]))]


def penultimate(model, variables, x: np.ndarray) -> np.ndarray:
  """The last hidden layer's activations [N, units]."""
  return activations(model, variables, x)[-1]


def pca_2d(features: np.ndarray) -> tuple[np.ndarray, float]:
  """The features' first two principal components [N, 2] and the variance fraction they explain."""
  centred = features - features.mean(0)
  _, s, vt = np.linalg.svd(centred, full_matrices=False)
  return centred @ vt[:2].T, float((s[:2] ** 2).sum() / (s ** 2).sum())


def measure(result: RunResult, explain: dict[str, Any], maximize_spec: dict[str, Any],
            embed: dict[str, Any]) -> dict[str, Any]:
  """Everything the report needs from one trained cell, per replica (the figures use replica 0)."""
  data = result.data
  n = explain["images"]
  x, y = data.x_test[:n], data.y_test[:n]
  out: dict[str, Any] = {"replicas": []}
  for k in range(len(result.replicas)):
    model, variables = result.model(k), result.variables(k)
    rng = np.random.default_rng(k)
    maps = explanations(model, variables, x, y, explain["patch"])
    # Adebayo et al.'s model-randomization test: the same net with freshly initialized weights.
    randomized = {"params": model.init(jax.random.PRNGKey(10_000 + k), jnp.asarray(x[:1]))["params"]}
    random_maps = explanations(model, randomized, x, y, explain["patch"])
    spearman = {m: float(np.mean([rank_correlation(maps[m][i], random_maps[m][i]) for i in range(n)]))
                for m in METHODS}
    deletion = deletion_curve(model, variables, x, y, maps["gradient"], explain["fractions"], rng)
    spec = {key: maximize_spec[key] for key in ("steps", "lr", "decay", "blur_sigma", "blur_every", "clip_percentile")}
    images = {arm: maximize(model, variables, data.num_classes, x.shape[1:], arm == "regularized",
                            key=jax.random.PRNGKey(k), **spec) for arm in ("plain", "regularized")}
    noisy = {arm: noisy_class_probability(model, variables, img, maximize_spec["noise_std"],
                                          maximize_spec["noise_draws"], rng) for arm, img in images.items()}
    replica: dict[str, Any] = {"spearman_vs_randomized": spearman, "deletion": deletion,
                               "maximized_noisy_probability": noisy}
    if k == 0:  # the pictures: one replica's
      features = penultimate(model, variables, data.x_test[:embed["examples"]])
      coords, explained = pca_2d(features)
      replica["pictures"] = {
          "image": x[0, ..., 0].tolist(), "label": int(y[0]),
          "maps": {m: maps[m][0].tolist() for m in METHODS},
          "random_maps": {m: random_maps[m][0].tolist() for m in METHODS},
          "filters": np.asarray(variables["params"]["conv0"]["kernel"])[..., 0, :].transpose(2, 0, 1).tolist(),
          "feature_maps": feature_maps(model, variables, x[:1]),
          "maximized": {arm: img[..., 0].tolist() for arm, img in images.items()},
          "pca": coords.tolist(), "pca_labels": data.y_test[:embed["examples"]].tolist(),
          "pca_explained": explained}
    out["replicas"].append(replica)
  return out


def feature_maps(model, variables, x: np.ndarray) -> list[list]:
  """Each conv stage's activations for one image: [stage][channel][H][W] (the first 8 channels)."""
  return [a[0].transpose(2, 0, 1)[:8].tolist() for a in activations(model, variables, x) if a.ndim == 4]
