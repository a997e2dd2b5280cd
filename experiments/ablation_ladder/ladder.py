"""Ladder files: a starting protocol and cumulative rungs, each a set of overrides (JSON).

A ladder (`ladders/*.json`) has a `protocol` (the starting configuration) and
`rungs`, each a `name`, what it `adds`, the `book`'s number (% MNIST test
accuracy, or null) and a `set` of overrides applied on top of the rung before
it. Keys of `set` (and of `protocol`): any TrainConfig field but `sweep`
(`model`, `model_options` (merged; reset when `model` changes), `epochs`,
`batch_size`, `seeds` (a count), ...), `optim` (merged OptimConfig fields), and
the ladder's own: `expand_data` (Nielsen's 5x one-pixel shifts), `vote` (the
rung's number is the majority vote of that many seeds' nets), `train_size`,
`val_subset`, `test_subset` (the first N examples of each split).
"""
from __future__ import annotations

import dataclasses
import json
import os
from typing import Any, Mapping

from ml_collections import ConfigDict

from experiments import configs
from jaxdl.errors import UserError
from jaxdl.optim import OptimConfig
from jaxdl.train import TrainConfig
from jaxdl.train.config import as_tuples

LADDER_DIR = os.path.join(os.path.dirname(__file__), "ladders")
LADDER_KEYS = ("expand_data", "vote", "train_size", "val_subset", "test_subset", "optim")
TRAIN_KEYS = tuple(f.name for f in dataclasses.fields(TrainConfig) if f.name not in ("optim", "sweep"))
# What the rungs set for every rung, whatever the ladder says: the study's datasets and
# seeds, the protocol's validation split; `train_size` cuts the data instead (see data.py).
SET_FOR_EVERY_RUNG = ("dataset", "seeds", "val_size", "train_size")
DEFAULT_VAL_SIZE = 10000  # Nielsen's 50k/10k split of MNIST's 60k training images


def load_ladder(path: str, protocol: Mapping[str, Any] | None = None) -> dict[str, Any]:
  """Reads and checks a ladder file (a name in ladders/ or a path), with `protocol`'s
  values set on top of its protocol. Unknown keys are an error listing the valid ones."""
  if not os.path.exists(path) and os.path.exists(os.path.join(LADDER_DIR, path)):
    path = os.path.join(LADDER_DIR, path)
  try:
    with open(path) as f:
      ladder = json.load(f)
  except FileNotFoundError:
    raise UserError(f"no ladder file {path} (nor {os.path.join(LADDER_DIR, path)}); shipped: "
                    f"{', '.join(sorted(os.listdir(LADDER_DIR)))}") from None
  except json.JSONDecodeError as e:
    raise UserError(f"ladder {path} is not valid JSON: {e}") from None
  for key in ("protocol", "rungs"):
    if key not in ladder:
      raise UserError(f"ladder {path}: missing {key!r}")
  ladder["protocol"] = {**ladder["protocol"], **(protocol or {})}
  rungs = [(r["name"], r.get("set", {})) for r in ladder["rungs"]]
  for where, overrides in [("protocol", ladder["protocol"]), *rungs]:
    unknown = sorted(set(overrides) - set(TRAIN_KEYS) - set(LADDER_KEYS))
    if unknown:
      raise UserError(f"ladder {path}, {where}: unknown keys {unknown}; valid: "
                      f"{', '.join(TRAIN_KEYS + LADDER_KEYS)}")
    bad_optim = sorted(set(overrides.get("optim", {})) - {f.name for f in dataclasses.fields(OptimConfig)})
    if bad_optim:
      raise UserError(f"ladder {path}, {where}: unknown optim keys {bad_optim}")
  return ladder


def apply_overrides(current: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
  """One rung on top of the last: optim and model_options merge, the rest replace.

  model_options restart from the rung's own when the rung changes the model
  (an mlp's `widths` mean nothing to a cnn).
  """
  out = {**current}
  overrides = as_tuples(overrides)
  for key, value in overrides.items():
    if key == "optim":
      out["optim"] = {**current.get("optim", {}), **value}
    elif key == "model_options":
      same_model = overrides.get("model", current.get("model")) == current.get("model")
      out["model_options"] = {**(current.get("model_options", {}) if same_model else {}), **value}
    else:
      out[key] = value
  if "vote" not in overrides:  # a vote reports on its own rung only
    out.pop("vote", None)
  return out


def rung_specs(ladder: dict[str, Any], dataset: str, seeds: int = 0) -> list[dict[str, Any]]:
  """The full (cumulative) specification of every rung, in order. seeds > 0 replaces the protocol's."""
  current = as_tuples(ladder["protocol"])
  if seeds:
    current["seeds"] = seeds
  specs = []
  for rung in ladder["rungs"]:
    current = apply_overrides(current, rung.get("set", {}))
    specs.append({**current, "dataset": dataset})
  return specs


def train_config(spec: dict[str, Any], train: ConfigDict, seed_offset: int = 0) -> TrainConfig:
  """The TrainConfig of a rung spec on top of the `train` section (the engine's settings
  the ladder leaves alone); the ladder's own keys are applied to the data instead. The
  rung's seeds start at `seed_offset`."""
  fields = {k: v for k, v in spec.items() if k in TRAIN_KEYS and k not in ("seeds", "train_size", "val_size")}
  n_seeds = max(int(spec.get("seeds", 1)), int(spec.get("vote", 0)))  # a vote needs its nets
  seeds = tuple(range(seed_offset, seed_offset + n_seeds))
  return configs.train_config(train, **fields, val_size=spec.get("val_size", DEFAULT_VAL_SIZE),
                              seeds=seeds, optim=dict(spec.get("optim", {})))


def check_train_section(train: ConfigDict, ladder: dict[str, Any]) -> None:
  """A `train` field changed from its default that the ladder sets would be silently
  replaced by the ladder's value: an error that says where to change it instead."""
  defaults, values = configs.train_section().to_dict(), train.to_dict()
  changed = {k for k, v in values.items() if k != "optim" and v != defaults[k]}
  changed |= {f"optim.{k}" for k, v in values["optim"].items() if v != defaults["optim"][k]}
  set_by_ladder = set(SET_FOR_EVERY_RUNG)
  for overrides in [ladder["protocol"], *(r.get("set", {}) for r in ladder["rungs"])]:
    set_by_ladder |= set(overrides) - {"optim"}
    set_by_ladder |= {f"optim.{k}" for k in overrides.get("optim", {})}
  clash = sorted(changed & set_by_ladder)
  if clash:
    raise UserError(f"train.{', train.'.join(clash)}: set by the ladder {ladder.get('name', '')!r} (or, for "
                    f"dataset/seeds, by --config.dataset / --config.seeds); change the ladder's protocol "
                    f"with --config.protocol.<key> or edit the ladder file")
