"""Launchers: sweeps over an experiment's flags, run locally, as SLURM job arrays, or on TPU VMs.

`launch.sweep` expands a grid into runs (one run directory each) and hands them
to a backend; `launch.collect` gathers the run directories into one table and
figure. The engines are the clusters' own (SLURM, `jax.distributed`), not a
scheduler of ours.
"""
