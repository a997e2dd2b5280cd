"""Training: state, pure steps, compiled replicas, checkpoints, the trainer."""
from jaxdl.train.config import SWEEPABLE, TrainConfig
from jaxdl.train.trainer import RunResult, train_and_evaluate

__all__ = ["SWEEPABLE", "TrainConfig", "RunResult", "train_and_evaluate"]
