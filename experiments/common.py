"""What every entry point shares: the training flags, presets, process start-up, clean error exits.

Flags live here and in the experiment modules, never inside `jaxdl/`.
"""
from __future__ import annotations

import ast
import sys
import traceback
from typing import Any, Callable, Mapping, Sequence

from absl import flags, logging

from jaxdl import compilation_cache, xla_cpu_flags
from jaxdl.data import DATASETS
from jaxdl.errors import UserError
from jaxdl.initializers import INITIALIZERS
from jaxdl.losses import LOSSES
from jaxdl.models import MODELS
from jaxdl.optim import OPTIMIZERS, SCHEDULES, OptimConfig
from jaxdl.registry import parse_spec
from jaxdl.train import SWEEPABLE, TrainConfig, compile_clock, parallel
from jaxdl.train.config import RANGES, in_range
from jaxdl.train.config import SWEEP_RANGES as TRAIN_SWEEP_RANGES

FLAGS = flags.FLAGS
# A run or study stopped by a signal with its checkpoint saved: the same command resumes it.
EXIT_INTERRUPTED = 3

# Every entry point's (a training run, a study, run_all), so defined with the module.
flags.DEFINE_string("compilation_cache_dir", None,
                    "Where compiled XLA programs are kept and reused by later runs (default: "
                    f"$JAX_COMPILATION_CACHE_DIR, else {compilation_cache.DEFAULT_DIR}); '' turns the cache off.")


def define_train_flags(flag_values: flags.FlagValues = FLAGS) -> None:
  """The flags of one training run (`experiments.train` and the studies that train).

  Each number flag is checked when the command line is parsed (`FLAG_RANGES`),
  so a bad value is one line naming the valid range, before anything is written.
  """
  def define(kind: str, *args: Any, **kwargs: Any) -> None:
    getattr(flags, f"DEFINE_{kind}")(*args, flag_values=flag_values, **kwargs)

  define("string", "preset", None, "Named defaults (e.g. quick, full); explicit flags win.")
  define("enum", "dataset", "mnist", DATASETS.names(), "Dataset.")
  define("string", "data_dir", None, "Where the dataset files are (else $JAXDL_DATA_DIR, standard places).")
  define("bool", "download", False, "Download missing files from the mirrors (checksum-verified).")
  define("multi_string", "data_arg", [], "Dataset option key=value (Python literal), repeatable.")
  define("integer", "val_size", 0, "Last N training examples held out for validation.")
  define("integer", "train_size", 0, "Train on the first N examples only (0 = all).")
  define("enum", "model", "mlp", MODELS.names(), "Model family.")
  define("multi_string", "model_arg", [], "Model hyper-parameter key=value (Python literal), "
         "repeatable, e.g. --model_arg=widths=(100,100) --model_arg=activation=tanh.")
  define("string", "init", None, f"Kernel initializer spec name[:k=v,...]; names: "
         f"{', '.join(INITIALIZERS.names())}. E.g. normal:std=0.01.")
  define("string", "loss", "softmax_cross_entropy",
         f"Loss: a name ({', '.join(LOSSES.names())}), with arguments as name:key=value,... "
         "(e.g. softmax_cross_entropy:label_smoothing=0.1).")
  define("enum", "optimizer", "momentum", OPTIMIZERS.names(), "Optimizer.")
  define("float", "lr", 0.1, "Learning rate (peak of the schedule).")
  define("float", "momentum", 0.9, "Momentum (momentum, nesterov).")
  define("float", "rmsprop_momentum", 0.0, "RMSprop's momentum (0: Tieleman & Hinton's RMSprop).")
  define("enum", "schedule", "constant", SCHEDULES.names(), "Learning-rate schedule.")
  define("list", "decay_epochs", [], "Step schedule: epochs at which lr *= decay_factor.")
  define("float", "decay_factor", 0.1, "Step schedule factor.")
  define("float", "warmup_epochs", 0.0, "Linear warm-up length in epochs.")
  define("float", "weight_decay", 0.0, "L2 coefficient on kernels (adamw: decoupled).")
  define("float", "l1", 0.0, "L1 coefficient on kernels.")
  define("float", "clip_norm", 0.0, "Global gradient-norm clipping (0 = off).")
  define("float", "max_norm", 0.0, "Max-norm constraint on each unit's incoming weights (0 = off).")
  define("integer", "batch_size", 128, "Mini-batch size.")
  define("integer", "epochs", 10, "Epochs.")
  define("integer", "seeds", 1, "Replicas with seeds seed_offset .. seed_offset+seeds-1, in one program.")
  define("integer", "seed_offset", 0, "First seed.")
  define("list", "lr_grid", [], "Learning rates trained as replicas (times --seeds).")
  define("multi_string", "sweep", [], f"name=v1,v2,... trained as replicas; names: {', '.join(SWEEPABLE)}.")
  define("integer", "augment_shift", 0, "Random shifts by up to this many pixels.")
  define("float", "augment_noise", 0.0, "Gaussian input-noise std.")
  define("integer", "early_stopping_patience", 0, "Epochs without a better val accuracy (0 = off).")
  define("float", "divergence_loss", 1e4, "A loss above this (or non-finite) marks a replica diverged "
         "(0: only a non-finite loss).")
  define("integer", "checkpoint_every_steps", 0, "Also checkpoint every N steps (0 = epoch ends only). The scan "
         "runner steps a whole epoch at once, so it checkpoints (and honours SIGTERM) at epoch ends.")
  define("enum", "epoch_runner", "auto", ["auto", "loop", "scan"], "Epoch runner (auto: per backend).")
  define("string", "workdir", None, "Run directory: config, metrics, checkpoints (resumes from it).")
  for name, (ok, valid) in FLAG_RANGES.items():
    flags.register_validator(name, ok, f"must be {valid}", flag_values=flag_values)


def _finite(ok: Callable[[float], bool]) -> Callable[[Any], bool]:
  """`ok` on a finite number; NaN, infinities and what is not a number fail."""
  return lambda v: in_range(v, ok)


def _each(ok: Callable[[Any], bool], parse: type) -> Callable[[Sequence[str]], bool]:
  """A comma-separated list flag whose every item parses as `parse` and passes `ok`."""
  def check(items: Sequence[str]) -> bool:
    try:
      return all(ok(parse(x)) for x in items)
    except ValueError:
      return False
  return check


def _field(name: str, note: str = "") -> tuple[Callable[[Any], bool], str]:
  """The flag's check: its TrainConfig field's range (`jaxdl.train.config.RANGES`)."""
  test, valid = RANGES[name]
  return _finite(test), valid + note


def _integer_from(low: int, note: str = "") -> tuple[Callable[[Any], bool], str]:
  return _finite(lambda v: v >= low), f"an integer >= {low}{note}"


# Flag -> (check, the valid values in words), checked when the command line is parsed; the
# flags that set a TrainConfig field share its range, which TrainConfig checks again (for a
# study's --config.* overrides).
FLAG_RANGES: dict[str, tuple[Callable[[Any], bool], str]] = {
    **{flag: _field(f"optim.{flag}") for flag in (
        "lr", "decay_factor", "momentum", "rmsprop_momentum", "warmup_epochs", "weight_decay", "l1",
        "clip_norm", "max_norm")},
    **{flag: _field(flag) for flag in ("augment_noise", "divergence_loss", "val_size")},
    "train_size": _field("train_size", " (0 = all)"), "augment_shift": _field("augment_shift", " (pixels)"),
    "early_stopping_patience": _field("early_stopping_patience", " (0 = off)"),
    "checkpoint_every_steps": _field("checkpoint_every_steps", " (0 = at epoch ends only)"),
    "batch_size": _integer_from(1), "epochs": _integer_from(1),
    "seeds": _integer_from(1, " (the number of replicas)"), "seed_offset": _integer_from(0),
    "decay_epochs": (_each(lambda v: v >= 0, int), "a comma-separated list of integers >= 0"),
    "lr_grid": (_each(_field("optim.lr")[0], float), "a comma-separated list of finite numbers >= 0"),
}
# A swept hyper-parameter (--sweep=name=v1,v2) -> (check, the valid values in words).
SWEEP_RANGES = {name: (_finite(test), valid) for name, (test, valid) in TRAIN_SWEEP_RANGES.items()}


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


def _is_int(value: Any) -> bool:
  return isinstance(value, int) and not isinstance(value, bool)


def _option_problem(key: str, value: Any, default: Any) -> str | None:
  """What `value` must be to replace `default` (None if it fits): its type, sizes >= 1."""
  if isinstance(default, bool):
    return None if isinstance(value, bool) else "True or False"
  if isinstance(default, int):  # a size, stride or count; per-layer options also take a tuple of them
    per_layer = isinstance(value, (tuple, list)) and value and all(_is_int(v) and v >= 1 for v in value)
    return None if (_is_int(value) and value >= 1) or per_layer else "an integer >= 1 (or a tuple of them)"
  if isinstance(default, float):
    number = in_range(value, lambda v: True)
    if key.endswith("dropout_rate"):
      return None if number and 0 <= value < 1 else "in [0, 1)"
    return None if number else "a finite number"
  if isinstance(default, tuple):
    sizes = isinstance(value, (tuple, list)) and all(_is_int(v) and v >= 1 for v in value)
    return None if sizes else f"a tuple of integers >= 1, e.g. {key}={default}"
  return None  # names (activations, padding "SAME" or a number of pixels, ...): the model checks them


def check_model_options(model: str, options: Mapping[str, Any]) -> None:
  """Each model option must have its default's type (`_option_problem`), else a typo in a
  flag fails deep inside Flax with a traceback."""
  MODELS.resolve(model, options)  # unknown keys -> an error listing the valid ones
  defaults = MODELS.defaults(model)
  for key, value in options.items():
    problem = _option_problem(key, value, defaults[key])
    if problem:
      raise UserError(f"--model_arg={key}={value!r}: {model}'s {key} must be {problem}")


def parse_sweep(items: list[str]) -> dict[str, tuple[float, ...]]:
  """--sweep=name=v1,v2 -> {name: (v1, v2)}, each value checked against `SWEEP_RANGES`."""
  sweep = {}
  for key, value in parse_key_values(items, "sweep").items():
    texts = value if isinstance(value, tuple) else str(value).split(",")
    ok, valid = SWEEP_RANGES.get(key, (_finite(lambda v: True), "a finite number"))
    try:
      values = tuple(float(x) for x in texts)
    except (TypeError, ValueError):
      values = ()
    if not values or not all(ok(v) for v in values):
      raise UserError(f"--sweep={key}={','.join(map(str, texts))}: values must be comma-separated "
                      f"numbers, each {valid}")
    sweep[key] = values
  return sweep


def config_from_flags(flag_values: flags.FlagValues = FLAGS) -> TrainConfig:
  """A TrainConfig from the training flags (after `apply_preset`); a malformed option is a UserError."""
  f = flag_values
  model_options = parse_key_values(f.model_arg, "model_arg")
  check_model_options(f.model, model_options)
  if f.init:
    INITIALIZERS.resolve(*parse_spec(f.init, "initializer"))  # unknown name or argument -> one line
    model_options["kernel_init"] = f.init
  sweep = parse_sweep(f.sweep)
  if f.lr_grid:
    sweep["lr"] = tuple(float(x) for x in f.lr_grid)
  optim = OptimConfig(
      name=f.optimizer, lr=f.lr, momentum=f.momentum,
      rmsprop_momentum=f.rmsprop_momentum, schedule=f.schedule,
      decay_epochs=tuple(int(e) for e in f.decay_epochs), decay_factor=f.decay_factor,
      warmup_epochs=f.warmup_epochs, weight_decay=f.weight_decay, l1=f.l1,
      clip_norm=f.clip_norm, max_norm=f.max_norm)
  return TrainConfig(
      dataset=f.dataset, data_dir=f.data_dir, download=f.download,
      data_options=parse_key_values(f.data_arg, "data_arg"), val_size=f.val_size,
      train_size=f.train_size, model=f.model, model_options=model_options, loss=f.loss,
      optim=optim, batch_size=f.batch_size, epochs=f.epochs,
      seeds=tuple(range(f.seed_offset, f.seed_offset + f.seeds)), sweep=sweep,
      augment_shift=f.augment_shift, augment_noise=f.augment_noise,
      early_stopping_patience=f.early_stopping_patience, divergence_loss=f.divergence_loss,
      checkpoint_every_steps=f.checkpoint_every_steps, epoch_runner=f.epoch_runner)


# Errors a user causes with flags or files: reported in one clear line, no traceback.
# Anything else (a ValueError from inside JAX, a FileNotFoundError from inside Orbax) is
# a bug and keeps its traceback; the loaders raise a UserError for a missing data file.
USER_ERRORS = (UserError,)


def show_in_help(modules: Sequence[Any], doc: str | None = None) -> None:
  """What `--help` prints: absl lists the key flags of the module run (`sys.argv[0]`) under its
  docstring, but an entry point's flags are defined in a shared module (this one, the
  scaffold) and a study's description lives in its package: make both the entry point's."""
  for module in modules:
    for flag in FLAGS.get_key_flags_for_module(module):
      FLAGS.register_key_flag_for_module(sys.argv[0], flag)
  if doc is not None:
    sys.modules["__main__"].__doc__ = doc


def parse_flags(argv: list[str]) -> list[str]:
  """absl's parsing (`app.run(..., flags_parser=parse_flags)`), with a bad flag (an unknown
  name, a value absl cannot parse, one outside its range) in one line and exit 2.

  Every entry point parses its flags first, so this is also where its output becomes
  line-buffered: progress reaches a file or pipe (a SLURM log, nohup, tee) as it is printed,
  not when the process exits.
  """
  for stream in (sys.stdout, sys.stderr):
    if hasattr(stream, "reconfigure"):
      stream.reconfigure(line_buffering=True)
  try:
    return FLAGS(argv)
  # ml_collections' --config.<key>=<value> overrides raise the builtin errors.
  except (flags.Error, AttributeError, KeyError, TypeError, ValueError) as e:
    # Several failing validators give one line each: the last is enough to act on, as is
    # the last line of ml_collections' messages.
    print(f"error: {str(e).strip().splitlines()[-1]}", file=sys.stderr)
    sys.exit(2)


def start_process() -> None:
  """What every entry point does before its first computation: jaxdl's XLA:CPU flag
  (see `jaxdl.xla_cpu_flags`), the persistent compilation cache, counting compiles, then
  `jax.distributed` where a cluster is detected."""
  xla_cpu_flags.apply()
  compilation_cache.configure(FLAGS.compilation_cache_dir if FLAGS.is_parsed() else None)
  compile_clock.start_counting()
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
