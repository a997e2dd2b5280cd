"""The optimizers study: each registered optimizer's first two steps by hand, the 2-D surfaces, the
trajectory program, the config and cells, the claims on synthetic records, one smoke run and its report."""
import json
import math
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments.optimizers import claims
from experiments.optimizers.cells import cells
from experiments.optimizers.config import get_config
from experiments.optimizers.report import best_lrs, steps_text
from experiments.optimizers.trajectories import SurfaceRuns, descend, measure_surface, path_steps
from jaxdl.errors import UserError
from jaxdl.optim import OPTIMIZERS, OptimConfig, build_optimizer
from jaxdl.surfaces import QUADRATIC_ANGLE, SURFACES, get_surface, starts
from conftest import run_module

STUDY = "experiments.optimizers"
SMOKE = "--config=experiments/optimizers/config.py:smoke"

# Two update steps on params w with fixed gradients g1, g2 (defaults: momentum 0.9, b1 0.9, b2 0.999,
# eps 1e-8, Adadelta's rho 0.95 and eps 1e-6, RMSprop's decay 0.9; optax's AdaGrad starts its sum at 0.1).
LR = 0.1
W = np.array([1.0, -2.0])
G1, G2 = np.array([0.5, -1.0]), np.array([0.2, 0.3])


def _by_hand(name: str) -> tuple[np.ndarray, np.ndarray]:
  """(update 1, update 2), from each method's published rule."""
  g1, g2 = G1, G2
  if name == "sgd":
    return -LR * g1, -LR * g2
  if name == "momentum":  # v_t = 0.9 v_{t-1} + g_t, update -lr v_t
    return -LR * g1, -LR * (g2 + 0.9 * g1)
  if name == "nesterov":  # update -lr (g_t + 0.9 v_t)
    return -LR * (g1 + 0.9 * g1), -LR * (g2 + 0.9 * (g2 + 0.9 * g1))
  if name == "adagrad":  # -lr g / sqrt(0.1 + sum g^2)
    return -LR * g1 / np.sqrt(0.1 + g1 ** 2 + 1e-8), -LR * g2 / np.sqrt(0.1 + g1 ** 2 + g2 ** 2 + 1e-8)
  if name == "adadelta":  # Zeiler 2012, Algorithm 1, its step times lr
    eg1 = 0.05 * g1 ** 2
    d1 = np.sqrt(0 + 1e-6) / np.sqrt(eg1 + 1e-6) * g1
    eg2, ex1 = 0.95 * eg1 + 0.05 * g2 ** 2, 0.05 * d1 ** 2
    d2 = np.sqrt(ex1 + 1e-6) / np.sqrt(eg2 + 1e-6) * g2
    return -LR * d1, -LR * d2
  if name == "rmsprop":  # -lr g / (sqrt(E[g^2]) + eps)
    v1 = 0.1 * g1 ** 2
    v2 = 0.9 * v1 + 0.1 * g2 ** 2
    return -LR * g1 / (np.sqrt(v1) + 1e-8), -LR * g2 / (np.sqrt(v2) + 1e-8)
  m1, v1 = 0.1 * g1, 0.001 * g1 ** 2
  m2, v2 = 0.9 * m1 + 0.1 * g2, 0.999 * v1 + 0.001 * g2 ** 2
  if name == "adam":  # Kingma & Ba, Algorithm 1: m / (1 - b1^t), v / (1 - b2^t)
    return (-LR * (m1 / 0.1) / (np.sqrt(v1 / 0.001) + 1e-8),
            -LR * (m2 / (1 - 0.9 ** 2)) / (np.sqrt(v2 / (1 - 0.999 ** 2)) + 1e-8))
  assert name == "adam_no_bias_correction"
  return -LR * m1 / (np.sqrt(v1) + 1e-8), -LR * m2 / (np.sqrt(v2) + 1e-8)


HAND_CHECKED = ("sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam", "adam_no_bias_correction")


@pytest.mark.parametrize("name", HAND_CHECKED)
def test_first_two_updates_match_the_hand_computed_rule(name):
  opt = build_optimizer(OptimConfig(name=name, lr=LR), steps_per_epoch=1, total_steps=2)
  params = jnp.asarray(W, jnp.float32)
  state = opt.init(params)
  got = []
  for g in (G1, G2):
    update, state = opt.update(jnp.asarray(g, jnp.float32), state, params)
    got.append(np.asarray(update))
  for measured, expected in zip(got, _by_hand(name)):
    # float32: Adam's 1 - 0.999^2 loses about 1e-5 of its relative precision to cancellation
    np.testing.assert_allclose(measured, expected, rtol=1e-4, atol=1e-9)


def _first_update(name: str) -> np.ndarray:
  opt = build_optimizer(OptimConfig(name=name, lr=LR), steps_per_epoch=1, total_steps=1)
  params = jnp.asarray(W, jnp.float32)
  return np.asarray(opt.update(jnp.asarray(G1, jnp.float32), opt.init(params), params)[0])


def test_adam_without_bias_correction_is_registered_and_its_first_step_is_3_16_lr():
  assert set(HAND_CHECKED) <= set(OPTIMIZERS.names())
  raw, fixed = _first_update("adam_no_bias_correction"), _first_update("adam")
  np.testing.assert_allclose(np.abs(fixed), LR, rtol=1e-4)  # corrected: lr per coordinate
  np.testing.assert_allclose(raw / fixed, 0.1 / math.sqrt(0.001), rtol=1e-4)


@pytest.mark.parametrize("name", list(SURFACES))
def test_each_surface_has_zero_gradient_at_its_minimum(name):
  s = get_surface(name)
  at = jnp.asarray(s.minimum, jnp.float32)
  assert float(s.value(at)) == pytest.approx(s.min_value, abs=1e-6)
  np.testing.assert_allclose(np.asarray(jax.grad(s.value)(at)), 0.0, atol=1e-5)
  if s.saddle is not None:
    at = jnp.asarray(s.saddle, jnp.float32)
    np.testing.assert_allclose(np.asarray(jax.grad(s.value)(at)), 0.0, atol=1e-6)
    assert sorted(np.linalg.eigvalsh(np.asarray(jax.hessian(s.value)(at)))) == pytest.approx([-2.0, 2.0])
  (x0, x1), (y0, y1) = s.bounds
  assert x0 < s.start[0] < x1 and y0 < s.start[1] < y1 and x0 <= s.minimum[0] <= x1 and y0 <= s.minimum[1] <= y1


def test_the_quadratic_hessian_has_the_stated_eigenvalues_and_starts_are_near_the_standard_one():
  s = get_surface("quadratic")
  hessian = np.asarray(jax.hessian(s.value)(jnp.zeros(2)))
  assert np.linalg.eigvalsh(hessian) == pytest.approx(s.hessian_eigenvalues, rel=1e-5)
  assert abs(hessian[0, 1]) > 1  # turned: not diagonal
  points = np.asarray(starts(s, (0, 1, 2)))
  assert points[0] == pytest.approx(s.start)
  assert np.all(np.abs(points - np.asarray(s.start)) <= np.asarray(s.start_spread) + 1e-6)
  assert len({tuple(p) for p in points}) == 3
  with pytest.raises(UserError, match="rosenbrock"):
    get_surface("rosenbrok")
  assert 0 < QUADRATIC_ANGLE < math.pi / 2


def test_one_program_gives_sgd_the_closed_form_path_and_replicas_match_single_runs():
  s = get_surface("quadratic")
  points = starts(s, (0, 1))
  lrs = jnp.asarray([0.01, 0.05])
  out = descend(s, ["sgd", "adam"], {}, lrs, points, steps=30)
  assert out["sgd"].shape == (2, 2, 31, 2)
  hessian = np.asarray(jax.hessian(s.value)(jnp.zeros(2)), np.float64)
  x = np.asarray(points[1], np.float64)
  for _ in range(30):  # x_t = (I - lr H)^t x_0
    x = x - 0.05 * hessian @ x
  np.testing.assert_allclose(np.asarray(out["sgd"][1, 1, -1]), x, rtol=1e-4, atol=1e-6)
  alone = descend(s, ["adam"], {}, lrs[1:], points[1:], steps=30)["adam"][0, 0]
  np.testing.assert_allclose(np.asarray(out["adam"][1, 1]), np.asarray(alone), rtol=1e-6, atol=1e-7)
  kept = path_steps(1000)
  assert kept[0] == 0 and kept[-1] == 1000 and list(kept[:201]) == list(range(201))


def test_measure_surface_counts_steps_divergence_and_escape():
  spec = dict(surface="saddle", optimizers=["sgd", "rmsprop"], optim={}, lrs=[0.01, 3.0], steps=150, seeds=[0, 1],
              converged_fraction=1e-4, escape_distance=math.sqrt(2 / 3))
  out = measure_surface(spec)
  sgd, rms = out["runs"]["sgd"], out["runs"]["rmsprop"]
  assert sgd["escape_steps"][0] == [None, None]  # (1.02)^150 from y = 1e-3 stays far below 0.8
  assert all(isinstance(n, int) for n in rms["escape_steps"][0])
  assert sgd["diverged"][1] == [True, True]  # lr 3 on x^2: |1 - 6| > 1
  assert len(out["paths"]["sgd"][0]) == len(out["path_steps"])


def test_cells_are_one_measurement_per_surface_then_one_program_per_mnist_optimizer():
  config = get_config("quick")
  built = cells(config)
  assert [c.name for c in built] == ["surface_quadratic", "surface_rosenbrock", "surface_saddle", "surface_beale",
                                     "mnist_adam", "mnist_adagrad", "mnist_rmsprop", "mnist_nesterov",
                                     "mnist_adadelta"]
  saddle = built[2].spec
  assert saddle["seeds"] == [0, 1, 2, 3] and 0.01 in saddle["lrs"] and len(saddle["optimizers"]) == 8
  adam = built[4].config
  assert adam.optim.name == "adam" and adam.model_options["widths"] == (256, 256)
  assert adam.model_options["dropout_rate"] == 0.5 and adam.batch_size == 128
  # replicas: lr grid (outer) x seeds (inner)
  assert [(r["lr"], r["seed"]) for r in adam.replicas()][:3] == [(1e-4, 0), (1e-4, 1), (3e-4, 0)]
  assert built[4].data_spec == {"val_size": 0, "train_size": 4000, "val_subset": 0, "test_subset": 1000}
  config.seed_offset = 10
  again = cells(config)
  assert again[0].spec["seeds"] == [10, 11, 12, 13] and again[4].config.seeds == (10, 11)
  full = cells(get_config("full"))[4].config
  assert full.model_options["widths"] == (1000, 1000) and full.epochs == 200


@pytest.mark.parametrize("change, message", [
    (lambda c: setattr(c.mnist, "optimizers", ("adam", "lbfgs")), "lbfgs"),
    (lambda c: setattr(c.mnist, "optimizers", ("nesterov",)), "must include adam"),
    (lambda c: setattr(c.surfaces, "names", ("quadratic", "himmelblau")), "himmelblau"),
    (lambda c: c.surfaces.claim_lr.update({"saddle": 0.02}), "not in saddle's grid"),
    (lambda c: setattr(c.mnist.train, "train_size", 100), "config.data"),
])
def test_bad_configs_are_one_line_errors(change, message):
  config = get_config("smoke")
  change(config)
  with pytest.raises(UserError, match=message):
    cells(config)


def test_unknown_variant_names_the_valid_ones():
  with pytest.raises(ValueError, match="smoke, quick, full"):
    get_config("tiny")


def _runs(surface: str, lrs, runs: dict, steps: int = 100) -> SurfaceRuns:
  return SurfaceRuns(get_surface(surface), {"lrs": list(lrs), "steps": steps}, {"runs": runs, "starts": [[0, 0]] * 2})


def _run(key: str, per_lr: list, diverged=None, first=None) -> dict:
  return {key: per_lr, "diverged": diverged or [[False] * len(v) for v in per_lr],
          "final_gap": [[0.0] * len(v) for v in per_lr], "first_step": first or [[[1.0, 1.0]] * len(v) for v in per_lr]}


def test_ravine_claim_held_not_held_and_within_the_spread():
  def verdict(sgd, momentum):
    runs = _runs("quadratic", [0.01], {"sgd": _run("steps_to_converge", [sgd]),
                                       "momentum": _run("steps_to_converge", [momentum])})
    return claims.ravine([runs], {"quadratic": 0.01})
  assert verdict([None, None], [50, 52]).held is True  # never = the whole budget, a lower bound
  assert verdict([50, 52], [80, 81]).held is False
  held = verdict([50, 80], [60, 62])
  assert held.held is None and "NOT TESTED" in held.measured


def test_saddle_claim_needs_every_adaptive_method_and_adadelta_at_its_own_lr():
  def runs(adagrad):
    return _runs("saddle", [0.01, 1.0], {
        "sgd": _run("escape_steps", [[300, 310], [5, 5]]), "adam": _run("escape_steps", [[80, 81], [1, 1]]),
        "rmsprop": _run("escape_steps", [[70, 72], [1, 1]]), "adagrad": _run("escape_steps", [adagrad, [1, 1]]),
        "adadelta": _run("escape_steps", [[None, None], [30, 31]])}, steps=1000)
  assert claims.saddle(runs([100, 101]), 0.01, 1.0).held is True  # Adadelta at 1.0: 30 steps
  assert claims.saddle(runs([None, None]), 0.01, 1.0).held is False
  assert claims.saddle(runs([100, 500]), 0.01, 1.0).held is None


def test_stability_limit_is_exact_and_needs_a_bracketing_grid():
  lrs = [0.05, 0.098, 0.102, 0.3]
  ok = [[False, False], [False, False], [True, True], [True, True]]
  runs = _runs("quadratic", lrs, {"sgd": _run("steps_to_converge", [[1, 1]] * 4, diverged=ok)})
  assert claims.stability_limit(runs).held is True
  wrong = [row[:] for row in ok]
  wrong[1] = [False, True]
  runs = _runs("quadratic", lrs, {"sgd": _run("steps_to_converge", [[1, 1]] * 4, diverged=wrong)})
  assert claims.stability_limit(runs).held is False
  coarse = _runs("quadratic", [0.05, 0.3], {"sgd": _run("steps_to_converge", [[1, 1]] * 2, diverged=ok[::3])})
  assert claims.stability_limit(coarse).held is None


def test_crawl_claim_compares_one_percent_of_the_limit_with_half_of_it():
  def verdict(slow, fast):
    return claims.crawl(_runs("quadratic", [0.001, 0.05], {"sgd": _run("steps_to_converge", [slow, fast])}, 3000))
  assert verdict([2600, 2700], [50, 52]).held is True
  assert verdict([300, 310], [50, 52]).held is False
  assert verdict([400, 700], [50, 50]).held is None
  assert claims.crawl(_runs("quadratic", [0.01], {"sgd": _run("steps_to_converge", [[1, 1]])})).held is None


def test_first_step_claim_against_the_closed_form():
  def verdict(raw):
    runs = _runs("quadratic", [0.01], {"adam": _run("steps_to_converge", [[1, 1]], first=[[[0.01, 0.01]] * 2]),
                                       "adam_no_bias_correction": _run("steps_to_converge", [[1, 1]],
                                                                       first=[[[raw, raw]] * 2])})
    return claims.first_step([runs], {"quadratic": 0.01}, 0.9, 0.999)
  assert verdict(0.031623).held is True
  assert verdict(0.01).held is False
  assert verdict(0.025).held is False  # much larger, but not the predicted 3.16


def _mnist_rows(costs: dict) -> list:
  return [{"optimizer": name, "lr": lr, "seed": seed, "status": "done" if math.isfinite(c) else "diverged",
           "final_cost": c, "test_acc": 0.9, "curve": [1.0, c]}
          for name, by_lr in costs.items() for lr, values in by_lr.items() for seed, c in enumerate(values)]


def test_adam_is_compared_at_each_optimizers_best_lr():
  rows = _mnist_rows({"adam": {1e-3: [0.01, 0.011], 1e-2: [0.5, float("nan")]},
                      "nesterov": {0.01: [0.05, 0.052], 0.1: [0.03, 0.031]},
                      "adagrad": {0.01: [0.008, 0.0081]}, "rmsprop": {1e-3: [0.005, 0.02]}})
  assert claims.best_lr(rows, "adam") == 1e-3  # the lr where a seed diverged is out
  assert claims.best_lr(rows, "nesterov") == 0.1
  assert claims.adam_fastest(rows, "nesterov", 20).held is True
  assert claims.adam_fastest(rows, "adagrad", 20).held is False
  assert claims.adam_fastest(rows, "rmsprop", 20).held is None
  gone = _mnist_rows({"adam": {1e-3: [0.01, 0.011]}, "adadelta": {1.0: [float("nan")] * 2}})
  assert claims.adam_fastest(gone, "adadelta", 20).held is None


def test_report_helpers_pick_the_fastest_lr_and_say_what_never_converged():
  runs = _runs("quadratic", [0.01, 0.1, 1.0], {"sgd": _run("steps_to_converge", [[None, None], [30, 40], [1, 1]],
                                                           diverged=[[False] * 2, [False] * 2, [True] * 2])})
  assert best_lrs(runs) == {"sgd": 0.1}
  assert steps_text([30, None], [False, False]) == "30 (1/2)"
  assert steps_text([None, None], [False, False]) == "never"
  assert steps_text([1, 1], [True, True]) == "diverged"


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("optimizers")
  proc = run_module(STUDY, SMOKE, f"--workdir={workdir}", timeout=600, check=True)
  return workdir, proc.stdout


def test_smoke_run_writes_tables_figures_and_verdicts_and_report_only_remakes_them(smoke_run):
  workdir, stdout = smoke_run
  for name in ("table.md", "table.csv", "claims.json", "surface_quadratic.png", "surface_saddle.png",
               "surface_saddle.gif", "adam_bias_correction.png", "mnist_training_cost.png", "mnist_lr_sensitivity.png"):
    assert os.path.getsize(workdir / name) > 0, name
  verdicts = json.loads((workdir / "claims.json").read_text())
  # smoke: quadratic and saddle (ravine, saddle, limit, crawl, first step), Adam vs Nesterov
  assert len(verdicts) == 6 and stdout.count("CLAIM ") == 6 and all(v["criterion"] for v in verdicts)
  table = (workdir / "table.md").read_text()
  assert "| adam_no_bias_correction |" in table and "| nesterov | 0.03" in table
  results = json.loads((workdir / "cells" / "surface_saddle" / "results.json").read_text())
  assert set(results["runs"]) == set(HAND_CHECKED) and len(results["starts"]) == 2
  before = {name: (workdir / name).read_bytes() for name in ("table.md", "claims.json")}
  again = run_module(STUDY, "--report_only", f"--workdir={workdir}", timeout=300, check=True)
  assert "CLAIM " in again.stdout
  assert {name: (workdir / name).read_bytes() for name in before} == before
