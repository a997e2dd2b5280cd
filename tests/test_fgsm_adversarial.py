"""experiments/fgsm_adversarial: its config, cells and claims, and one smoke run of the study."""
import json

import pytest

from experiments.fgsm_adversarial import claims
from experiments.fgsm_adversarial.cells import cells
from experiments.fgsm_adversarial.config import get_config
from jaxdl.errors import UserError
from jaxdl.optim import OptimConfig
from jaxdl.study import MeasureCell, TrainCell
from conftest import run_module

TRAINED = ["softmax", "maxout", "cnn", "maxout_adv"]  # the smoke variant's nets (attacked at the end)
ARMS = ["cnn_fgsm_zero", "cnn_fgsm_rs"]  # the smoke variant's arms of Wong et al. (followed over training)
MEASURED = ["fgsm_sweep", "pgd", "transfer", "panda"]


def test_quick_and_full_cells():
  quick = {c.name: c for c in cells(get_config("quick"))}
  assert list(quick) == ["softmax", "maxout", "relu_mlp", "cnn", "maxout_adv", "cnn_adv",
                         "relu_mlp_fgsm_zero", "relu_mlp_fgsm_rs", "relu_mlp_pgd", *MEASURED]
  fast = OptimConfig(name="momentum", lr=0.05, momentum=0.9)
  maxout = quick["maxout_adv"].config
  assert (maxout.model, maxout.optim) == ("maxout", fast)
  assert maxout.model_options == {"widths": (100, 100), "pieces": 5}
  assert quick["relu_mlp"].config.model_options == {"widths": (100, 100), "activation": "relu"}
  assert (maxout.train_size, maxout.epochs, maxout.batch_size, tuple(maxout.seeds)) == (10000, 3, 128, (0, 1))
  assert quick["maxout"].data_spec == {"eval_size": 2000}
  assert quick["maxout_adv"].epoch_hook is not None and quick["maxout"].epoch_hook is None
  full = {c.name: c for c in cells(get_config("full"))}
  maxout = full["maxout"].config
  assert maxout.optim == OptimConfig(name="momentum", lr=0.1, momentum=0.5, max_norm=1.9365)
  assert maxout.model_options == {"widths": (240, 240), "pieces": 5, "dropout_rate": 0.5,
                                  "input_dropout_rate": 0.2}
  # Goodfellow et al. adversarially trained a 1600-unit maxout net (its standard net has 240).
  assert full["maxout_adv"].config.model_options["widths"] == (1600, 1600)
  assert full["relu_mlp"].config.model_options["widths"] == (240, 240)
  assert (maxout.train_size, maxout.epochs, maxout.batch_size, tuple(maxout.seeds)) == (0, 50, 100, (0, 1, 2))
  assert full["cnn_adv"].config.model_options == {"conv_features": (20, 40), "dense_widths": (100,)}
  assert full["pgd"].spec["steps"] == 40 and full["pgd"].spec["restarts"] == 5
  assert full["panda"].needs == ("maxout", "maxout_adv")


def test_seed_offset_moves_every_cells_seeds():
  config = get_config("smoke")
  config.seed_offset = 10
  assert {tuple(c.config.seeds) for c in cells(config) if isinstance(c, TrainCell)} == {(10, 11)}


def test_wong_arms_train_on_their_attack_alone():
  by_name = {c.name: c for c in cells(get_config("quick"))}
  net = get_config("quick").fast.net
  programs = {arm: by_name[f"{net}_{arm}"].program_factory(by_name[f"{net}_{arm}"].config, 10, (28, 28, 1), 4)
              for arm in ("fgsm_zero", "fgsm_rs", "pgd")}
  assert all(p.alpha == 0.0 and p.eps == 0.3 for p in programs.values())
  assert (programs["fgsm_zero"].random_start, programs["fgsm_zero"].steps) == (False, 1)
  assert programs["fgsm_rs"].random_start and abs(programs["fgsm_rs"].step_size - 0.375) < 1e-9
  assert programs["pgd"].random_start and programs["pgd"].steps > 1
  assert by_name[f"{net}_pgd"].config.epochs == get_config("quick").fast.epochs
  assert by_name[f"{net}_pgd"].config.optim.name == "adam"
  assert f"{net}_pgd" not in by_name["transfer"].needs


def test_config_errors_name_the_valid_choices():
  with pytest.raises(ValueError, match="smoke, quick, full"):
    get_config("tiny")
  config = get_config("smoke")
  config.models = ("softmax", "resnet")
  with pytest.raises(UserError, match="resnet"):
    cells(config)


def test_adversarial_cells_train_at_the_configured_eps():
  config = get_config("smoke")
  config.eps, config.clip = 0.1, True
  by_name = {c.name: c for c in cells(config)}
  assert isinstance(by_name["maxout_adv"], TrainCell) and isinstance(by_name["transfer"], MeasureCell)
  cell = by_name["maxout_adv"]
  program = cell.program_factory(cell.config, 10, (8, 8, 1), 4)
  assert (program.eps, program.alpha, program.bounds) == (0.1, 0.5, (0.0, 1.0))
  assert by_name["fgsm_sweep"].spec["eps"] == 0.1 and by_name["transfer"].needs == tuple(TRAINED)


def test_claims_from_the_gathered_results():
  stats = lambda error, confidence=0.9: {"error": list(error), "confidence_on_errors": [confidence] * 2}  # noqa
  fams = {"softmax": {"fgsm": stats([1.0, 1.0], 0.85)},
          "maxout": {"fgsm": stats([0.95, 0.97], 0.99), "clean": stats([0.02, 0.02]), "pgd": stats([1.0, 1.0])},
          "maxout_adv": {"fgsm": stats([0.3, 0.32]), "clean": stats([0.03, 0.01]), "pgd": stats([0.3, 0.32]),
                         "fgsm_clipped": stats([0.3, 0.32]), "sweep": {"0.1": stats([0.1, 0.12])}}}
  r = {"families": fams, "robustness": {}, "arms": {},
       "settings": {"eps": 0.25, "seeds": [0, 1], "clip": False, "masking_eps": 0.1},
       "transfer": {"maxout": {"maxout": [0.6, 0.62], "maxout_adv": [0.2, 0.22]},
                    "maxout_adv": {"maxout": [0.4, 0.42]}}}
  verdicts = [c.held for c in claims.claims_of(r)]
  # softmax / maxout FGSM beyond the paper's rates, FGSM error halved, clean error within the noise,
  # PGD error halved, transfer > 50%, asymmetry, and no sign of masking (error rises with eps,
  # clipping and transfer do no better).
  assert verdicts == [True, True, True, None, True, True, True, False, None, False]
  r["settings"]["eps"] = 0.1
  assert [c.held for c in claims.claims_of(r)][:2] == [None, None]  # the paper's rates are at eps = 0.25
  for family in fams.values():  # one seed: no verdict decided on it
    for attack in family.values():
      for stats_ in ([attack] if "error" in attack else attack.values()):
        stats_["error"], stats_["confidence_on_errors"] = stats_["error"][:1], stats_["confidence_on_errors"][:1]
  r["transfer"] = {src: {tgt: v[:1] for tgt, v in row.items()} for src, row in r["transfer"].items()}
  r["settings"]["eps"] = 0.25
  assert {c.held for c in claims.claims_of(r)} == {None}


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("fgsm_adversarial")
  # An override on the command line: one more eps in the sweep.
  run_module("experiments.fgsm_adversarial", "--config=experiments/fgsm_adversarial/config.py:smoke",
             "--config.eps_grid=(0.0,0.1,0.25)", f"--workdir={workdir}", timeout=900, check=True)
  return workdir


def test_smoke_run_writes_every_cell_table_claim_and_figure(smoke_run):
  results = {name: json.loads((smoke_run / "cells" / name / "results.json").read_text())
             for name in [*TRAINED, *MEASURED]}
  sweep = results["fgsm_sweep"]["families"]
  pgd = results["pgd"]["families"]
  assert sorted(sweep) == sorted(pgd) == sorted(TRAINED)
  for name in ["maxout_adv", *ARMS]:  # the robustness hook, at init and after each epoch
    lines = (smoke_run / "cells" / name / "metrics.jsonl").read_text().splitlines()
    history = [json.loads(line) for line in lines]
    assert [h["epoch"] for h in history] == [0, 1]
    assert all(len(h[f"probe_{a}_acc"]) == 2 for h in history for a in ("clean", "fgsm", "pgd"))
  for name in TRAINED:
    assert len(results[name]["replicas"]) == 2
    assert set(sweep[name]["sweep"]) == {"0", "0.1", "0.25"}
    assert sweep[name]["sweep"]["0"] == sweep[name]["clean"]
    assert sweep[name]["sweep"]["0.25"] == sweep[name]["fgsm"]
    for stats in (sweep[name]["clean"], sweep[name]["fgsm"], pgd[name]):
      assert len(stats["error"]) == 2 and all(0.0 <= e <= 1.0 for e in stats["error"])
  transfer = results["transfer"]["transfer"]
  assert sorted(transfer) == sorted(TRAINED)
  assert all(len(v) == 2 and all(e == "nan" or 0 <= e <= 1 for e in v)  # JSON's NaN: "nan"
             for row in transfer.values() for v in row.values())
  assert [p["family"] for p in results["panda"]["examples"]] == ["maxout", "maxout_adv"]
  for name in ("table.md", "table.csv", "claims.json", "eps_sweep.png", "adversarial_panda.png",
               "robustness_over_training.png"):
    assert (smoke_run / name).stat().st_size > 0, name
  table = (smoke_run / "table.md").read_text()
  assert "Transfer" in table and "maxout_adv" in table and "eps=0.1" in table and "cnn_fgsm_rs" in table
  saved = json.loads((smoke_run / "claims.json").read_text())
  assert len(saved) == 12 and all(c["held"] in (True, False, None) and c["measured"] and c["criterion"]
                                  for c in saved)


def test_report_only_reproduces_the_report(smoke_run):
  before = {name: (smoke_run / name).read_bytes() for name in ("table.md", "claims.json")}
  for name in before:
    (smoke_run / name).unlink()
  run_module("experiments.fgsm_adversarial", f"--workdir={smoke_run}", "--report_only", check=True)
  assert {name: (smoke_run / name).read_bytes() for name in before} == before
