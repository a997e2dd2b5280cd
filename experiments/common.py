"""What every entry point shares: the training flags, presets, process start-up, clean error exits.

Flags live here and in the experiment modules, never inside `jaxdl/`.
"""
from __future__ import annotations

import ast
import sys
import traceback
from typing import Any, Callable, Mapping

from absl import flags, logging

from jaxdl import xla_cpu_flags
from jaxdl.data import DATASETS
from jaxdl.errors import UserError
from jaxdl.initializers import INITIALIZERS
from jaxdl.losses import LOSSES
from jaxdl.models import MODELS
from jaxdl.optim import OPTIMIZERS, SCHEDULES, OptimConfig
from jaxdl.train import SWEEPABLE, TrainConfig, parallel

FLAGS = flags.FLAGS


def define_train_flags() -> None:
  """The flags of one training run (`experiments.train` and the studies that train)."""
  flags.DEFINE_string("preset", None, "Named defaults (e.g. quick, full); explicit flags win.")
  flags.DEFINE_enum("dataset", "mnist", DATASETS.names(), "Dataset.")
  flags.DEFINE_string("data_dir", None, "Where the dataset files are (else $JAXDL_DATA_DIR, standard places).")
  flags.DEFINE_bool("download", False, "Download missing files from the mirrors (checksum-verified).")
  flags.DEFINE_multi_string("data_arg", [], "Dataset option key=value (Python literal), repeatable.")
  flags.DEFINE_integer("val_size", 0, "Last N training examples held out for validation.")
  flags.DEFINE_integer("train_size", 0, "Train on the first N examples only (0 = all).")
  flags.DEFINE_enum("model", "mlp", MODELS.names(), "Model family.")
  flags.DEFINE_multi_string("model_arg", [], "Model hyper-parameter key=value (Python literal), "
                            "repeatable, e.g. --model_arg=widths=(100,100) --model_arg=activation=tanh.")
  flags.DEFINE_string("init", None, f"Kernel initializer spec name[:k=v,...]; names: "
                      f"{', '.join(INITIALIZERS.names())}. E.g. normal:std=0.01.")
  flags.DEFINE_enum("loss", "softmax_cross_entropy", LOSSES.names(), "Loss.")
  flags.DEFINE_enum("optimizer", "momentum", OPTIMIZERS.names(), "Optimizer.")
  flags.DEFINE_float("lr", 0.1, "Learning rate (peak of the schedule).")
  flags.DEFINE_float("momentum", 0.9, "Momentum (momentum, nesterov).")
  flags.DEFINE_float("rmsprop_momentum", 0.0, "RMSprop's momentum (0: Tieleman & Hinton's RMSprop).")
  flags.DEFINE_enum("schedule", "constant", SCHEDULES.names(), "Learning-rate schedule.")
  flags.DEFINE_list("decay_epochs", [], "Step schedule: epochs at which lr *= decay_factor.")
  flags.DEFINE_float("decay_factor", 0.1, "Step schedule factor.")
  flags.DEFINE_float("warmup_epochs", 0.0, "Linear warm-up length in epochs.")
  flags.DEFINE_float("weight_decay", 0.0, "L2 coefficient on kernels (adamw: decoupled).")
  flags.DEFINE_float("l1", 0.0, "L1 coefficient on kernels.")
  flags.DEFINE_float("clip_norm", 0.0, "Global gradient-norm clipping (0 = off).")
  flags.DEFINE_float("max_norm", 0.0, "Max-norm constraint on each unit's incoming weights (0 = off).")
  flags.DEFINE_integer("batch_size", 128, "Mini-batch size.")
  flags.DEFINE_integer("epochs", 10, "Epochs.")
  flags.DEFINE_integer("seeds", 1, "Replicas with seeds seed_offset .. seed_offset+seeds-1, in one program.")
  flags.DEFINE_integer("seed_offset", 0, "First seed.")
  flags.DEFINE_list("lr_grid", [], "Learning rates trained as replicas (times --seeds).")
  flags.DEFINE_multi_string("sweep", [], f"name=v1,v2,... trained as replicas; names: {', '.join(SWEEPABLE)}.")
  flags.DEFINE_integer("augment_shift", 0, "Random shifts by up to this many pixels.")
  flags.DEFINE_float("augment_noise", 0.0, "Gaussian input-noise std.")
  flags.DEFINE_integer("early_stopping_patience", 0, "Epochs without a better val accuracy (0 = off).")
  flags.DEFINE_float("divergence_loss", 1e4, "A loss above this (or non-finite) marks a replica diverged.")
  flags.DEFINE_integer("checkpoint_every_steps", 0, "Also checkpoint every N steps (0 = epoch ends only). The scan "
                       "runner steps a whole epoch at once, so it checkpoints (and honours SIGTERM) at epoch ends.")
  flags.DEFINE_enum("epoch_runner", "auto", ["auto", "loop", "scan"], "Epoch runner (auto: per backend).")
  flags.DEFINE_string("workdir", None, "Run directory: config, metrics, checkpoints (resumes from it).")


def parse_key_values(items: list[str], what: str) -> dict[str, Any]:
  """["a=1", "b=(2,3)", "c=tanh"] -> {"a": 1, "b": (2, 3), "c": "tanh"}."""
  out = {}
  for item in items:
    key, eq, text = item.partition("=")
    if not eq:
      raise UserError(f"--{what}={item!r}: expected key=value")
    text = text.strip()
    try:
      out[key.strip()] = ast.literal_eval(text)
    except (ValueError, SyntaxError):
      # A bare name (tanh, normal:std=0.01) is a string; a broken literal is a mistake.
      if text[:1] in "([{" or any(c in text for c in "*+"):
        raise UserError(f"--{what}={item!r}: {text!r} is not a Python literal "
                        "(write tuples out, e.g. widths=(1000,1000,1000))") from None
      out[key.strip()] = text
  return out


def apply_preset(presets: Mapping[str, Mapping[str, Any]], name: str | None) -> None:
  """Sets the preset's flag values, except for flags given on the command line."""
  if name is None:
    return
  if name not in presets:
    raise UserError(f"unknown --preset={name!r}; valid presets: {', '.join(presets)}")
  for flag, value in presets[name].items():
    if not FLAGS[flag].present:
      FLAGS[flag].value = value


def config_from_flags() -> TrainConfig:
  """A TrainConfig from the training flags (after `apply_preset`)."""
  model_options = parse_key_values(FLAGS.model_arg, "model_arg")
  if FLAGS.init:
    INITIALIZERS.entry(FLAGS.init.partition(":")[0])  # unknown name -> error listing the valid ones
    model_options["kernel_init"] = FLAGS.init
  MODELS.resolve(FLAGS.model, model_options)
  sweep = {k: tuple(float(x) for x in str(v).split(",")) if not isinstance(v, tuple) else v
           for k, v in parse_key_values(FLAGS.sweep, "sweep").items()}
  if FLAGS.lr_grid:
    sweep["lr"] = tuple(float(x) for x in FLAGS.lr_grid)
  optim = OptimConfig(
      name=FLAGS.optimizer, lr=FLAGS.lr, momentum=FLAGS.momentum,
      rmsprop_momentum=FLAGS.rmsprop_momentum, schedule=FLAGS.schedule,
      decay_epochs=tuple(int(e) for e in FLAGS.decay_epochs), decay_factor=FLAGS.decay_factor,
      warmup_epochs=FLAGS.warmup_epochs, weight_decay=FLAGS.weight_decay, l1=FLAGS.l1,
      clip_norm=FLAGS.clip_norm, max_norm=FLAGS.max_norm)
  return TrainConfig(
      dataset=FLAGS.dataset, data_dir=FLAGS.data_dir, download=FLAGS.download,
      data_options=parse_key_values(FLAGS.data_arg, "data_arg"), val_size=FLAGS.val_size,
      train_size=FLAGS.train_size, model=FLAGS.model, model_options=model_options, loss=FLAGS.loss,
      optim=optim, batch_size=FLAGS.batch_size, epochs=FLAGS.epochs,
      seeds=tuple(range(FLAGS.seed_offset, FLAGS.seed_offset + FLAGS.seeds)), sweep=sweep,
      augment_shift=FLAGS.augment_shift, augment_noise=FLAGS.augment_noise,
      early_stopping_patience=FLAGS.early_stopping_patience, divergence_loss=FLAGS.divergence_loss,
      checkpoint_every_steps=FLAGS.checkpoint_every_steps, epoch_runner=FLAGS.epoch_runner)


# Errors a user causes with flags or files: reported in one clear line, no traceback.
# Anything else (a ValueError from inside JAX included) is a bug and keeps its traceback.
USER_ERRORS = (UserError, FileNotFoundError)


def start_process() -> None:
  """What every entry point does before its first computation: jaxdl's XLA:CPU flag
  (see `jaxdl.xla_cpu_flags`), then `jax.distributed` where a cluster is detected."""
  xla_cpu_flags.apply()
  parallel.initialize_distributed()


def run_cleanly(main: Callable[[], int | None]) -> int:
  """Starts the process (`start_process`) and runs `main`; a user error prints
  `error: ...` to stderr and returns exit code 2.

  Library INFO logs (Orbax logs every save in detail) are hidden unless
  --verbosity was given (which also prints the error's traceback); jaxdl's own
  progress goes to stdout.
  """
  if not FLAGS["verbosity"].present:
    logging.set_verbosity(logging.WARNING)
  try:
    start_process()
    return main() or 0
  except USER_ERRORS as e:
    if FLAGS["verbosity"].present:  # where in the code the check fired
      traceback.print_exc()
    print(f"error: {e}", file=sys.stderr)
    return 2
