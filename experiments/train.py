"""Train any registered model on any registered dataset, K replicas at once.

  python -m experiments.train --preset=quick
  python -m experiments.train --preset=full --workdir=runs/cnn_mnist

`--preset=quick` (laptop CPU, under a minute): an MLP 784-100-10 on MNIST, two
epochs, two seeds. `--preset=full`: the CNN of the engine issue (conv 20x5x5 +
pool, conv 40x5x5 + pool, FC100, ReLU), SGD momentum 0.9, batch 128; see
BUILD_NOTES.md for its measured accuracy, time and hardware.

`--help` lists its flags (`--helpfull` adds absl's and JAX's). Results go to
--workdir (config.json, metrics.jsonl, TensorBoard events, results.json,
table.md/csv, a figure); a run is resumed from its latest checkpoint when
started again with the same flags.
"""
from __future__ import annotations

import sys

import jax
from absl import app, flags

from experiments import common
from experiments.common import EXIT_INTERRUPTED, apply_preset, config_from_flags, define_train_flags, parse_flags, \
    run_cleanly, show_in_help
from jaxdl.report.provenance import provenance
from jaxdl.train import RunStatus, train_and_evaluate

FLAGS = flags.FLAGS

PRESETS = {
    "quick": dict(dataset="mnist", model="mlp", model_arg=["widths=(100,)"], optimizer="momentum",
                  lr=0.05, batch_size=128, epochs=2, seeds=2),
    "full": dict(dataset="mnist", model="cnn", model_arg=[], optimizer="momentum", lr=0.05,
                 momentum=0.9, schedule="cosine", batch_size=128, epochs=15, seeds=1,
                 weight_decay=5e-4),
}


def main(argv: list[str]) -> None:
  del argv

  def run() -> int:
    apply_preset(PRESETS, FLAGS.preset)
    result = train_and_evaluate(config_from_flags(), FLAGS.workdir, provenance=provenance())
    if jax.process_index() == 0:  # every process holds the results; one prints them
      print(f"\nstatus: {result.status} ({result.wall_time_s:.1f} s)")
      for r in result.replicas:
        if r["status"] == "diverged":
          print(f"  seed {r['seed']} lr {r['lr']:g}: diverged at step {r['diverged_step']}")
      print(result.table)
    # Stopped by a signal (checkpoint saved): not a success, so a scheduler or script sees it.
    return EXIT_INTERRUPTED if result.status == RunStatus.INCOMPLETE else 0

  sys.exit(run_cleanly(run))


if __name__ == "__main__":
  define_train_flags()
  show_in_help([common])
  app.run(main, flags_parser=parse_flags)
