"""The architectures study: the CNN heads' parameters by hand, the GAP head, the claims on hand-made
numbers, and one smoke run of the study with its report."""
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import run_module
from experiments.architectures import claims
from experiments.architectures.config import get_config
from experiments.architectures.report import head_parameters
from jaxdl.models import build_model

STUDY = "experiments.architectures"
SMOKE = "--config=experiments/architectures/config.py:smoke"


def test_head_parameters_by_hand():
  cnn = get_config("quick").cnn.to_dict()
  # dense: flatten 4x4x40 = 640 -> 100 -> 10; GAP: 1x1 convs 40 -> 100 -> 10 at every position.
  assert head_parameters(cnn, "dense") == 640 * 100 + 100 + 100 * 10 + 10 == 65110
  assert head_parameters(cnn, "gap") == 40 * 100 + 100 + 100 * 10 + 10 == 5110


def test_the_gap_head_is_the_mean_of_per_position_scores():
  model = build_model("cnn", num_classes=10, overrides={"conv_features": (4,), "dense_widths": (), "head": "gap"})
  x = jnp.asarray(np.random.default_rng(0).normal(size=(2, 28, 28, 1)), jnp.float32)
  variables = model.init(jax.random.PRNGKey(0), x)
  p = variables["params"]
  features = model.apply(variables, x, capture_intermediates=lambda mdl, _: mdl.name == "logits")
  maps = features[1]["intermediates"]["logits"]["__call__"][0]  # [2, 12, 12, 10] before the mean
  np.testing.assert_allclose(features[0], maps.mean(axis=(1, 2)), rtol=1e-6)
  assert p["logits"]["kernel"].shape == (1, 1, 4, 10)


def test_claims_on_hand_made_numbers():
  accuracy = {"mnist": {"dense": [0.98, 0.981, 0.979], "gap": [0.90, 0.91, 0.905]}}
  head = claims.head_claims({"dense": 65110, "gap": 5110}, accuracy)
  assert [c.held for c in head] == [True, False]
  assert claims.downsampling_claim([0.98, 0.981, 0.979], [0.982, 0.98, 0.981], "mnist").held is True
  grads = {"without": [[1e-4, 1.0], [2e-4, 1.0]], "with": [[1e-2, 1.0], [2e-2, 1.0]]}
  assert claims.aux_claim(grads, 0.3, 1).held is True
  assert claims.fcn_claim({"max_abs_logit_difference": 1e-3, "examples": 5}).held is False


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("architectures")
  proc = run_module(STUDY, SMOKE, f"--workdir={workdir}", timeout=600, check=True)
  return workdir, proc.stdout


def test_smoke_run_writes_tables_figures_and_verdicts(smoke_run):
  workdir, stdout = smoke_run
  for name in ("table.md", "claims.json", "aux_gradients.png", "fcn_scores.png", "report.json"):
    assert (workdir / name).stat().st_size > 0
  table = (workdir / "table.md").read_text()
  assert "| bottleneck | 163,328 | 163,328 |" in table and "| naive | 387,072 | 387,072 |" in table
  verdicts = json.loads((workdir / "claims.json").read_text())
  assert len(verdicts) == 7 and stdout.count("CLAIM ") == 7
  # the deterministic ones hold at any size: Table 1, the bottleneck saving, the head sizes, the rewrite
  assert [verdicts[i]["held"] for i in (0, 1, 2, 6)] == [True] * 4
  fcn = json.loads((workdir / "cells" / "fcn" / "results.json").read_text())
  assert fcn["max_abs_logit_difference"] < 1e-4 and len(fcn["scores"]) == 15
