"""Tests of jaxdl.data: verified file loading, generated datasets, batching, augmentation."""
import contextlib
import functools
import gzip
import http.server
import itertools
import logging
import os
import random
import shutil
import struct
import threading
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.data import (DataFileError, batch_indices, dataset_names, epoch_permutation,
                        expand_by_shifts, gaussian_noise, load_dataset, random_shift,
                        steps_per_epoch)
from jaxdl.data import checksums, locate
from jaxdl.data.idx import parse_idx
from jaxdl.registry import RegistryError

MNIST_DIR = locate.SHARED_DATA_DIR / "mnist"
FASHION_DIR = locate.SYSTEM_DATASETS_DIR / "fashion-mnist"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"
TRAIN_LABELS_SHA = checksums.CHECKSUMS["mnist"][TRAIN_LABELS].sha256


@pytest.fixture
def no_standard_places(monkeypatch, tmp_path):
  """Points $JAXDL_DATA_DIR and every standard place at empty tmp directories."""
  monkeypatch.delenv(locate.ENV_VAR, raising=False)
  monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
  monkeypatch.setattr(locate, "SYSTEM_DATASETS_DIR", tmp_path / "system")
  monkeypatch.setattr(locate, "SHARED_DATA_DIR", tmp_path / "shared")
  return tmp_path


def _mnist_raw(filename: str) -> bytes:
  return gzip.decompress((MNIST_DIR / f"{filename}.gz").read_bytes())


def _flipped(content: bytes) -> bytes:
  i = len(content) // 2
  return content[:i] + bytes([content[i] ^ 0xFF]) + content[i + 1:]


# --- IDX ---------------------------------------------------------------------

def _idx_bytes(array: np.ndarray, code: int) -> bytes:
  header = struct.pack(f">BBBB{array.ndim}I", 0, 0, code, array.ndim, *array.shape)
  return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize("array,code", [
    (np.arange(6, dtype=np.uint8).reshape(2, 3), 0x08),
    (np.array([-5, 0, 7, 2**30], np.int32), 0x0C),
    (np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 2, 2), 0x0D),
])
def test_idx_round_trip(array, code):
  parsed = parse_idx(_idx_bytes(array, code))
  assert parsed.dtype == array.dtype and parsed.dtype.isnative
  np.testing.assert_array_equal(parsed, array)


@pytest.mark.parametrize("cut,message", [
    (slice(0, -1), "truncated"), (slice(0, 9), "truncated"), (slice(0, 3), "too short")])
def test_idx_truncated_is_a_data_file_error(cut, message):
  data = _idx_bytes(np.arange(12, dtype=np.uint8).reshape(3, 4), 0x08)
  with pytest.raises(DataFileError, match=message):
    parse_idx(data[cut], "f.idx")


def test_idx_rejects_bad_magic_and_trailing_bytes():
  data = _idx_bytes(np.arange(4, dtype=np.uint8), 0x08)
  with pytest.raises(DataFileError, match="not an IDX file"):
    parse_idx(b"\x01" + data[1:])
  with pytest.raises(DataFileError, match="trailing bytes"):
    parse_idx(data + b"\0")


# --- MNIST and Fashion-MNIST from files --------------------------------------

@pytest.fixture(scope="module")
def mnist():
  return load_dataset("mnist")


def test_mnist_loads(mnist):
  assert mnist.x_train.shape == (60000, 28, 28, 1) and mnist.x_test.shape == (10000, 28, 28, 1)
  assert mnist.y_train.shape == (60000,) and mnist.y_test.shape == (10000,)
  assert mnist.x_train.dtype == np.float32 and mnist.y_train.dtype == np.int32
  assert len(mnist.x_val) == 0 and mnist.input_shape == (28, 28, 1)
  np.testing.assert_array_equal(mnist.y_train[:10], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
  assert mnist.x_train.min() == 0.0 and mnist.x_train.max() == 1.0
  assert mnist.pixel_range == (0.0, 1.0) and mnist.num_classes == 10
  assert "60000 train" in mnist.describe()


def test_mnist_validation_split_is_the_last_examples(mnist):
  split = load_dataset("mnist", val_size=10000)
  assert (len(split.x_train), len(split.x_val), len(split.x_test)) == (50000, 10000, 10000)
  np.testing.assert_array_equal(split.x_val, mnist.x_train[50000:])
  np.testing.assert_array_equal(split.y_val, mnist.y_train[50000:])
  np.testing.assert_array_equal(split.x_train, mnist.x_train[:50000])


def test_val_size_must_leave_training_data():
  with pytest.raises(ValueError, match="512 training examples"):
    load_dataset("synthetic", val_size=512)


def _write(path: Path, content: bytes, compress: bool) -> None:
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_bytes(gzip.compress(content) if compress else content)


@pytest.mark.parametrize("damage", ["flipped", "truncated_content", "truncated_gz", "flipped_raw"])
def test_corrupted_file_is_refused(damage, tmp_path, monkeypatch):
  monkeypatch.delenv(locate.ENV_VAR, raising=False)
  content = _mnist_raw(TRAIN_LABELS)
  if damage == "flipped":  # <data_dir>/<file>.gz
    path = tmp_path / f"{TRAIN_LABELS}.gz"
    _write(path, _flipped(content), compress=True)
  elif damage == "truncated_content":  # <data_dir>/<folder>/<file>.gz
    path = tmp_path / "mnist" / f"{TRAIN_LABELS}.gz"
    _write(path, content[:-100], compress=True)
  elif damage == "truncated_gz":
    path = tmp_path / f"{TRAIN_LABELS}.gz"
    _write(path, (MNIST_DIR / f"{TRAIN_LABELS}.gz").read_bytes()[:1000], compress=False)
  else:  # uncompressed <data_dir>/<file>
    path = tmp_path / TRAIN_LABELS
    _write(path, _flipped(content), compress=False)
  with pytest.raises(DataFileError) as error:
    load_dataset("mnist", data_dir=str(tmp_path))
  message = str(error.value)
  assert str(path) in message and TRAIN_LABELS_SHA in message and "60008 bytes" in message
  assert f"\n  {tmp_path}" in message  # a searched place
  if damage == "truncated_content":
    assert "59908 bytes" in message  # the actual size


def test_missing_file_is_reported(no_standard_places, monkeypatch):
  data_dir, env_dir = no_standard_places / "data", no_standard_places / "env"
  data_dir.mkdir()
  env_dir.mkdir()
  monkeypatch.setenv(locate.ENV_VAR, str(env_dir))
  # An explicit data_dir is the only place searched (tests/test_inputs.py checks its message).
  with pytest.raises(DataFileError, match=f"data_dir {data_dir} lacks 4 of the 4 mnist files"):
    load_dataset("mnist", data_dir=str(data_dir))
  with pytest.raises(DataFileError) as error:
    load_dataset("mnist")
  message = str(error.value)
  assert TRAIN_LABELS in message and TRAIN_LABELS_SHA in message
  for place in locate.search_dirs("mnist", None):
    assert f"\n  {place}" in message
  assert str(env_dir) in message and "cache" in message
  assert "data_dir" in message and "download=True" in message
  with pytest.raises(DataFileError, match="apt-get install -y dataset-fashion-mnist"):
    load_dataset("fashion_mnist")


def test_look_up_order_data_dir_then_env(no_standard_places, monkeypatch):
  good, bad = no_standard_places / "good", no_standard_places / "bad"
  content = _mnist_raw(TEST_LABELS)
  _write(good / "mnist" / TEST_LABELS, content, compress=False)
  _write(bad / f"{TEST_LABELS}.gz", _flipped(content), compress=True)
  monkeypatch.setenv(locate.ENV_VAR, str(bad))
  assert locate.read_data_file("mnist", TEST_LABELS, locate.DataSource(str(good))) == content
  # The env copy comes next, is bad, and is reported, not skipped for the shared copy.
  with pytest.raises(DataFileError, match="truncated or altered"):
    locate.read_data_file("mnist", TEST_LABELS, locate.DataSource())


def test_fashion_mnist_loads():
  if not FASHION_DIR.is_dir():
    pytest.skip(f"{FASHION_DIR} missing: apt-get install -y dataset-fashion-mnist")
  fashion = load_dataset("fashion_mnist", val_size=10000)
  assert fashion.x_train.shape == (50000, 28, 28, 1) and fashion.x_test.shape == (10000, 28, 28, 1)
  np.testing.assert_array_equal(fashion.y_train[:10], [9, 0, 0, 3, 0, 2, 7, 2, 5, 5])
  assert 0.0 <= fashion.x_train.min() and fashion.x_train.max() <= 1.0


# --- Download, from local servers only ---------------------------------------

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
  def log_message(self, *args):
    pass


@contextlib.contextmanager
def _serve(directory: Path):
  """Serves `directory` on 127.0.0.1 in a thread; yields the base URL."""
  server = http.server.ThreadingHTTPServer(
      ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(directory)))
  thread = threading.Thread(target=server.serve_forever, daemon=True)
  thread.start()
  try:
    yield f"http://127.0.0.1:{server.server_port}/"
  finally:
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def mirrors(tmp_path, monkeypatch):
  """(good, bad, missing) base URLs: real label files, a corrupted one, and 404."""
  for var in ("no_proxy", "NO_PROXY"):
    monkeypatch.setenv(var, "127.0.0.1,localhost")
  good, bad = tmp_path / "good", tmp_path / "bad"
  good.mkdir()
  for name in (TRAIN_LABELS, TEST_LABELS):
    shutil.copy(MNIST_DIR / f"{name}.gz", good)
  _write(bad / f"{TRAIN_LABELS}.gz", _flipped(_mnist_raw(TRAIN_LABELS)), compress=True)
  with _serve(good) as good_url, _serve(bad) as bad_url:
    yield good_url, bad_url, good_url + "missing/"


def test_download_skips_bad_mirrors(no_standard_places, mirrors, caplog):
  good, bad, missing = mirrors
  source = locate.DataSource(download=True, mirrors=[bad, missing, good])
  with caplog.at_level(logging.WARNING, logger="jaxdl.data.download"):
    content = locate.read_data_file("mnist", TRAIN_LABELS, source)
  assert content == _mnist_raw(TRAIN_LABELS)
  warnings = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
  assert bad in warnings and "expected sha256" in warnings and "404" in warnings
  cache = no_standard_places / "cache" / "jaxdl" / "mnist"
  assert os.listdir(cache) == [f"{TRAIN_LABELS}.gz"]  # no temporary file left
  # Now found in the cache without downloading.
  assert locate.read_data_file("mnist", TRAIN_LABELS, locate.DataSource()) == content


def test_download_all_mirrors_failing(no_standard_places, mirrors):
  _, bad, missing = mirrors
  with pytest.raises(DataFileError) as error:
    locate.read_data_file("mnist", TRAIN_LABELS, locate.DataSource(download=True,
                                                                   mirrors=[bad, missing]))
  message = str(error.value)
  assert f"{bad}{TRAIN_LABELS}.gz: content has sha256" in message
  assert f"{missing}{TRAIN_LABELS}.gz: HTTPError" in message
  assert TRAIN_LABELS_SHA in message and str(no_standard_places / "cache") in message
  assert not (no_standard_places / "cache").exists()


def test_load_dataset_downloads_into_data_dir(no_standard_places, mirrors):
  data_dir = no_standard_places / "data"
  (data_dir / "mnist").mkdir(parents=True)
  for name in ("train-images-idx3-ubyte", "t10k-images-idx3-ubyte"):
    (data_dir / "mnist" / f"{name}.gz").symlink_to(MNIST_DIR / f"{name}.gz")
  mnist = load_dataset("mnist", data_dir=str(data_dir), download=True, mirrors=[mirrors[0]])
  np.testing.assert_array_equal(mnist.y_train[:10], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
  assert (data_dir / "mnist" / f"{TRAIN_LABELS}.gz").is_file()
  assert (data_dir / "mnist" / f"{TEST_LABELS}.gz").is_file()


# --- Generated datasets and the registry -------------------------------------

@pytest.fixture(scope="module")
def mnist1d():
  return load_dataset("mnist1d")


def test_mnist1d_shapes_and_balance(mnist1d):
  assert mnist1d.x_train.shape == (4000, 40, 1) and mnist1d.x_test.shape == (1000, 40, 1)
  assert mnist1d.x_train.dtype == np.float32 and mnist1d.y_train.dtype == np.int32
  assert mnist1d.pixel_range is None and mnist1d.num_classes == 10
  counts = np.bincount(np.concatenate([mnist1d.y_train, mnist1d.y_test]), minlength=10)
  np.testing.assert_array_equal(counts, 500)
  assert np.all(np.abs(np.bincount(mnist1d.y_train, minlength=10) - 400) < 60)


def test_mnist1d_is_deterministic_and_keeps_global_rng():
  np.random.seed(123)
  random.seed(123)
  np_state, py_state = np.random.get_state(), random.getstate()
  a = load_dataset("mnist1d", num_samples=500)
  b = load_dataset("mnist1d", num_samples=500)
  after = np.random.get_state()
  assert all(np.array_equal(s, t) for s, t in zip(np_state, after))
  assert random.getstate() == py_state
  np.testing.assert_array_equal(a.x_train, b.x_train)
  np.testing.assert_array_equal(a.y_test, b.y_test)
  other = load_dataset("mnist1d", num_samples=500, seed=7)
  assert not np.array_equal(a.x_train, other.x_train)


def test_mnist1d_shuffle_seq_permutes_positions_alike():
  plain = load_dataset("mnist1d", num_samples=500).x_train[..., 0]
  shuffled = load_dataset("mnist1d", num_samples=500, shuffle_seq=True).x_train[..., 0]
  assert not np.allclose(plain, shuffled)
  # match[j, i]: shuffled position j holds original position i in every example.
  match = np.all(np.isclose(shuffled[:, :, None], plain[:, None, :], atol=1e-5), axis=0)
  np.testing.assert_array_equal(match.sum(axis=1), 1)
  assert sorted(match.argmax(axis=1)) == list(range(40))


def test_synthetic_is_learnable_and_deterministic():
  ds = load_dataset("synthetic", n_train=200, n_test=100, shape=(8, 8, 1), num_classes=4)
  assert ds.x_train.shape == (200, 8, 8, 1) and ds.x_test.shape == (100, 8, 8, 1)
  assert ds.x_train.min() >= 0 and ds.x_train.max() <= 1 and ds.pixel_range == (0.0, 1.0)
  means = np.stack([ds.x_train[ds.y_train == c].mean(0) for c in range(4)])
  nearest = np.argmin(((ds.x_test[:, None] - means[None]) ** 2).sum((2, 3, 4)), axis=1)
  assert np.mean(nearest == ds.y_test) > 0.9
  again = load_dataset("synthetic", n_train=200, n_test=100, shape=(8, 8, 1), num_classes=4)
  np.testing.assert_array_equal(ds.x_train, again.x_train)


def test_unknown_name_and_option_list_the_valid_ones():
  assert set(dataset_names()) >= {"mnist", "fashion_mnist", "mnist1d", "synthetic"}
  with pytest.raises(RegistryError, match="fashion_mnist, mnist, mnist1d, synthetic"):
    load_dataset("mnsit")
  with pytest.raises(RegistryError, match="num_samples, seed, shuffle_seq, train_split"):
    load_dataset("mnist1d", num_sample=100)


# --- Batching ------------------------------------------------------------------

def test_epoch_permutation_is_a_function_of_key_and_epoch():
  key = jax.random.key(0)
  perm = epoch_permutation(key, 3, 100)
  assert perm.dtype == jnp.int32 and perm.shape == (100,)
  np.testing.assert_array_equal(np.sort(perm), np.arange(100))
  np.testing.assert_array_equal(perm, epoch_permutation(key, 3, 100))
  assert not np.array_equal(perm, epoch_permutation(key, 4, 100))
  assert not np.array_equal(perm, epoch_permutation(jax.random.key(1), 3, 100))
  traced = jax.jit(epoch_permutation, static_argnums=2)(key, jnp.int32(3), 100)
  np.testing.assert_array_equal(traced, perm)


def test_epoch_permutation_vmaps_over_keys():
  keys = jax.random.split(jax.random.key(0), 4)
  perms = jax.jit(jax.vmap(lambda k: epoch_permutation(k, 2, 50)))(keys)
  for k, p in zip(keys, perms):
    np.testing.assert_array_equal(p, epoch_permutation(k, 2, 50))
  assert not np.array_equal(perms[0], perms[1])


def test_batch_indices_slices_the_permutation():
  perm = epoch_permutation(jax.random.key(0), 0, 103)
  assert steps_per_epoch(103, 10) == 10
  take = jax.jit(batch_indices, static_argnums=2)
  batches = [take(perm, jnp.int32(s), 10) for s in range(10)]
  for s, batch in enumerate(batches):
    assert batch.dtype == jnp.int32
    np.testing.assert_array_equal(batch, perm[10 * s:10 * s + 10])
  assert len(set(np.concatenate(batches).tolist())) == 100
  with pytest.raises(ValueError):
    steps_per_epoch(5, 10)


# --- Augmentation ----------------------------------------------------------------

def _shifted(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
  """Reference: out[h, w] = image[h - dy, w - dx], zero outside. image [H, W, C]."""
  out = np.roll(image, (dy, dx), axis=(0, 1))
  if dy > 0:
    out[:dy] = 0
  elif dy < 0:
    out[dy:] = 0
  if dx > 0:
    out[:, :dx] = 0
  elif dx < 0:
    out[:, dx:] = 0
  return out


def _matching_shifts(x: np.ndarray, out: np.ndarray, k: int) -> list[tuple[int, int]]:
  """For each example, the one shift in [-k, k]^2 that maps x to out."""
  found = []
  for image, result in zip(x, out):
    matches = [(dy, dx) for dy, dx in itertools.product(range(-k, k + 1), repeat=2)
               if np.array_equal(result, _shifted(image, dy, dx))]
    assert len(matches) == 1, matches
    found.append(matches[0])
  return found


def test_random_shift():
  x = np.asarray(jax.random.uniform(jax.random.key(1), (64, 6, 7, 2), minval=0.1))
  assert random_shift(jax.random.key(0), x, 0) is x
  out = np.asarray(random_shift(jax.random.key(0), x, 1))
  assert set(_matching_shifts(x, out, 1)) == set(itertools.product((-1, 0, 1), repeat=2))
  # Under jit and vmap over keys (e.g. one key per seed).
  keys = jax.random.split(jax.random.key(2), 3)
  outs = np.asarray(jax.jit(jax.vmap(lambda key: random_shift(key, x[:8], 2)))(keys))
  for o in outs:
    _matching_shifts(x[:8], o, 2)
  assert not np.array_equal(outs[0], outs[1])


def test_gaussian_noise_std():
  x = jnp.ones((512, 512))
  noisy = jax.jit(gaussian_noise)(jax.random.key(0), x, jnp.float32(0.3))
  noise = np.asarray(noisy - x)
  assert noisy.dtype == x.dtype
  assert abs(noise.mean()) < 0.003 and abs(noise.std() - 0.3) < 0.003


def test_expand_by_shifts():
  x = np.arange(1, 2 * 3 * 4 + 1, dtype=np.float32).reshape(2, 3, 4, 1)
  y = np.array([7, 8], np.int32)
  x5, y5 = expand_by_shifts(x, y)
  assert x5.shape == (10, 3, 4, 1) and x5.dtype == x.dtype
  np.testing.assert_array_equal(y5, [7, 8] * 5)
  expected = [(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)]  # original, up, down, left, right
  for block, (dy, dx) in enumerate(expected):
    for i in range(2):
      np.testing.assert_array_equal(x5[2 * block + i], _shifted(x[i], dy, dx))
