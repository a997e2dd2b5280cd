"""XLA compile time in this process: how many programs were built, by name, and the seconds it took.

On a CPU the small studies spend most of their first epoch compiling; the
progress line reports that time apart from the training time, so throughput and
the ETA are not skewed by it. Counted from JAX's own monitoring event around a
backend compile, which also wraps a persistent-cache look-up: a cache hit counts
as a program built, with its (short) load time.
"""
from __future__ import annotations

import collections
import dataclasses
import threading

from jax import monitoring

# jax._src.dispatch.BACKEND_COMPILE_EVENT: reported once per program built, with its duration
# and the jitted function's name (`fun_name`).
BACKEND_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"


@dataclasses.dataclass(frozen=True)
class CompileTotals:
  count: int
  seconds: float

  def __sub__(self, earlier: "CompileTotals") -> "CompileTotals":
    return CompileTotals(self.count - earlier.count, self.seconds - earlier.seconds)


class _Clock:
  def __init__(self):
    self._lock = threading.Lock()
    self._installed = False
    self._count = 0
    self._seconds = 0.0
    self._by_program: dict[str, list[float]] = collections.defaultdict(list)

  def install(self) -> None:
    with self._lock:
      if not self._installed:
        monitoring.register_event_duration_secs_listener(self._on_event)
        self._installed = True

  def _on_event(self, event: str, duration_secs: float, **kwargs) -> None:
    if event == BACKEND_COMPILE_EVENT:
      with self._lock:
        self._count += 1
        self._seconds += duration_secs
        self._by_program[str(kwargs.get("fun_name", "?"))].append(duration_secs)

  def totals(self) -> CompileTotals:
    self.install()
    with self._lock:
      return CompileTotals(self._count, self._seconds)

  def by_program(self) -> dict[str, CompileTotals]:
    self.install()
    with self._lock:
      return {name: CompileTotals(len(s), sum(s)) for name, s in self._by_program.items()}


_CLOCK = _Clock()


def start_counting() -> None:
  """Counts every compile from now on (entry points call it before their first computation;
  otherwise counting starts at the first `compile_totals()`)."""
  _CLOCK.install()


def compile_totals() -> CompileTotals:
  """This process's compiles since the clock was first read; the difference of two calls
  is the compiling done in between."""
  return _CLOCK.totals()


def compiles_by_program() -> dict[str, CompileTotals]:
  """Per jitted function name: how many programs were built and their seconds."""
  return _CLOCK.by_program()
