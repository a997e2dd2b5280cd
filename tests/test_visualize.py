"""The visualization study: its measures on hand-made inputs, the claims on hand-made numbers, and one
smoke run of the study with its report."""
import json

import flax.linen as nn
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import run_module
from experiments.visualize import claims
from experiments.visualize.measures import _blur, deletion_curve, pca_2d, rank_correlation

STUDY = "experiments.visualize"
SMOKE = "--config=experiments/visualize/config.py:smoke"


def test_rank_correlation_gives_ties_their_average_rank():
  a = np.array([[0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 2.0, 3.0]])
  assert rank_correlation(a, a) == pytest.approx(1.0)
  assert rank_correlation(a, -a) == pytest.approx(-1.0)
  # two maps whose only shared feature is a zero background: no correlation from the ties' positions
  b = np.array([[3.0, 2.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
  c = np.array([[0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 2.0, 3.0]])
  assert rank_correlation(b, c) < 0
  assert rank_correlation(np.zeros(4), np.arange(4.0)) == 0.0


def test_deletion_curve_removes_the_most_salient_pixels_first():
  class OnePixel(nn.Module):  # class 1's logit is 10 x pixel (0, 0)
    @nn.compact
    def __call__(self, x, train=False):
      return jnp.stack([jnp.zeros(x.shape[0]), 10 * x[:, 0, 0, 0]], axis=1)

  x = np.ones((2, 4, 4, 1), np.float32)
  scores = np.zeros((2, 4, 4))
  scores[:, 0, 0] = 1.0  # the map marks the one pixel that matters
  curve = deletion_curve(OnePixel(), {}, x, np.array([1, 1]), scores, [1 / 16, 0.5], np.random.default_rng(0))
  assert curve["salient"] == pytest.approx([0.5, 0.5])  # that pixel gone: logits (0, 0)
  assert curve["random"][0] > 0.9  # one random pixel of 16 rarely is it


def test_blur_keeps_the_mean_and_spreads_a_point():
  img = jnp.zeros((9, 9)).at[4, 4].set(1.0)
  out = np.asarray(_blur(img, 1.0))
  assert out.sum() == pytest.approx(1.0, abs=1e-5) and out[4, 4] < 1.0 and out[4, 5] > 0


def test_pca_of_two_clusters():
  rng = np.random.default_rng(0)
  features = np.concatenate([rng.normal(0, 0.1, (50, 5)), rng.normal(0, 0.1, (50, 5)) + 3])
  coords, explained = pca_2d(features)
  assert coords.shape == (100, 2) and explained > 0.9
  assert np.sign(coords[:50, 0]).std() == 0 and np.sign(coords[:50, 0][0]) != np.sign(coords[50:, 0][0])


def test_claims_on_hand_made_numbers():
  replicas = [{"spearman_vs_randomized": {"gradient": g, "guided": 0.8, "occlusion": 0.1},
               "deletion": {"salient": [0.5, 0.3], "random": [0.9, 0.8]},
               "maximized_noisy_probability": {"plain": 0.2, "regularized": 0.2}} for g in (0.1, 0.12, 0.11)]
  verdicts = [c.held for c in claims.all_claims({"mnist": replicas}, [0.05, 0.1], 0.2)]
  assert verdicts == [True, True, True, True, None]  # the two maximization arms are equal: within the noise
  at_ceiling = [{**r, "maximized_noisy_probability": {"plain": 0.9999, "regularized": 0.9998}} for r in replicas]
  ceiling = claims.maximization_claim(at_ceiling, 0.2, "mnist")
  assert ceiling.held is None and "at the ceiling" in ceiling.measured


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("visualize")
  proc = run_module(STUDY, SMOKE, f"--workdir={workdir}", timeout=600, check=True)
  return workdir, proc.stdout


def test_smoke_run_writes_tables_figures_and_verdicts(smoke_run):
  workdir, stdout = smoke_run
  for name in ("table.md", "claims.json", "report.json", "filters_and_feature_maps.png", "explanations.png",
               "deletion.png", "maximized.png", "embedding.png"):
    assert (workdir / name).stat().st_size > 0
  verdicts = json.loads((workdir / "claims.json").read_text())
  assert len(verdicts) == 5 and stdout.count("CLAIM ") == 5
  measured = json.loads((workdir / "cells" / "cnn_mnist" / "measurements.json").read_text())["replicas"]
  assert len(measured) == 2 and set(measured[0]["spearman_vs_randomized"]) == {"gradient", "guided", "occlusion"}
  pictures = measured[0]["pictures"]
  assert np.asarray(pictures["filters"]).shape == (20, 5, 5)
  assert np.asarray(pictures["maximized"]["regularized"]).shape == (10, 28, 28)
  assert "pictures" not in measured[1]  # one replica's pictures
