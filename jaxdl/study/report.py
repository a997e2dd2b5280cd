"""A study's report: its tables, figures and claim verdicts, printed and written to the workdir.

Written by process 0 only. Files: table.md and table.csv (every table, titled),
claims.json (every verdict with its numbers), the figures as PNG, and report.json:
all of these with the study's settings, provenance and timing in one document,
from which `experiments.report` makes the study's page and the HTML report.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Sequence

import jax

from jaxdl.report import tables
from jaxdl.report.claims import Claim, report_claims
from jaxdl.report.rundir import write_atomic, write_json

REPORT_JSON = "report.json"


class Report:
  def __init__(self, workdir: str, echo: Callable[[str], None] = print):
    self.workdir = os.path.abspath(workdir)
    self.is_writer = jax.process_index() == 0
    self._echo = echo if self.is_writer else (lambda line: None)
    self._tables: list[tuple[str, Sequence[str], Sequence[Sequence[Any]]]] = []
    self._claims: list[Claim] = []
    self.figures: list[str] = []

  def table(self, title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    self._tables.append((title, list(header), [list(r) for r in rows]))

  def claims(self, claims: Sequence[Claim]) -> None:
    self._claims.extend(claims)

  def figure(self, name: str, draw: Callable[..., None], *args: Any, **kwargs: Any) -> None:
    """Calls `draw(path, *args, **kwargs)` to save the figure `name` (process 0 only)."""
    if self.is_writer:
      path = os.path.join(self.workdir, name)
      draw(path, *args, **kwargs)
      self.figures.append(path)

  def markdown(self) -> str:
    return "".join(f"## {title}\n\n{tables.markdown_table(header, rows)}\n"
                   for title, header, rows in self._tables)

  def write(self, about: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Prints the tables and verdicts; writes table.md, table.csv, claims.json and, with
    `about` (the study, its config, provenance, timing), report.json."""
    markdown = self.markdown()
    self._echo(markdown)
    path = os.path.join(self.workdir, "claims.json") if self.is_writer else None
    records = report_claims(self._claims, path, echo=self._echo)
    if self.is_writer:
      write_atomic(os.path.join(self.workdir, "table.md"), markdown)
      write_atomic(os.path.join(self.workdir, "table.csv"), "".join(
          f"# {title}\n{tables.csv_table(header, rows)}" for title, header, rows in self._tables))
      for path in self.figures:
        self._echo(f"figure: {path}")
      if about is not None:
        write_json(os.path.join(self.workdir, REPORT_JSON), {
            **about, "claims": records, "figures": [os.path.basename(p) for p in self.figures],
            "tables": [{"title": title, "header": header, "rows": [[str(v) for v in row] for row in rows]}
                       for title, header, rows in self._tables]})
    return records
