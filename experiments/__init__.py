"""Experiments: one module per study, each with absl flags and a main()."""
