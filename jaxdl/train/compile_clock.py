"""XLA compile time in this process: how many programs were built, by name, and the seconds it took.

On a CPU the small studies spend most of their first epoch compiling; the
progress line reports that time apart from the training time, so throughput and
the ETA are not skewed by it. Counted from JAX's own monitoring event around a
backend compile, which also wraps a persistent-cache look-up: a program loaded from
the cache counts as a program built, with its (short) load time, and is also counted
as `cached` (JAX's cache-hit event fires inside that same call, on the same thread).
"""
from __future__ import annotations

import collections
import dataclasses
import threading

from jax import monitoring

# jax._src.dispatch.BACKEND_COMPILE_EVENT: reported once per program built, with its duration
# and the jitted function's name (`fun_name`).
BACKEND_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"
# jax._src.compiler: recorded when a program is loaded from the persistent cache, inside the call
# that BACKEND_COMPILE_EVENT times.
CACHE_HIT_EVENT = "/jax/compilation_cache/cache_hits"


@dataclasses.dataclass(frozen=True)
class CompileTotals:
  count: int      # programs built (compiled, or loaded from the persistent cache)
  seconds: float
  cached: int = 0  # of `count`, those loaded from the persistent cache

  def __sub__(self, earlier: "CompileTotals") -> "CompileTotals":
    return CompileTotals(self.count - earlier.count, self.seconds - earlier.seconds, self.cached - earlier.cached)

  def describe(self) -> str:
    """e.g. "6 programs, 4 from the cache"."""
    return f"{self.count} programs" + (f", {self.cached} from the cache" if self.cached else "")


class _Clock:
  def __init__(self):
    self._lock = threading.Lock()
    self._installed = False
    self._count = 0
    self._seconds = 0.0
    self._cached = 0
    self._by_program: dict[str, list[float]] = collections.defaultdict(list)
    self._cached_by_program: dict[str, int] = collections.defaultdict(int)
    self._hit = threading.local()  # a cache hit seen in this thread's compile now being timed

  def install(self) -> None:
    with self._lock:
      if not self._installed:
        monitoring.register_event_duration_secs_listener(self._on_event)
        monitoring.register_event_listener(self._on_cache_hit)
        self._installed = True

  def _on_cache_hit(self, event: str, **kwargs) -> None:
    if event == CACHE_HIT_EVENT:
      self._hit.seen = True

  def _on_event(self, event: str, duration_secs: float, **kwargs) -> None:
    if event == BACKEND_COMPILE_EVENT:
      hit, self._hit.seen = getattr(self._hit, "seen", False), False
      name = str(kwargs.get("fun_name", "?"))
      with self._lock:
        self._count += 1
        self._seconds += duration_secs
        self._cached += hit
        self._by_program[name].append(duration_secs)
        self._cached_by_program[name] += hit

  def totals(self) -> CompileTotals:
    self.install()
    with self._lock:
      return CompileTotals(self._count, self._seconds, self._cached)

  def by_program(self) -> dict[str, CompileTotals]:
    self.install()
    with self._lock:
      return {name: CompileTotals(len(s), sum(s), self._cached_by_program[name])
              for name, s in self._by_program.items()}


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
