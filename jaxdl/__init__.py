"""jaxdl: classic deep-learning ideas as reproducible JAX experiments."""
from jaxdl import xla_cpu_flags  # noqa: F401  (before any computation: see the module)
