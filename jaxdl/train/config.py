"""The configuration of one training run (K replicas of one model on one dataset)."""
from __future__ import annotations

import dataclasses
import itertools
import math
import numbers
from typing import Any, Callable, Mapping, Sequence

from jaxdl.errors import UserError
from jaxdl.losses import LOSSES
from jaxdl.optim import OptimConfig

# Hyper-parameters that may differ between the replicas of one compiled program.
# Each is a traced array inside the train step, never a constant baked into it.
SWEEPABLE = ("lr", "weight_decay", "l1", "dropout_rate")

POSITIVE = (lambda v: v > 0, "a finite number > 0")
NON_NEGATIVE = (lambda v: v >= 0, "a finite number >= 0 (0 = off)")
FRACTION = (lambda v: 0 <= v < 1, "in [0, 1)")
RATE = (lambda v: v >= 0, "a finite number >= 0 (0: no updates, a control)")
COUNT = (lambda v: v >= 0, "an integer >= 0")
# A field (optim.<name> for the optimizer's) -> (the test on a finite number, the valid values
# in words). Checked for every TrainConfig, so a study's --config.* override gets the same one
# line as a training flag (experiments/common.py checks the flags against the same table).
RANGES: dict[str, tuple[Callable[[float], bool], str]] = {
    "optim.lr": RATE, "optim.decay_factor": POSITIVE,
    "optim.momentum": FRACTION, "optim.rmsprop_momentum": FRACTION,
    "optim.warmup_epochs": NON_NEGATIVE, "optim.weight_decay": NON_NEGATIVE, "optim.l1": NON_NEGATIVE,
    "optim.clip_norm": NON_NEGATIVE, "optim.max_norm": NON_NEGATIVE, "augment_noise": NON_NEGATIVE,
    "divergence_loss": (lambda v: v >= 0, "a finite number >= 0 (0: only a non-finite loss)"),
    "val_size": COUNT, "train_size": COUNT, "augment_shift": COUNT, "early_stopping_patience": COUNT,
    "checkpoint_every_steps": COUNT,
}
# A swept hyper-parameter's values, by its name.
SWEEP_RANGES = {"lr": RATE, "weight_decay": NON_NEGATIVE, "l1": NON_NEGATIVE, "dropout_rate": FRACTION}


def in_range(value: Any, test: Callable[[float], bool]) -> bool:
  """A finite real number (NumPy's too; not a bool) that passes `test`."""
  number = isinstance(value, numbers.Real) and not isinstance(value, bool)
  return number and math.isfinite(value) and test(value)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
  dataset: str = "mnist"
  data_dir: str | None = None
  data_options: dict[str, Any] = dataclasses.field(default_factory=dict)
  download: bool = False
  val_size: int = 0               # last N training examples held out for validation
  train_size: int = 0             # use only the first N training examples; 0 = all
  model: str = "mlp"
  model_options: dict[str, Any] = dataclasses.field(default_factory=dict)
  loss: str = "softmax_cross_entropy"  # a loss spec: "name" or "name:key=value,..." (jaxdl.losses)
  optim: OptimConfig = OptimConfig()
  batch_size: int = 128
  epochs: int = 10
  seeds: Sequence[int] = (0,)
  sweep: dict[str, Sequence[float]] = dataclasses.field(default_factory=dict)
  augment_shift: int = 0          # random shifts by up to this many pixels
  augment_noise: float = 0.0      # Gaussian input noise std
  early_stopping_patience: int = 0  # epochs without a better val accuracy; 0 = off
  checkpoint_every_steps: int = 0   # 0 = at each epoch's end only
  keep_checkpoints: int = 3
  epoch_runner: str = "auto"      # auto | loop | scan
  # A replica diverges when its loss is non-finite or above this (0: non-finite
  # only): an exploding net whose loss is 1e30 has diverged, whether or not
  # float32 has overflowed yet.
  divergence_loss: float = 1e4
  eval_batch_size: int = 1000

  def __post_init__(self):
    unknown = sorted(set(self.sweep) - set(SWEEPABLE))
    if unknown:
      raise UserError(f"cannot sweep {unknown}; sweepable hyper-parameters: {', '.join(SWEEPABLE)}")
    LOSSES.build_spec(self.loss)  # an unknown loss, argument or value: one line naming the valid ones
    if self.epoch_runner not in ("auto", "loop", "scan"):
      raise UserError(f"epoch_runner {self.epoch_runner!r}; valid: auto, loop, scan")
    if not self.seeds:
      raise UserError("seeds is empty: give at least one seed")
    for name, value in [("batch_size", self.batch_size), ("epochs", self.epochs)]:
      if value < 1:
        raise UserError(f"{name} must be >= 1, got {value}")
    for name, (test, valid) in RANGES.items():
      value = getattr(self.optim, name[len("optim."):]) if name.startswith("optim.") else getattr(self, name)
      if not in_range(value, test):
        raise UserError(f"{name}={value!r}: must be {valid}")
    for name, values in self.sweep.items():
      test, valid = SWEEP_RANGES[name]
      if not all(in_range(v, test) for v in values):
        raise UserError(f"sweep {name}={tuple(values)!r}: each value must be {valid}")

  def replicas(self) -> list[dict[str, float]]:
    """One dict per replica: the sweep grid (outer) times the seeds (inner).

    Every replica carries every sweepable value (the config's own where not
    swept), so the train step reads them all from traced arrays.
    """
    base = {"lr": self.optim.lr, "weight_decay": self.optim.weight_decay, "l1": self.optim.l1,
            "dropout_rate": float(self.model_options.get("dropout_rate", 0.0))}
    names = list(self.sweep)
    out = []
    for values in itertools.product(*(self.sweep[n] for n in names)):
      for seed in self.seeds:
        out.append({**base, **dict(zip(names, map(float, values))), "seed": int(seed)})
    return out

  def to_json(self) -> dict[str, Any]:
    return dataclasses.asdict(self)

  @classmethod
  def from_dict(cls, values: Mapping[str, Any]) -> "TrainConfig":
    """A TrainConfig from a (nested) mapping such as a config file's `train` section.

    Unknown keys are an error naming the valid ones; lists become tuples (model
    widths, seeds), and `optim` may be a mapping of `OptimConfig` fields.
    """
    values = dict(values)
    optim = values.pop("optim", None)
    _check_keys(values, cls, "train")
    if isinstance(optim, Mapping):
      _check_keys(optim, OptimConfig, "train.optim")
      values["optim"] = OptimConfig(**{k: as_tuples(v) for k, v in optim.items()})
    elif optim is not None:
      values["optim"] = optim
    return cls(**{k: as_tuples(v) for k, v in values.items()})


def _check_keys(values: Mapping[str, Any], cls: type, where: str) -> None:
  valid = [f.name for f in dataclasses.fields(cls)]
  unknown = sorted(set(values) - set(valid))
  if unknown:
    raise UserError(f"unknown {where} key(s) {unknown}; valid: {', '.join(valid)}")


def as_tuples(value: Any) -> Any:
  """Lists (also nested, and inside mappings) as tuples: configs read back from JSON compare equal."""
  if isinstance(value, Mapping):
    return {k: as_tuples(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return tuple(as_tuples(v) for v in value)
  return value
