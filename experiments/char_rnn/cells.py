"""The study's cells: one TrainCell per recurrent cell type (tanh RNN, LSTM, GRU) at equal parameter
counts, their replicas the seeds; the LSTM's measurement samples text at each temperature."""
from __future__ import annotations

import functools
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from ml_collections import ConfigDict

from experiments.configs import seed_range, train_config
from jaxdl.data import text as shakespeare
from jaxdl.models.char_rnn import parameter_count, sample
from jaxdl.study import Cell, TrainCell
from jaxdl.train import RunResult
from jaxdl.train.dense_prediction import DensePredictionProgram


@functools.cache
def vocabulary() -> str:
  """Tiny Shakespeare's characters, sorted: character i has id i."""
  return shakespeare.vocabulary(shakespeare.read_text())


def vocab_size() -> int:
  return len(vocabulary())


def hidden_for_budget(vocab: int, cell: str, budget: int, layers: int, embed_size: int) -> int:
  """The hidden size whose CharRNN parameter count is nearest `budget`."""
  return min(range(1, 4097), key=lambda h: abs(parameter_count(vocab, cell, h, layers, embed_size) - budget))


def hidden_sizes(models: ConfigDict, vocab: int) -> dict[str, int]:
  """Per cell type, its hidden size: the reference cell's given one, the others' matched in parameters."""
  budget = parameter_count(vocab, models.reference_cell, models.reference_hidden, models.layers, models.embed_size)
  return {c: models.reference_hidden if c == models.reference_cell else
          hidden_for_budget(vocab, c, budget, models.layers, models.embed_size) for c in models.cells}


def distinct_ngram_fraction(text: str, n: int) -> float:
  """Distinct n-grams / all n-grams of `text`: low for repetitive text, near 1 for random text."""
  grams = [text[i:i + n] for i in range(len(text) - n + 1)]
  return len(set(grams)) / max(len(grams), 1)


def character_entropy(text: str) -> float:
  """The entropy (bits) of the characters' frequencies in `text`."""
  _, counts = np.unique(list(text), return_counts=True)
  p = counts / counts.sum()
  return float(-(p * np.log2(p)).sum())


def measure_samples(result: RunResult, prompt: str, length: int, temperatures: Sequence[float],
                    ngram: int) -> dict[str, Any]:
  """Per replica and temperature: a sample of `length` characters after `prompt`, its distinct-n-gram
  fraction and its character entropy (the generated part only)."""
  vocab = vocabulary()
  ids = jnp.asarray(shakespeare.encode(prompt, vocab))
  out = []
  for k in range(len(result.replicas)):
    model, variables = result.model(k), result.variables(k)
    per_t = []
    for i, t in enumerate(temperatures):
      drawn = sample(model, variables, ids, length, t, jax.random.PRNGKey(1000 * k + i))
      generated = shakespeare.decode(np.asarray(drawn)[len(prompt):], vocab)
      per_t.append({"temperature": t, "text": generated, "distinct": distinct_ngram_fraction(generated, ngram),
                    "entropy_bits": character_entropy(generated)})
    out.append(per_t)
  return {"prompt": prompt, "ngram": ngram, "replicas": out}


def cell_name(cell: str) -> str:
  return f"char_{cell}"


def cells(config: ConfigDict) -> list[Cell]:
  """char_tanh, char_lstm, char_gru."""
  seeds = seed_range(config)
  sizes = hidden_sizes(config.models, vocab_size())
  s = config.sampling
  measure = functools.partial(measure_samples, prompt=s.prompt, length=s.length,
                              temperatures=tuple(s.temperatures), ngram=s.ngram)
  out: list[Cell] = []
  for cell in config.models.cells:
    cfg = train_config(config.train, model="char_rnn", seeds=seeds, loss="softmax_cross_entropy",
                       model_options={"cell": cell, "hidden_size": sizes[cell], "layers": config.models.layers,
                                      "embed_size": config.models.embed_size})
    out.append(TrainCell(cell_name(cell), cfg, program_factory=DensePredictionProgram,
                         measure=measure if cell == config.models.reference_cell else None))
  return out
