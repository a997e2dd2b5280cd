"""The char-RNN study: parameter matching, the repetitiveness measures, the claims on hand-made
records, and one smoke run of the study with its report."""
import json

import pytest

from conftest import run_module
from experiments.char_rnn import claims
from experiments.char_rnn.cells import character_entropy, distinct_ngram_fraction, hidden_sizes
from experiments.char_rnn.config import get_config
from jaxdl.models.char_rnn import parameter_count

STUDY = "experiments.char_rnn"
SMOKE = "--config=experiments/char_rnn/config.py:smoke"


def test_the_cells_are_matched_in_parameters():
  models = get_config("quick").models
  sizes = hidden_sizes(models, 65)
  assert sizes["lstm"] == models.reference_hidden
  counts = {c: parameter_count(65, c, h, models.layers, models.embed_size) for c, h in sizes.items()}
  # The nearest integer hidden size: within one hidden unit's worth of parameters of the LSTM's.
  for cell in ("tanh", "gru"):
    h = sizes[cell]
    step = parameter_count(65, cell, h + 1, 1, models.embed_size) - counts[cell]
    assert abs(counts[cell] - counts["lstm"]) <= step / 2 + 1, (cell, counts)
  assert sizes["tanh"] > sizes["gru"] > sizes["lstm"]  # fewer gates, more units


def test_repetitiveness_measures_by_hand():
  assert distinct_ngram_fraction("abababab", 2) == 2 / 7  # ab, ba
  assert distinct_ngram_fraction("abcdefgh", 4) == 1.0
  assert character_entropy("aaaa") == 0.0 and character_entropy("abab") == 1.0
  assert character_entropy("abcd") == 2.0


def test_claims_on_hand_made_numbers():
  held = claims.gated_claims({"tanh": [3.0, 3.1, 3.05], "lstm": [2.5, 2.55, 2.6], "gru": [3.0, 3.1, 3.05]},
                             {"tanh": 100, "lstm": 100, "gru": 101}, steps=10)
  assert [c.held for c in held] == [True, None]  # the GRU equals the tanh RNN: within the noise
  samples = [[{"temperature": t, "distinct": d} for t, d in zip((0.5, 1.0, 1.5), ds)]
             for ds in ((0.7, 0.95, 0.96), (0.72, 0.96, 0.95), (0.71, 0.97, 0.97))]  # 1.5 = 1.0 within the noise
  assert [c.held for c in claims.temperature_claims(samples, 4)] == [True, None]


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("char_rnn")
  proc = run_module(STUDY, SMOKE, f"--workdir={workdir}", timeout=600, check=True)
  return workdir, proc.stdout


def test_smoke_run_writes_tables_samples_figure_and_verdicts(smoke_run):
  workdir, stdout = smoke_run
  for name in ("table.md", "claims.json", "heldout_bits_per_char.png", "report.json"):
    assert (workdir / name).stat().st_size > 0
  table = (workdir / "table.md").read_text()
  assert "| LSTM | 16 |" in table and "nanoGPT README" in table and "| 1.5 |" in table
  verdicts = json.loads((workdir / "claims.json").read_text())
  assert len(verdicts) == 4 and stdout.count("CLAIM ") == 4
  measured = json.loads((workdir / "cells" / "char_lstm" / "measurements.json").read_text())
  assert measured["prompt"] == "ROMEO:\n" and len(measured["replicas"]) == 2
  assert all(len(s["text"]) == 24 for rep in measured["replicas"] for s in rep)
  assert not (workdir / "cells" / "char_tanh" / "measurements.json").exists()  # only the LSTM is sampled
  # the undefined running accuracy of per-position labels is not shown as "diverged"
  assert "acc diverged" not in stdout


def test_report_only_remakes_the_report(smoke_run):
  workdir, _ = smoke_run
  before = {name: (workdir / name).read_bytes() for name in ("table.md", "claims.json")}
  (workdir / "table.md").unlink()
  run_module(STUDY, "--report_only", f"--workdir={workdir}", check=True)
  assert {name: (workdir / name).read_bytes() for name in before} == before
