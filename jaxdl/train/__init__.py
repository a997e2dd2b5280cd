"""Training: state, pure steps, compiled replicas, checkpoints, the trainer."""
from jaxdl import xla_cpu_flags  # noqa: F401  (jaxdl may be a namespace package in editable installs)
from jaxdl.train.config import SWEEPABLE, TrainConfig
from jaxdl.train.trainer import RunResult, train_and_evaluate

__all__ = ["SWEEPABLE", "TrainConfig", "RunResult", "train_and_evaluate"]
