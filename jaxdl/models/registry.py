"""The model registry: a Flax module class plugs in by name.

A model's hyper-parameters are its dataclass fields; their defaults are the
registry's defaults, so `MODELS.resolve` rejects an override of a field the
module does not have. Every model is called as `model.apply(vars, x, train=...)`
and returns logits [B, num_classes] (or predictions [B, num_outputs]).
"""
from __future__ import annotations

import dataclasses
from typing import Any

import flax.linen as nn

from jaxdl.registry import Registry

MODELS: Registry[nn.Module] = Registry("model")
_NOT_HYPERPARAMETERS = {"parent", "name", "num_classes"}


def register_model(name: str):
  """Class decorator: registers a Linen module with its fields as hyper-parameters."""

  def wrap(cls: type[nn.Module]) -> type[nn.Module]:
    defaults: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
      if field.name in _NOT_HYPERPARAMETERS or not field.init:
        continue
      if field.default is not dataclasses.MISSING:
        defaults[field.name] = field.default
      elif field.default_factory is not dataclasses.MISSING:
        defaults[field.name] = field.default_factory()
    MODELS.register(name, doc=(cls.__doc__ or "").strip().splitlines()[0], **defaults)(cls)
    return cls

  return wrap


def build_model(name: str, num_classes: int, overrides: dict[str, Any] | None = None) -> nn.Module:
  """The registered model `name` with `overrides` (checked against its fields)."""
  return MODELS.build(name, overrides, num_classes=num_classes)
