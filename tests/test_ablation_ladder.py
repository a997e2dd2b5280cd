"""The ablation ladder: ladder files as data, cumulative rungs, one tiny end-to-end run."""
import json
import os

import pytest

from experiments import ablation_ladder as al
from jaxdl.errors import UserError


def test_shipped_ladders_load_with_the_books_numbers():
  for name in ("nielsen_ch6.json", "nielsen_ch6_quick.json", "nielsen_ch6_cpu.json"):
    ladder = al.load_ladder(name)
    assert [r["book"] for r in ladder["rungs"]] == [97.80, 98.78, 99.06, 99.23, 99.37, 99.43, 99.60, 99.67]
  specs = al.rung_specs(al.load_ladder("nielsen_ch6.json"), "mnist")
  relu, expanded, drop, vote = specs[3], specs[4], specs[6], specs[7]
  assert relu["optim"] == {"name": "sgd", "lr": 0.03, "weight_decay": 2e-5}  # 0.1 * 10 / 50000
  assert expanded["expand_data"] and expanded["optim"]["weight_decay"] == 4e-6  # 0.1 * 10 / 250000
  assert drop["model_options"]["dense_widths"] == (1000, 1000) and drop["epochs"] == 40
  assert drop["model_options"]["conv_features"] == (20, 40)  # inherited from the rungs before
  assert al.train_config(vote).seeds == tuple(range(5)) and al.train_config(vote).batch_size == 10


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


def test_ladder_runs_end_to_end_on_a_tiny_ladder(tmp_path):
  ladder = {"name": "tiny", "protocol": {"batch_size": 40, "epochs": 1, "seeds": 2, "train_size": 200,
                                         "val_subset": 100, "test_subset": 100, "optim": {"name": "sgd", "lr": 0.5}},
            "rungs": [{"name": "mlp", "book": 90.0, "set": {"model": "mlp", "model_options": {"widths": [8]}}},
                      {"name": "expanded", "book": 91.0, "set": {"expand_data": True}},
                      {"name": "vote", "book": 92.0, "set": {"vote": 2}}]}
  study = al.run_ladder(ladder, ["mnist"], echo=lambda line: None)
  n_train = [r["n_train"] for r in study["rungs"]]
  assert n_train == [200, 1000, 1000]
  assert len(study["rungs"][0]["accs"]) == 2 and len(study["rungs"][2]["accs"]) == 1
  assert all(0.0 <= a <= 1.0 for r in study["rungs"] for a in r["accs"])
  first = study["rungs"][0]  # one epoch, two seeds: a one-point curve per seed, ending at the reported number
  assert [len(c) for c in first["val_acc_curves"]] == [1, 1] and len(first["test_acc_curves"]) == 2
  assert [c[-1] for c in first["test_acc_curves"]] == first["accs"]
  claims = al.write_report(study, str(tmp_path), echo=lambda line: None)
  assert len(claims) == 4  # three rungs vs the book, and the ordering
  for name in ("table.md", "table.csv", "results.json", "claims.json", "ladder.png"):
    assert os.path.getsize(tmp_path / name) > 0
  assert "| vote |" in (tmp_path / "table.md").read_text()
