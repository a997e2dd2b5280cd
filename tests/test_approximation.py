"""Tests of jaxdl.approximation (XOR and Telgarsky's constructions) and the approximation study."""
import json
import os

import jax
import numpy as np
import pytest

from experiments.approximation import claims
from experiments.approximation.cells import cells, deep_shapes
from experiments.approximation.config import get_config
from experiments.approximation.fit import fit_replicas, predict, spread_breakpoints
from experiments.approximation.sawtooth import matched_shallow_width
from experiments.approximation.xor import xor_loss
from jaxdl import approximation as approx
from jaxdl.errors import UserError
from jaxdl.optim import OptimConfig
from conftest import run_module

STUDY = "experiments.approximation"
SMOKE = "--config=experiments/approximation/config.py:smoke"


def test_the_books_xor_weights_give_zero_loss():
  outputs = predict((2,), approx.xor_book_params(), approx.XOR_INPUTS)
  np.testing.assert_array_equal(outputs, [0, 1, 1, 0])
  assert xor_loss(outputs) == 0.0
  # by hand: W^T x + c for (1, 1) is (2, 1), relu (2, 1), w^T h = 2 - 2 = 0
  assert approx.relu(np.array([2.0, 1.0])) @ np.array([1.0, -2.0]) == 0.0


def test_xor_least_squares_is_w_zero_b_half():
  solution = approx.least_squares_affine(approx.XOR_INPUTS.astype(np.float64), approx.XOR_TARGETS)
  np.testing.assert_allclose(solution["w"], [0, 0], atol=1e-12)
  assert solution["b"] == pytest.approx(0.5, abs=1e-12)
  assert xor_loss(np.full(4, 0.5)) == pytest.approx(0.125)  # every output 1/2: half of (1/2)^2


@pytest.mark.parametrize("k", [1, 2, 3, 5, 7])
def test_sawtooth_constructions_are_exact_with_2_to_the_k_pieces(k):
  x = approx.dyadic_grid(k + 3)
  target = approx.sawtooth(x[:, 0].astype(np.float64), k)
  assert approx.linear_pieces(target) == 2 ** k
  assert target.min() == 0 and target.max() == 1
  deep = predict((2,) * k, approx.sawtooth_deep_params(k), x)
  shallow = predict((2 ** k,), approx.sawtooth_shallow_params(k), x)
  np.testing.assert_array_equal(deep, target)  # dyadic points: exact float arithmetic
  np.testing.assert_array_equal(shallow, target)
  assert approx.linear_pieces(deep) == 2 ** k
  assert approx.mlp_param_count((2,) * k) == 6 * k + 1
  assert approx.mlp_param_count((2 ** k,)) == 3 * 2 ** k + 1


def test_tent_and_linear_pieces_by_hand():
  np.testing.assert_array_equal(approx.tent(np.array([0, 0.25, 0.5, 0.75, 1])), [0, 0.5, 1, 0.5, 0])
  assert approx.linear_pieces(np.abs(np.linspace(-1, 1, 9))) == 2
  assert approx.linear_pieces(np.linspace(0, 1, 9)) == 1


def test_shallow_bound_by_hand_and_constructed_nets_respect_it():
  assert approx.shallow_sawtooth_mse_bound(1, 0) == pytest.approx(1 / 96)
  assert approx.shallow_sawtooth_mse_bound(3, 2) == pytest.approx(5 / 384)
  assert approx.shallow_sawtooth_mse_bound(3, 7) == 0 and approx.shallow_sawtooth_mse_bound(3, 9) == 0
  x = approx.dyadic_grid(10)
  y = approx.sawtooth(x[:, 0].astype(np.float64), 3)
  for n in range(1, 8):
    params = approx.knot_least_squares_params(x, y, np.arange(n) / 8)
    mse = np.mean((predict((n,), params, x) - y) ** 2)
    assert mse >= approx.shallow_sawtooth_mse_bound(3, n)
  # with a unit at every kink (and one at 0) least squares recovers the sawtooth
  params = approx.knot_least_squares_params(x, y, np.arange(8) / 8)
  np.testing.assert_allclose(predict((8,), params, x), y, atol=1e-5)


def test_a_replica_equals_a_single_run_of_its_seed():
  x = approx.dyadic_grid(4)
  ys = np.stack([approx.smooth(x[:, 0]), approx.step(x[:, 0])])
  optim = OptimConfig(name="adam", lr=1e-2, schedule="cosine")
  both = fit_replicas((3,), x, ys, [3, 5], optim, 20, breakpoints=(0.0, 1.0))
  alone = fit_replicas((3,), x, ys[1:], [5], optim, 20, breakpoints=(0.0, 1.0))
  np.testing.assert_allclose(both["outputs"][1], alone["outputs"][0], rtol=1e-6, atol=1e-7)
  assert both["train_loss"][1] < np.mean(0.5 * ys[1] ** 2)  # it trained


def test_spread_breakpoints_puts_each_units_kink_in_the_interval():
  kernel = np.array([[2.0, -1.0, 0.5]], np.float32)
  params = {"dense0": {"kernel": kernel, "bias": np.zeros(3, np.float32)}, "logits": {}}
  spread = spread_breakpoints(params, jax.random.PRNGKey(0), 0.25, 0.75)
  kinks = -np.asarray(spread["dense0"]["bias"]) / params["dense0"]["kernel"][0]
  assert np.all((kinks >= 0.25) & (kinks <= 0.75)) and len(set(kinks.round(6))) == 3


def test_cells_and_seeds_bookkeeping():
  config = get_config("smoke")
  config.seed_offset = 10
  names = [c.name for c in cells(config)]
  assert names == ["xor_exact", "xor_linear", "xor_relu_w2", "xor_relu_w4", "width_w2", "width_w8",
                   "sawtooth_constructions", "sawtooth_2x3", "sawtooth_4x2"]
  specs = {c.name: c.spec for c in cells(config)}
  assert specs["width_w8"]["seeds"] == [10, 11] and specs["sawtooth_2x3"]["deep"] == [2, 2, 2]
  assert deep_shapes(get_config("quick"))[0] == (2,) * get_config("quick").sawtooth.k
  assert matched_shallow_width((2,) * 5) == 10  # 31 params: 3 * 10 + 1
  config.xor.groups = 3
  with pytest.raises(UserError, match="multiple of xor.groups"):
    cells(config)
  with pytest.raises(ValueError, match="smoke, quick, full"):
    get_config("tiny")


def _exact():
  return {"least_squares": {"w": [1e-17, -2e-17], "b": 0.5, "outputs": [0.5] * 4, "loss": 0.125},
          "book_net": {"outputs": [0.0, 1.0, 1.0, 0.0], "loss": 0.0}}


def _linear(deviation):
  return {"replicas": [{"outputs": [0.5 + d, 0.5, 0.5, 0.5]} for d in deviation]}


def _starts(width, groups):
  return {"width": width, "starts": 32 * len(groups), "fraction": float(np.mean(groups)), "group_fractions": groups,
          "success_tol": 0.1}


@pytest.mark.parametrize("deviation, groups2, groups8, expected", [
    ((0.001, 0.002), (0.7, 0.8, 0.75), (0.9, 0.95, 1.0), [True, True, True, True]),
    ((0.05, 0.06), (0.2, 0.15, 0.25), (0.2, 0.15, 0.2), [False, True, False, None]),
    ((0.001, 0.02), (0.4, 0.6, 0.5), (0.95, 0.9, 1.0), [None, True, None, True]),
])
def test_xor_claims(deviation, groups2, groups8, expected):
  verdicts = claims.xor_claims(_exact(), _linear(deviation), [_starts(2, list(groups2)), _starts(8, list(groups8))])
  assert [c.held for c in verdicts] == expected
  assert "binomial SE" in verdicts[2].measured


def test_xor_claims_catch_wrong_book_outputs():
  exact = _exact()
  exact["book_net"] = {"outputs": [0.0, 1.0, 1.0, 1.0], "loss": 0.125}
  assert claims.xor_claims(exact, _linear((0.001, 0.002)), [_starts(2, [0.6, 0.7])])[1].held is False


def _sweep(narrow, wide):
  return [{"width": w, "targets": {"smooth": {"mse": list(m)}}} for w, m in ((2, narrow), (128, wide))]


@pytest.mark.parametrize("narrow, wide, held", [
    ((1e-1, 2e-1), (1e-5, 3e-5), True), ((1e-5, 2e-5), (1e-1, 1e-1), False), ((1e-1, 1e-4), (1e-2, 1e-3), None)])
def test_width_claims_compare_log_errors_over_seeds(narrow, wide, held):
  assert claims.width_claims(_sweep(narrow, wide), ["smooth"])[0].held is held


def _constructions(k=3, deep_error=0.0, built_mse=0.04):
  rows = [{"k": kk, "pieces": 2 ** kk, "deep_units": 2 * kk, "deep_params": 6 * kk + 1, "deep_max_error": deep_error,
           "deep_linear_pieces": 2 ** kk, "shallow_units": 2 ** kk, "shallow_params": 3 * 2 ** kk + 1,
           "shallow_max_error": 0.0, "shallow_units_needed": 2 ** kk - 1} for kk in range(1, k + 1)]
  built = [{"units": n, "params": 3 * n + 1, "mse": built_mse, "bound": approx.shallow_sawtooth_mse_bound(k, n)}
           for n in range(1, 2 ** k)]
  return {"k": k, "rows": rows, "constructed_shallow": built}


def _pair(deep_mse, shallow_mse, k=3, deep=(2, 2, 2)):
  units = matched_shallow_width(deep)
  return {"deep": {"widths": list(deep), "params": approx.mlp_param_count(deep), "mse": list(deep_mse)},
          "shallow": {"widths": [units], "units": units, "params": 3 * units + 1, "mse": list(shallow_mse),
                      "bound": approx.shallow_sawtooth_mse_bound(k, units)}}


def test_sawtooth_claims_true_false_and_not_tested():
  good = claims.sawtooth_claims(_constructions(), [_pair((1e-6, 2e-6), (0.05, 0.06))])
  assert [c.held for c in good] == [True, True, True]
  wrong = claims.sawtooth_claims(_constructions(deep_error=0.1, built_mse=0.001),
                                 [_pair((0.08, 0.09), (0.01, 0.011))])
  assert [c.held for c in wrong] == [False, False, False]
  noisy = claims.sawtooth_claims(_constructions(), [_pair((0.01, 0.03), (0.02, 0.05))])
  assert noisy[1].held is None and noisy[2].held is False


def _read(workdir, *names):
  return {name: open(os.path.join(workdir, name), "rb").read() for name in names}


FIGURES = ("xor_regions.png", "fits.png", "error_vs_width.png", "sawtooth_depth.png")


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp("approximation") / "run")
  proc = run_module(STUDY, SMOKE, f"--workdir={workdir}", timeout=600, check=True)
  return workdir, proc.stdout


def test_smoke_study_writes_tables_claims_and_figures(smoke_run):
  workdir, out = smoke_run
  table = open(os.path.join(workdir, "table.md")).read()
  assert "| ReLU net, the book's weights |" in table and "| 2x3 | 19 |" in table
  verdicts = json.load(open(os.path.join(workdir, "claims.json")))
  assert len(verdicts) == 4 + 3 + 3 and all(c["held"] in (True, False, None) and c["criterion"] for c in verdicts)
  assert verdicts[1]["held"] is True and verdicts[7]["held"] is True  # the exact constructions, at any size
  for name in FIGURES:
    assert os.path.getsize(os.path.join(workdir, name)) > 0
  starts = json.load(open(os.path.join(workdir, "cells", "xor_relu_w2", "results.json")))
  assert starts["starts"] == 16 and len(starts["group_fractions"]) == 4
  assert "CLAIM" in out


def test_report_only_reproduces_the_report(smoke_run):
  workdir, _ = smoke_run
  before = _read(workdir, "table.md", "claims.json")
  for name in ("table.md", "claims.json", *FIGURES):
    os.remove(os.path.join(workdir, name))
  run_module(STUDY, f"--workdir={workdir}", "--report_only", check=True)
  assert _read(workdir, "table.md", "claims.json") == before
  for name in FIGURES:
    assert os.path.getsize(os.path.join(workdir, name)) > 0
