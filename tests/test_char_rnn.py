"""Tiny Shakespeare (checksum, vocabulary, split, windows), the character-level RNN (gradients through
time against finite differences, parameter counts, sampling), and a short training run."""
from __future__ import annotations

import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.data import DataFileError, load_dataset
from jaxdl.data import text as shakespeare
from jaxdl.models.char_rnn import CharRNN, parameter_count, sample
from jaxdl.optim import OptimConfig
from jaxdl.train import TrainConfig, train_and_evaluate
from jaxdl.train.dense_prediction import DensePredictionProgram

TEXT_BYTES = 1115394  # the checksum table's size (sha256 checked by the loader)


def test_tinyshakespeare_is_verified_split_by_position_and_cut_into_windows():
  text = shakespeare.read_text()
  assert len(text) == TEXT_BYTES and text.startswith("First Citizen:")
  vocab = shakespeare.vocabulary(text)
  assert len(vocab) == 65 and vocab == "".join(sorted(vocab)) and vocab[0] == "\n"
  ids = shakespeare.encode(text, vocab)
  assert shakespeare.decode(ids[:14], vocab) == "First Citizen:"
  train, held_out = shakespeare.split_by_position(ids)
  assert len(train) == int(0.9 * TEXT_BYTES) and len(train) + len(held_out) == TEXT_BYTES

  data = load_dataset("tinyshakespeare", seq_len=16, n_train=64, n_test=8, seed=3)
  assert data.x_train.shape == (64, 16, 1) and data.y_train.shape == (64, 16) and data.num_classes == 65
  # Labels are the inputs shifted by one character; every training window lies in the first 90%.
  np.testing.assert_array_equal(data.x_train[:, 1:, 0].astype(np.int32), data.y_train[:, :-1])
  starts = np.random.default_rng(3).integers(0, len(train) - 16, 64)
  for i, s in enumerate(starts):
    assert shakespeare.decode(data.x_train[i], vocab) + vocab[data.y_train[i, -1]] == text[s:s + 17]
    assert s + 17 <= len(train)
  # Held-out windows tile the last 10% from its first character.
  cut = len(train)
  assert shakespeare.decode(data.x_test[0], vocab) == text[cut:cut + 16]
  assert shakespeare.decode(data.x_test[1], vocab) == text[cut + 16:cut + 32]


def test_a_corrupted_text_file_is_refused(tmp_path):
  shutil.copy(shakespeare.find_data_file(shakespeare.FOLDER, shakespeare.FILE, None), tmp_path / "input.txt")
  with open(tmp_path / "input.txt", "r+b") as f:
    f.seek(1000)
    f.write(b"#")
  with pytest.raises(DataFileError, match="sha256"):
    load_dataset("tinyshakespeare", data_dir=str(tmp_path), n_train=4, n_test=2)


@pytest.mark.parametrize("cell", ["tanh", "lstm", "gru"])
def test_gradients_through_time_match_finite_differences(cell):
  """<grad L, v> from back-propagation through 8 steps of 2 layers against the central difference
  (L(p + e v) - L(p - e v)) / 2e, along random directions v of all parameters and of the first layer's
  recurrent kernels alone (the path through time)."""
  model = CharRNN(num_classes=5, cell=cell, hidden_size=4, layers=2, embed_size=3)
  x = jnp.asarray(np.random.default_rng(0).integers(0, 5, (2, 8, 1)), jnp.float32)
  y = jnp.asarray(np.random.default_rng(1).integers(0, 5, (2, 8)), jnp.int32)
  params = model.init(jax.random.PRNGKey(0), x)["params"]

  def loss(p):
    logits = model.apply({"params": p}, x)
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[..., None], -1))

  grad = jax.grad(loss)(params)
  rng = np.random.default_rng(2)
  leaves, tree = jax.tree_util.tree_flatten(params)
  names = [jax.tree_util.keystr(path) for path, _ in jax.tree_util.tree_flatten_with_path(params)[0]]
  for only_recurrent in (False, True):
    v = [jnp.asarray(rng.normal(size=l.shape), jnp.float32)
         if not only_recurrent or "layer0_recurrent_kernel" in name else jnp.zeros_like(l)
         for l, name in zip(leaves, names)]
    direction = jax.tree_util.tree_unflatten(tree, v)
    eps = 1e-3
    shifted = lambda s: jax.tree_util.tree_map(lambda p, d: p + s * eps * d, params, direction)  # noqa: E731
    numeric = (loss(shifted(1.0)) - loss(shifted(-1.0))) / (2 * eps)
    analytic = sum(jnp.sum(g * d) for g, d in zip(jax.tree_util.tree_leaves(grad), v))
    assert abs(float(analytic)) > 1e-4  # the check is not vacuous
    assert float(numeric) == pytest.approx(float(analytic), rel=2e-2, abs=1e-4), (cell, only_recurrent)


@pytest.mark.parametrize("cell,gates", [("tanh", 1), ("lstm", 4), ("gru", 3)])
def test_parameter_count_by_hand(cell, gates):
  model = CharRNN(num_classes=65, cell=cell, hidden_size=10, layers=2, embed_size=8)
  params = model.init(jax.random.PRNGKey(0), jnp.zeros((1, 3, 1)))["params"]
  counted = sum(int(np.prod(p.shape)) for p in jax.tree_util.tree_leaves(params))
  by_hand = 65 * 8 + (8 * gates * 10 + gates * 100 + gates * 10) + (10 * gates * 10 + gates * 100 + gates * 10) \
      + 10 * 65 + 65
  assert counted == parameter_count(65, cell, 10, layers=2, embed_size=8) == by_hand


def test_sampling_keeps_the_prompt_and_a_cold_temperature_is_greedy():
  model = CharRNN(num_classes=7, cell="gru", hidden_size=8, embed_size=4)
  variables = model.init(jax.random.PRNGKey(0), jnp.zeros((1, 4, 1)))
  prompt = jnp.asarray([1, 2, 3])
  cold = sample(model, variables, prompt, 6, 1e-4, jax.random.PRNGKey(5))
  assert cold.shape == (9,) and list(cold[:3]) == [1, 2, 3]
  greedy = list(prompt)
  for _ in range(6):
    logits = model.apply(variables, jnp.asarray(greedy, jnp.float32)[None, :, None])[0, -1]
    greedy.append(int(jnp.argmax(logits)))
  assert list(np.asarray(cold)) == greedy
  with pytest.raises(ValueError, match="temperature"):
    sample(model, variables, prompt, 2, 0.0, jax.random.PRNGKey(0))


def test_a_short_run_learns_more_than_the_uniform_guess():
  data = load_dataset("tinyshakespeare", seq_len=32, n_train=512, n_test=16)
  cfg = TrainConfig(dataset="tinyshakespeare", model="char_rnn",
                    model_options={"cell": "lstm", "hidden_size": 32, "embed_size": 16},
                    optim=OptimConfig(name="adam", lr=1e-2), batch_size=32, epochs=3, seeds=(0,))
  result = train_and_evaluate(cfg, None, data=data, echo=lambda s: None,
                              program_factory=DensePredictionProgram)
  test_loss = result.history[-1]["test_loss"][0]
  # Uniform over 65 characters: ln 65 = 4.17 nats. 48 steps of Adam learn at least the frequent letters.
  assert np.isfinite(test_loss) and test_loss < np.log(65) - 0.8, result.history[-1]
