"""Training: state, pure steps, compiled replicas, checkpoints, the trainer."""
from jaxdl.train.config import SWEEPABLE, TrainConfig
from jaxdl.train.status import RunStatus
from jaxdl.train.trainer import RunResult, load_run, train_and_evaluate

__all__ = ["SWEEPABLE", "RunResult", "RunStatus", "TrainConfig", "load_run", "train_and_evaluate"]
