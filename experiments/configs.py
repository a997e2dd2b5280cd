"""Helpers for the studies' config files (`ml_collections`): the engine's settings as a section.

`train_section(**overrides)` is every `TrainConfig` field (and `optim`'s
`OptimConfig` fields) with its default, so a field added to `TrainConfig` is
at once a key of every study config (`--config.train.<field>=...`), with no
copy into flags or presets.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Sequence

from ml_collections import ConfigDict, config_dict

from jaxdl.optim import OptimConfig
from jaxdl.train import TrainConfig

VARIANTS = ("smoke", "quick", "full")  # seconds (tests), a laptop CPU, the papers' scale

# Fields whose default is None need a declared type to be overridable from the command line.
_OPTIONAL_TYPES = {"data_dir": str}


def check_variant(variant: str, valid: Sequence[str] = VARIANTS) -> None:
  """An unknown config variant is a ValueError naming the valid ones."""
  if variant not in valid:
    raise ValueError(f"unknown config variant {variant!r}; valid: {', '.join(valid)}")


def _section(cls: type, overrides: dict[str, Any]) -> ConfigDict:
  fields = {f.name: f for f in dataclasses.fields(cls)}
  unknown = sorted(set(overrides) - set(fields))
  if unknown:
    raise KeyError(f"unknown {cls.__name__} field(s) {unknown}; valid: {', '.join(fields)}")
  values = {}
  for name, field in fields.items():
    default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
    value = overrides.get(name, default)
    if name == "optim":
      value = optim_section(**(value if isinstance(value, dict) else dataclasses.asdict(value)))
    elif value is None:
      value = config_dict.placeholder(_OPTIONAL_TYPES.get(name, str))
    elif isinstance(value, list):
      value = tuple(value)
    values[name] = value
  return ConfigDict(values)


def optim_section(**overrides: Any) -> ConfigDict:
  return _section(OptimConfig, overrides)


def train_section(*, exclude: Sequence[str] = (), **overrides: Any) -> ConfigDict:
  """A `train` config section: TrainConfig's defaults with `overrides` (optim as a dict).

  `exclude`: fields a study sets per cell (model, seeds, ...), left out so that
  overriding them in this section is an unknown-key error, not silently ignored.
  """
  section = _section(TrainConfig, overrides)
  for name in exclude:
    del section[name]
  return section


def train_config(section: ConfigDict, **changes: Any) -> TrainConfig:
  """The TrainConfig of a `train` section, with `changes` (e.g. model, model_options, seeds)."""
  values = section.to_dict()
  if isinstance(changes.get("optim"), dict):
    changes["optim"] = {**values.get("optim", {}), **changes["optim"]}
  return TrainConfig.from_dict({**values, **changes})


def seed_range(config: ConfigDict, count: int | None = None) -> tuple[int, ...]:
  """The seeds a study's cells train as replicas: seed_offset .. seed_offset + count - 1
  (count: `config.seeds` unless a part or rung sets its own).

  Rerunning a study with another `--config.seed_offset` (and another workdir) is how a
  verdict is checked not to depend on the seeds.
  """
  offset = config.get("seed_offset", 0)
  return tuple(range(offset, offset + (config.seeds if count is None else count)))
