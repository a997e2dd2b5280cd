"""Tiny Shakespeare as a character-level language-modelling dataset (Karpathy's char-rnn data).

The text (1,115,394 characters, checksum-verified) is split by position: the first 90% trains,
the last 10% is held out (char-rnn's validation split, here the `test` split, since it is what a
run reports as held-out). The vocabulary is every character of the whole text, sorted (65 of
them). An example is a window of `seq_len` + 1 consecutive characters: the input is its first
`seq_len` character ids, the labels the `seq_len` characters that follow each one. Training
windows start at random positions of the training part (`n_train` of them, drawn with `seed`);
held-out windows tile the held-out part without overlap (all of it up to `n_test`, so the
held-out loss is over a fixed text, not a sample).

Inputs are float32 [N, seq_len, 1] (the ids, which the model embeds) and labels int32
[N, seq_len]: a `DenseDataset`, trained with `DensePredictionProgram` (a loss per position).
"""
from __future__ import annotations

import numpy as np

from jaxdl.data.dataset import DATASETS, DenseDataset
from jaxdl.data.locate import DataSource, find_data_file, read_data_file
from jaxdl.errors import UserError

FOLDER, FILE = "tinyshakespeare", "input.txt"
TRAIN_FRACTION = 0.9


def read_text(source: DataSource | None = None) -> str:
  """The verified text of Tiny Shakespeare."""
  return read_data_file(FOLDER, FILE, source or DataSource()).decode("utf-8")


def vocabulary(text: str) -> str:
  """The sorted distinct characters of `text`: character i has id i."""
  return "".join(sorted(set(text)))


def encode(text: str, vocab: str) -> np.ndarray:
  index = {c: i for i, c in enumerate(vocab)}
  try:
    return np.fromiter((index[c] for c in text), np.int32, len(text))
  except KeyError as e:
    raise UserError(f"character {e.args[0]!r} is not in the vocabulary ({len(vocab)} characters)") from None


def decode(ids: np.ndarray, vocab: str) -> str:
  return "".join(vocab[int(i)] for i in np.asarray(ids).reshape(-1))


def split_by_position(ids: np.ndarray, train_fraction: float = TRAIN_FRACTION) -> tuple[np.ndarray, np.ndarray]:
  """(the first train_fraction of the ids, the rest)."""
  cut = int(len(ids) * train_fraction)
  return ids[:cut], ids[cut:]


def windows(ids: np.ndarray, starts: np.ndarray, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
  """Inputs float32 [N, seq_len, 1] and next-character labels int32 [N, seq_len] of the windows at `starts`."""
  idx = starts[:, None] + np.arange(seq_len + 1)[None, :]
  chars = ids[idx]
  return chars[:, :-1, None].astype(np.float32), chars[:, 1:].astype(np.int32)


@DATASETS.register("tinyshakespeare", seq_len=100, n_train=20000, n_test=1000, seed=0)
def tinyshakespeare(source: DataSource, *, seq_len: int, n_train: int, n_test: int, seed: int) -> DenseDataset:
  """Tiny Shakespeare, characters: n_train random windows of the first 90%, n_test of the last 10%."""
  if seq_len < 1 or n_train < 1 or n_test < 1:
    raise UserError(f"tinyshakespeare: seq_len, n_train and n_test must be >= 1 (got {seq_len}, {n_train}, "
                    f"{n_test})")
  text = read_text(source)
  vocab = vocabulary(text)
  train_ids, held_out = split_by_position(encode(text, vocab))
  tiles = (len(held_out) - 1) // seq_len
  if n_test > tiles:
    raise UserError(f"tinyshakespeare: the held-out {len(held_out)} characters hold {tiles} windows of "
                    f"{seq_len} + 1; n_test={n_test} is too many")
  rng = np.random.default_rng(seed)
  x_train, y_train = windows(train_ids, rng.integers(0, len(train_ids) - seq_len, n_train), seq_len)
  x_test, y_test = windows(held_out, np.arange(n_test) * seq_len, seq_len)
  empty_x, empty_y = np.zeros((0, seq_len, 1), np.float32), np.zeros((0, seq_len), np.int32)
  path = find_data_file(FOLDER, FILE, source.data_dir)
  return DenseDataset(name="tinyshakespeare", x_train=x_train, y_train=y_train, x_val=empty_x, y_val=empty_y,
                      x_test=x_test, y_test=y_test, num_classes=len(vocab), pixel_range=None,
                      files={FILE: str(path.resolve())} if path else {})
