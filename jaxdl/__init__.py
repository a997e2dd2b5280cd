"""jaxdl: classic deep-learning ideas as reproducible JAX experiments."""
