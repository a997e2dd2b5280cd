"""The engine pieces of the dilated convolutions study: the bidirectional GRU, the dense-digits task,
the dense-prediction program and its mean IoU, the context segmenter."""
import jax
import numpy as np
import pytest

from jaxdl.data import Dataset
from jaxdl.models import build_model
from jaxdl.data.dataset import DenseDataset
from jaxdl.tasks.dense_digits import NUM_CLASSES, dense_digits_dataset, shrink
from jaxdl.train import TrainConfig, train_and_evaluate
from jaxdl.train.dense_prediction import DensePredictionProgram, confusion_matrix, mean_iou, segmentation_scores


def _states(model, variables, x):
  """The birnn's hidden states [B, T, 2H] (its tagged layer 0 is their flattening)."""
  _, state = model.apply(variables, x, mutable=["intermediates"])
  return state["intermediates"]["pre0"][0].reshape(x.shape[0], x.shape[1], -1)


def test_birnn_reads_forward_and_backward_and_flattens_every_step():
  model = build_model("birnn", 10, {"cell": "gru", "hidden_size": 6})
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 40, 1))
  variables = model.init(jax.random.PRNGKey(1), x)
  assert model.apply(variables, x).shape == (2, 10)
  assert variables["params"]["output"]["kernel"].shape == (40 * 2 * 6, 10)  # Greydanus's Linear(480 -> 10)
  h = _states(model, variables, x)
  forward, backward = slice(0, 6), slice(6, 12)
  last = _states(model, variables, x.at[:, -1].add(1.0))
  first = _states(model, variables, x.at[:, 0].add(1.0))
  # A forward state sees only the steps up to its own, a backward state only those from its own on.
  np.testing.assert_allclose(last[:, :-1, forward], h[:, :-1, forward], rtol=0, atol=1e-7)
  np.testing.assert_allclose(first[:, 1:, backward], h[:, 1:, backward], rtol=0, atol=1e-7)
  for changed, t in ((last, -1), (first, 0)):
    assert not np.allclose(changed[:, t, forward], h[:, t, forward])
    assert not np.allclose(changed[:, t, backward], h[:, t, backward])


def _digits_source(n=40):
  """Fake 28x28 digits: class k is a 12x12 block of intensity 0.5 + k / 20, so a pixel's value names
  its digit; blocks 2-pixel aligned, so shrinking to 14 px keeps the values."""
  labels = (np.arange(n) % 10).astype(np.int32)
  images = np.zeros((n, 28, 28, 1), np.float32)
  for i, k in enumerate(labels):
    images[i, 8:20, 8:20] = 0.5 + k / 20
  empty = np.zeros((0, 28, 28, 1), np.float32)
  return Dataset("fake_digits", images, labels, empty, np.zeros((0,), np.int32), images[:20], labels[:20],
                 10, (0.0, 1.0))


def test_dense_digits_labels_align_with_the_digits_pixels():
  data = dense_digits_dataset(_digits_source(), 16, 8, canvas=32, digits=3, digit_size=14, seed=0)
  assert data.x_train.shape == (16, 32, 32, 1) and data.y_train.shape == (16, 32, 32)
  assert data.x_test.shape == (8, 32, 32, 1) and data.num_classes == NUM_CLASSES
  for x, y in ((data.x_train[..., 0], data.y_train), (data.x_test[..., 0], data.y_test)):
    fg = y > 0
    np.testing.assert_array_equal(fg, x >= 0.5)  # every bright pixel is labelled, nothing else
    np.testing.assert_allclose(x[fg], 0.5 + (y[fg] - 1) / 20, atol=1e-6)  # with its own digit's class
    # three separate digits of 6x6 px (the 12x12 block shrunk) on every canvas
    assert (fg.reshape(len(y), -1).sum(axis=1) == 3 * 36).all()


def test_dense_digits_is_a_function_of_the_seed():
  a, b = (dense_digits_dataset(_digits_source(), 8, 4, seed=3) for _ in range(2))
  c = dense_digits_dataset(_digits_source(), 8, 4, seed=4)
  np.testing.assert_array_equal(a.x_train, b.x_train)
  np.testing.assert_array_equal(a.y_test, b.y_test)
  assert not np.array_equal(a.y_train, c.y_train)


def test_dense_digits_rejects_what_does_not_fit():
  with pytest.raises(Exception, match="do not fit"):
    dense_digits_dataset(_digits_source(), 4, 4, canvas=20, digits=3, digit_size=14)
  with pytest.raises(Exception, match="divide"):
    shrink(np.zeros((1, 28, 28)), 12)
  with pytest.raises(ValueError, match="labels"):
    DenseDataset("bad", np.zeros((2, 4, 4, 1), np.float32), np.zeros((2, 4, 3), np.int32),
                 np.zeros((0, 4, 4, 1), np.float32), np.zeros((0, 4, 4), np.int32),
                 np.zeros((1, 4, 4, 1), np.float32), np.zeros((1, 4, 4), np.int32), 11, None)


def test_mean_iou_of_a_known_confusion():
  labels = np.array([0, 0, 1, 1, 2, 2])
  predicted = np.array([0, 1, 1, 1, 2, 0])
  confusion = confusion_matrix(predicted, labels, 3)
  np.testing.assert_array_equal(confusion, [[1, 1, 0], [0, 2, 0], [1, 0, 1]])
  miou, iou = mean_iou(confusion)
  np.testing.assert_allclose(iou, [1 / 3, 2 / 3, 1 / 2])
  assert miou == pytest.approx((1 / 3 + 2 / 3 + 1 / 2) / 3)


def test_identity_initialized_segmenter_module_passes_the_front_end_scores():
  model = build_model("context_segmenter", 11, {"front_widths": (4,), "context_dilations": (1, 2)})
  x = jax.random.uniform(jax.random.PRNGKey(0), (2, 16, 16, 1))
  variables = model.init(jax.random.PRNGKey(1), x)
  logits, state = model.apply(variables, x, mutable=["intermediates"])
  assert logits.shape == (2, 16, 16, 11)
  tags = state["intermediates"]
  scores = tags["pre1"][0]  # the front end's 1x1 class scores (8x8 after pooling)
  np.testing.assert_allclose(tags["act4"][0], jax.nn.relu(scores), atol=1e-6)  # ReLUs, then a linear 1x1


def test_dense_prediction_program_trains_and_scores_per_pixel():
  data = dense_digits_dataset(_digits_source(), 32, 8, seed=0)
  cfg = TrainConfig(dataset="dense", model="context_segmenter", seeds=(0, 1), batch_size=8, epochs=1,
                    model_options={"front_widths": (4,), "context_dilations": (1,)})
  result = train_and_evaluate(cfg, None, data=data, program_factory=DensePredictionProgram, echo=lambda _: None)
  scores = segmentation_scores(result.model(1), result.variables(1), data.x_test, data.y_test, NUM_CLASSES)
  # The program's per-pixel test accuracy is the confusion matrix's.
  assert result.replicas[1]["test_acc"] == pytest.approx(scores["pixel_acc"], abs=1e-6)
  assert 0 <= scores["mean_iou"] <= 1 and len(scores["iou"]) == NUM_CLASSES
