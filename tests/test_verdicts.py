"""The noise-aware verdicts: an effect within the seed noise is NOT TESTED, never HELD or NOT HELD."""
import math

from jaxdl.report.claims import Claim
from jaxdl.report.verdicts import all_of, beyond, exceeds, own_check


def test_exceeds_decides_only_beyond_the_noise():
  assert exceeds([3.0, 3.2], [1.0, 1.1])[0] is True
  assert exceeds([1.0, 1.1], [3.0, 3.2])[0] is False
  # Glorot & Bengio's tanh-N vs tanh gap (0.12 points) under a 4-7 point seed std: not decidable
  held, measured = exceeds([17.3 + 4.2, 17.3 - 4.2], [15.9 + 7.0, 15.9 - 7.0], names=("tanh", "tanh-N"))
  assert held is None and "seed noise" in measured and "NOT TESTED" in measured


def test_exceeds_needs_two_finite_seeds_per_side():
  assert exceeds([3.0], [1.0])[0] is None  # one seed: the noise is unknown
  held, measured = exceeds([3.0, math.nan], [1.0, 1.1])
  assert held is None and "diverged" in measured


def test_beyond_a_threshold():
  assert beyond([0.95, 0.97], 0.80)[0] is True
  assert beyond([0.50, 0.52], 0.80)[0] is False
  # the bar on the measurement itself (FGSM confidence 90.0 vs 90) is not a verdict
  assert beyond([0.88, 0.92], 0.90)[0] is None
  assert beyond([1e-9], 1e-2, above=False)[0] is None
  assert beyond([1e-9], 1e-2, above=False, one_seed_ok=True)[0] is True


def test_all_of_and_the_claim_line():
  assert all_of((True, "a"), (None, "b"))[0] is None
  assert all_of((True, "a"), (None, "b"), (False, "c"))[0] is False
  assert all_of((True, "a"), (True, "b")) == (True, "a; b")
  claim = Claim(own_check("a reason"), "text", *beyond([2.0, 2.1], 1.0), criterion="> 1 (the argument)")
  line = claim.verdict_line()
  assert line.startswith("CLAIM HELD") and "jaxdl's own check" in line and "criterion: > 1" in line


def test_verdicts_are_python_bools_for_numpy_inputs():
  import numpy as np
  assert exceeds(np.array([3.0, 3.2]), np.array([1.0, 1.1]))[0] is True
  assert beyond(np.array([0.5, 0.52]), np.float32(0.8))[0] is False
  assert exceeds(np.array([3.0, 3.2], np.float32), [1.0, 1.1])[0] is True  # float32 values count


def test_within_a_band():
  from jaxdl.report.verdicts import within
  assert within([0.0, 0.02], -0.17, 0.17)[0] is True
  assert within([0.5, 0.52], -0.17, 0.17)[0] is False
  held, measured = within([0.1, 0.2], -0.17, 0.17, noise_of="groups")
  assert held is None and "std over groups" in measured
