"""Majority vote of replica nets (jaxdl.ensembles)."""
import numpy as np

from jaxdl.ensembles import majority_vote, vote_accuracy


def _logits(classes, num_classes=4, confidence=None):
  out = np.zeros((len(classes), len(classes[0]), num_classes), np.float32)
  for m, row in enumerate(classes):
    for n, c in enumerate(row):
      out[m, n, c] = 1.0 if confidence is None else confidence[m][n]
  return out


def test_majority_vote_picks_the_most_common_class():
  # 3 members, 3 examples: votes (2,2,1) -> class 2; (0,1,1) -> class 1; (3,3,3) -> class 3.
  logits = _logits([[2, 0, 3], [2, 1, 3], [1, 1, 3]])
  np.testing.assert_array_equal(majority_vote(logits), [2, 1, 3])


def test_tie_goes_to_the_higher_mean_probability():
  # Two members disagree: the more confident one wins the tie.
  logits = _logits([[0], [1]], confidence=[[1.0], [5.0]])
  assert int(majority_vote(logits)[0]) == 1
  logits = _logits([[0], [1]], confidence=[[5.0], [1.0]])
  assert int(majority_vote(logits)[0]) == 0


def test_a_confident_minority_never_outvotes_the_majority():
  logits = _logits([[0], [0], [1]], confidence=[[0.1], [0.1], [50.0]])
  assert int(majority_vote(logits)[0]) == 0


def test_vote_accuracy():
  logits = _logits([[2, 0, 3, 1], [2, 1, 3, 1], [1, 1, 3, 0]])
  assert vote_accuracy(logits, np.array([2, 1, 0, 1])) == 0.75
