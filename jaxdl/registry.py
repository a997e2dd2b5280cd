"""Name -> builder registries with default hyper-parameters.

Every pluggable piece (datasets, models, initializers, optimizers, losses) is
looked up by name. An unknown name, or an override of a key the builder does
not declare, is an error that lists what is valid: a typo in a flag must never
silently fall back to a default.

A flag or a saved config names an entry by a spec string, `"name"` or
`"name:key=value,..."` (e.g. `"softmax_cross_entropy:label_smoothing=0.1"`),
parsed by `parse_spec`; `Registry.build_spec` builds from one.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Generic, TypeVar

from jaxdl.errors import UserError

T = TypeVar("T")


class RegistryError(UserError):
  """An unknown name or hyper-parameter was asked of a registry."""


@dataclasses.dataclass(frozen=True)
class Entry(Generic[T]):
  builder: Callable[..., T]
  defaults: dict[str, Any]
  doc: str


def _parse_value(text: str) -> Any:
  for cast in (int, float):
    try:
      return cast(text)
    except ValueError:
      pass
  return text


def parse_spec(spec: str, kind: str = "registry") -> tuple[str, dict[str, Any]]:
  """`"name:key=value,..."` -> `("name", {"key": value})`; numbers are parsed, the rest stay strings."""
  name, _, args = spec.partition(":")
  kwargs = {}
  for item in filter(None, args.split(",")):
    key, eq, value = item.partition("=")
    if not eq:
      raise RegistryError(f"{kind} spec {spec!r}: expected key=value, got {item!r}")
    kwargs[key.strip()] = _parse_value(value.strip())
  return name.strip(), kwargs


class Registry(Generic[T]):
  """Maps a name to a builder and the defaults of its keyword arguments."""

  def __init__(self, kind: str):
    self.kind = kind
    self._entries: dict[str, Entry[T]] = {}

  def register(self, name: str, doc: str = "", **defaults: Any):
    """Decorator: `@REG.register("mlp", depth=3)` registers a builder."""

    def wrap(builder: Callable[..., T]) -> Callable[..., T]:
      if name in self._entries:
        raise RegistryError(f"{self.kind} {name!r} is registered twice")
      self._entries[name] = Entry(builder, dict(defaults), doc or (builder.__doc__ or "").strip())
      return builder

    return wrap

  def names(self) -> list[str]:
    return sorted(self._entries)

  def entry(self, name: str) -> Entry[T]:
    if name not in self._entries:
      raise RegistryError(
          f"unknown {self.kind} {name!r}; valid {self.kind}{'es' if self.kind.endswith('s') else 's'}: "
          f"{', '.join(self.names())}")
    return self._entries[name]

  def defaults(self, name: str) -> dict[str, Any]:
    return dict(self.entry(name).defaults)

  def resolve(self, name: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The defaults of `name` updated by `overrides`; unknown keys are an error."""
    params = self.defaults(name)
    unknown = sorted(set(overrides or {}) - set(params))
    if unknown:
      raise RegistryError(
          f"{self.kind} {name!r} has no hyper-parameter(s) {', '.join(unknown)}; "
          f"valid: {', '.join(sorted(params)) or '(none)'}")
    params.update(overrides or {})
    return params

  def build(self, name: str, overrides: dict[str, Any] | None = None, **fixed: Any) -> T:
    """Calls the builder with defaults + overrides (checked) + fixed arguments."""
    return self.entry(name).builder(**self.resolve(name, overrides), **fixed)

  def build_spec(self, spec: str, **fixed: Any) -> T:
    """Builds from a spec string, `"name"` or `"name:key=value,..."` (see `parse_spec`)."""
    name, overrides = parse_spec(spec, self.kind)
    return self.build(name, overrides, **fixed)

  def __contains__(self, name: str) -> bool:
    return name in self._entries
