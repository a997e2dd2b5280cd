"""The ablation ladder: ladder files as data, cumulative rungs, cells, claims, one smoke run end to end."""
import dataclasses
import json
import math
import os

import pytest

from experiments.ablation_ladder import cells as ladder_cells
from experiments.ablation_ladder import ladder as al
from experiments.ablation_ladder.claims import book_tolerance, ladder_claims, step
from experiments.ablation_ladder.config import get_config
from experiments.ablation_ladder.results import RungResult
from experiments.configs import train_section
from jaxdl.errors import UserError
from jaxdl.study import MeasureCell, TrainCell, load_records
from conftest import run_module

BOOK = [97.80, 98.78, 99.06, 99.23, 99.37, 99.43, 99.60, 99.67]
SMOKE = "--config=experiments/ablation_ladder/config.py:smoke"


def test_shipped_ladders_load_with_the_books_numbers():
  for name in ("nielsen_ch6.json", "nielsen_ch6_quick.json", "nielsen_ch6_cpu.json"):
    ladder = al.load_ladder(name)
    assert [r["book"] for r in ladder["rungs"]] == BOOK
  specs = al.rung_specs(al.load_ladder("nielsen_ch6.json"), "mnist")
  relu, expanded, drop, vote = specs[3], specs[4], specs[6], specs[7]
  assert relu["optim"] == {"name": "sgd", "lr": 0.03, "weight_decay": 2e-5}  # 0.1 * 10 / 50000
  assert expanded["expand_data"] and expanded["optim"]["weight_decay"] == 4e-6  # 0.1 * 10 / 250000
  assert drop["model_options"]["dense_widths"] == (1000, 1000) and drop["epochs"] == 40
  assert drop["model_options"]["conv_features"] == (20, 40)  # inherited from the rungs before
  vote_config = al.train_config(vote, train_section())
  assert vote_config.seeds == tuple(range(5)) and vote_config.batch_size == 10


def test_overrides_merge_and_reset_on_model_change():
  mlp = al.apply_overrides({}, {"model": "mlp", "model_options": {"widths": [100]}, "optim": {"lr": 0.1}})
  cnn = al.apply_overrides(mlp, {"model": "cnn", "model_options": {"conv_features": [20]}})
  assert cnn["model_options"] == {"conv_features": (20,)} and cnn["optim"] == {"lr": 0.1}
  more = al.apply_overrides(cnn, {"model_options": {"activation": "relu"}, "optim": {"weight_decay": 1e-5}})
  assert more["model_options"] == {"conv_features": (20,), "activation": "relu"}
  assert more["optim"] == {"lr": 0.1, "weight_decay": 1e-5}
  assert "vote" not in al.apply_overrides({"vote": 5}, {"epochs": 3})


def test_unknown_keys_and_broken_files_are_user_errors(tmp_path):
  path = tmp_path / "bad.json"
  path.write_text(json.dumps({"protocol": {}, "rungs": [{"name": "a", "set": {"epochz": 3}}]}))
  with pytest.raises(UserError, match="epochz"):
    al.load_ladder(str(path))
  path.write_text('{"protocol": {}, "rungs": [')  # truncated
  with pytest.raises(UserError, match="not valid JSON"):
    al.load_ladder(str(path))
  with pytest.raises(UserError, match="no ladder file"):
    al.load_ladder("no_such_ladder.json")


def test_variants_name_their_ladders_and_unknown_ones_are_errors():
  assert {v: get_config(v).ladder for v in ("smoke", "quick", "cpu", "full")} == {
      "smoke": "smoke.json", "quick": "nielsen_ch6_quick.json", "cpu": "nielsen_ch6_cpu.json",
      "full": "nielsen_ch6.json"}
  assert get_config("full").dataset == "mnist,fashion_mnist" and get_config().dataset == "mnist"
  with pytest.raises(ValueError, match="smoke, quick, cpu, full"):
    get_config("tiny")


def test_cells_share_trained_rungs_and_the_vote_reads_the_rung_before():
  plan = ladder_cells.plan(get_config("full"))
  names = [c.name for c in plan.cells]
  assert names[:8] == ["mnist_shallow", "mnist_conv", "mnist_2nd_conv", "mnist_relu", "mnist_expanded_data",
                       "mnist_extra_fc", "mnist_dropout", "mnist_ensemble"]
  assert len(names) == 16 and names[8] == "fashion_mnist_shallow"
  vote = plan.cells[7]
  assert isinstance(vote, MeasureCell) and vote.needs == ("mnist_dropout",) and vote.spec["vote"] == 5
  assert plan.rungs[7].trained == "mnist_dropout" and plan.rungs[7].vote == "mnist_ensemble"
  expanded = plan.cells[4]
  assert isinstance(expanded, TrainCell) and expanded.data_spec["expand_data"]
  assert expanded.data_spec["val_size"] == 10000 and expanded.config.dataset == "mnist"


def test_a_vote_over_more_nets_than_the_rung_before_trains_its_own(tmp_path):
  path = tmp_path / "wider_vote.json"
  path.write_text(json.dumps({"protocol": {"seeds": 2, "model": "mlp"},
                              "rungs": [{"name": "mlp", "set": {}}, {"name": "vote", "set": {"vote": 3}}]}))
  config = get_config("smoke")
  config.ladder = str(path)
  plan = ladder_cells.plan(config)
  assert [c.name for c in plan.cells] == ["mnist_mlp", "mnist_vote_nets", "mnist_vote"]
  assert plan.cells[1].config.seeds == (0, 1, 2) and plan.cells[2].needs == ("mnist_vote_nets",)


def test_config_overrides_change_the_protocol_and_a_clash_with_the_ladder_is_an_error():
  config = get_config("quick")
  config.protocol.train_size = 300
  config.seeds = 4
  plan = ladder_cells.plan(config)
  assert all(c.data_spec["train_size"] == 300 for c in plan.cells if isinstance(c, TrainCell))
  assert plan.cells[0].config.seeds == (0, 1, 2, 3)
  assert plan.cells[6].config.seeds == (0, 1, 2)  # the dropout rung sets its own count
  config.train.epoch_runner = "loop"  # an engine setting the ladder leaves alone
  assert ladder_cells.plan(config).cells[0].config.epoch_runner == "loop"
  config.train.epochs = 7  # the ladder sets epochs: this override would do nothing
  with pytest.raises(UserError, match="train.epochs"):
    ladder_cells.plan(config)


def _rows(dataset, means, books, std=0.001):
  return [RungResult(dataset, f"r{i}", "", book, [m - std, m + std], 100) for i, (m, book) in
          enumerate(zip(means, books))]


def test_claims_judge_the_book_the_ordering_and_other_datasets():
  rows = _rows("mnist", [0.979, 0.985, 0.990], [97.80, 98.78, 99.06], std=0.0002)
  claims = ladder_claims(["mnist"], rows, 2.0)
  assert [c.held for c in claims] == [True, False, True, True]  # 98.50 is 0.28 below 98.78 (tolerance 0.21)
  assert "binomial stds" in claims[0].criterion and "NOT TESTED, not a break" in claims[-1].criterion
  diverged = _rows("mnist", [0.98, math.nan], [97.80, 98.78])
  assert ladder_claims(["mnist"], diverged, 2.0)[-1].held is None  # no seed left: nothing to compare
  assert ladder_claims(["mnist"], rows[:1], 2.0)[-1].held is None  # one rung: no ordering
  fashion = ladder_claims(["fashion_mnist"], _rows("fashion_mnist", [0.8, 0.85, 0.84], BOOK, 0.0002), 2.0)
  assert len(fashion) == 1 and fashion[0].held is False and "difference -1.00%" in fashion[0].measured


def test_a_tie_within_the_seed_noise_is_not_a_break():
  """The cpu ladder's extra-FC rung: 99.15 ± 0.03 after 99.17 ± 0.06. The old check called the
  ordering broken (NOT HELD); the step is within the seed noise, so it is NOT TESTED."""
  rows = [RungResult("mnist", "+ expanded data", "", 99.37, [0.99128, 0.99212], 250000),
          RungResult("mnist", "+ extra FC", "", 99.43, [0.99129, 0.99171], 250000)]
  ordering = ladder_claims(["mnist"], rows, 2.0)[-1]
  assert ordering.held is None and "within the noise" in ordering.measured
  fashion = ladder_claims(["fashion_mnist"], [dataclasses.replace(r, dataset="fashion_mnist") for r in rows], 2.0)
  assert fashion[0].held is None  # "every rung still helps": a tie is not a rung that hurts
  rows[1] = dataclasses.replace(rows[1], accs=[0.9880, 0.9884])  # a drop beyond the noise: a break
  assert ladder_claims(["mnist"], rows, 2.0)[-1].held is False


def test_the_books_number_within_the_seed_noise_of_the_tolerance_is_not_decided():
  """The cpu ladder's expanded-data rung, 0.2048 points below the book: the old bar (0.2) called it
  NOT HELD by 0.005 points under a 0.06-point seed std."""
  row = RungResult("mnist", "+ expanded data", "", 99.37, [0.99128, 0.99212], 250000)
  assert book_tolerance(99.37, 2.0) == pytest.approx(0.159, abs=1e-3)
  claim = ladder_claims(["mnist"], [row], 2.0)[0]
  assert claim.held is None and "within the noise of the threshold" in claim.measured
  far = dataclasses.replace(row, accs=[0.9735, 0.9737])  # the quick ladder's distance: decided
  assert ladder_claims(["mnist"], [far], 2.0)[0].held is False


def test_a_vote_borrows_its_members_seed_noise():
  dropout = RungResult("mnist", "+ dropout", "", 99.60, [0.9930, 0.9935, 0.9940], 250000)
  members = [0.9915, 0.9935, 0.9955]  # the same nets' final accuracies: std 0.2 points
  vote = RungResult("mnist", "ensemble", "", 99.67, [0.9950], 250000, member_accs=members)
  held, measured = step(dropout, vote)  # +0.15: beyond the rung's std 0.05, within the members' 0.2
  assert held is None and "members' seed std" in measured
  assert step(dropout, dataclasses.replace(vote, accs=[0.9990]))[0] is True  # +0.55: beyond both
  assert step(dropout, dataclasses.replace(vote, accs=[0.9860]))[0] is False
  # 0.01 points from the book, inside its 0.11 tolerance by 0.10: not decided under a 0.2 members' std,
  # decided under 0.05
  near = dataclasses.replace(vote, accs=[0.9966])
  assert ladder_claims(["mnist"], [near], 2.0)[0].held is None
  near = dataclasses.replace(near, member_accs=[0.9955, 0.9960, 0.9965])
  assert ladder_claims(["mnist"], [near], 2.0)[0].held is True


def test_seed_offset_moves_every_rungs_seeds():
  config = get_config("quick")
  config.seed_offset = 10
  plan = ladder_cells.plan(config)
  assert plan.cells[0].config.seeds == (10, 11) and plan.cells[6].config.seeds == (10, 11, 12)


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp("ablation_ladder"))
  proc = run_module("experiments.ablation_ladder", SMOKE, f"--workdir={workdir}", check=True)
  return workdir, proc.stdout


def test_smoke_study_runs_end_to_end(smoke_run):
  workdir, stdout = smoke_run
  assert "| ensemble |" in stdout and "CLAIM" in stdout
  claims = json.load(open(os.path.join(workdir, "claims.json")))
  assert len(claims) == 4  # three rungs vs the book, and the ordering
  assert os.path.getsize(os.path.join(workdir, "ladder.png")) > 0
  records = load_records(workdir, ["mnist_shallow", "mnist_expanded_data", "mnist_ensemble"])
  assert [records[n].measurements["n_train"] for n in ("mnist_shallow", "mnist_expanded_data")] == [200, 1000]
  shallow = records["mnist_shallow"]  # one epoch, two seeds: a one-point curve per seed, the reported number
  assert shallow.curve("test_acc").shape == (1, 2)
  assert list(shallow.curve("test_acc")[-1]) == [r["test_acc_at_best_val"] for r in shallow.replicas]
  vote = records["mnist_ensemble"].results
  assert vote["members"] == [0, 1] and 0.0 <= vote["vote_test_acc"] <= 1.0


def test_report_only_reproduces_the_report(smoke_run):
  workdir, _ = smoke_run
  before = {name: open(os.path.join(workdir, name), "rb").read() for name in ("table.md", "claims.json")}
  run_module("experiments.ablation_ladder", f"--workdir={workdir}", "--report_only", check=True)
  assert {name: open(os.path.join(workdir, name), "rb").read() for name in before} == before
