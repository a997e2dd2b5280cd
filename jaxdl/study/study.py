"""The shape every study has: a config, its cells, and a report made from the cells alone."""
from __future__ import annotations

import dataclasses
from typing import Callable, Mapping, Sequence

from ml_collections import ConfigDict

from jaxdl.study.cells import Cell
from jaxdl.study.records import CellRecord
from jaxdl.study.report import Report


@dataclasses.dataclass(frozen=True)
class Study:
  """name: the package (`experiments.<name>`) and the default workdir (`runs/<name>`).
  config_file: its config file, whose `get_config(variant)` gives smoke / quick / full.
  cells(config): the cells, in an order where every cell comes after those it needs.
  report(config, records, out): tables, figures and claims from the finished cells'
  records into `out`; it reads nothing but `records` (so `--report_only` works).
  """
  name: str
  title: str
  config_file: str
  cells: Callable[[ConfigDict], Sequence[Cell]]
  report: Callable[[ConfigDict, Mapping[str, CellRecord], Report], None]
