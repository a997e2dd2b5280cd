"""A study's cells: its named units of work, each written to its own run directory."""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Callable, Union

from jaxdl.data import Dataset
from jaxdl.train import RunResult, TrainConfig, load_run
from jaxdl.train.steps import ReplicaProgram
from jaxdl.train.trainer import EpochHook

if TYPE_CHECKING:
  from jaxdl.study.runner import CellContext


@dataclasses.dataclass(frozen=True)
class TrainCell:
  """A `TrainConfig` trained by `train_and_evaluate` (its K replicas in one program).

  data: builds the cell's dataset when the study shapes it (a subset, an
    expanded training set); None loads `config.dataset`. `data_spec` says how
    it was built and is saved in config.json, so a cell never resumes on other
    data.
  epoch_hook: builds the engine's epoch hook (e.g. per-layer statistics on a
    probe batch, at init and after every epoch, saved in metrics.jsonl).
  measure: runs once on the trained replicas (e.g. variance shift, Jacobians);
    its JSON-able result is saved as measurements.json.
  """
  name: str
  config: TrainConfig
  data: Callable[[], Dataset] | None = None
  data_spec: dict[str, Any] = dataclasses.field(default_factory=dict)
  epoch_hook: Callable[[], EpochHook] | None = None
  program_factory: Callable[..., ReplicaProgram] = ReplicaProgram
  measure: Callable[[RunResult], dict[str, Any]] | None = None
  needs: tuple[str, ...] = ()

  def extra_config(self) -> dict[str, Any]:
    return {"cell_data": self.data_spec} if self.data_spec else {}

  def load(self, path: str) -> RunResult:
    """The trained replicas in run directory `path`, restored from their last checkpoint."""
    return load_run(self.config, path, data=self.data() if self.data else None,
                    program_factory=self.program_factory, extra_config=self.extra_config())


@dataclasses.dataclass(frozen=True)
class MeasureCell:
  """A measurement: statistics at init, an attack on trained cells, a receptive field.

  `spec` is everything that defines it (saved as its config.json; a directory
  holding another spec is refused). `run(ctx)` returns its JSON-able results,
  saved as results.json; `ctx` gives the trained cells it `needs`.
  """
  name: str
  spec: dict[str, Any]
  run: Callable[["CellContext"], dict[str, Any]]
  needs: tuple[str, ...] = ()

  @classmethod
  def standalone(cls, name: str, spec: dict[str, Any], measure: Callable[[], dict[str, Any]]) -> "MeasureCell":
    """A measurement that reads no other cell: `measure()` gives its results."""
    return cls(name, spec, lambda ctx: measure())


Cell = Union[TrainCell, MeasureCell]
