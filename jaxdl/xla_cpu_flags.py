"""An XLA:CPU flag jaxdl needs, set before JAX starts its backend.

XLA:CPU's concurrency-optimized scheduler deadlocks (0% CPU, the main thread
waiting in Execute forever) on programs with many LAPACK calls in flight at once,
such as the vmapped init of a deep MLP with orthogonal weights (one QR per layer;
BUILD_NOTES.md, "The init study's hang"). XLA
reads $XLA_FLAGS when its backend starts (at the first computation, not at
`import jax`). Importing jaxdl changes no environment: entry points (the
experiments, the benchmarks, the tests' conftest) call `apply()` first. A value
the user already gave in $XLA_FLAGS wins.
"""
import os

FLAG = "--xla_cpu_enable_concurrency_optimized_scheduler"


def apply() -> None:
  if FLAG not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {FLAG}=false".strip()

