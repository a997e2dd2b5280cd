"""A paper's claim, checked against what a run measured, printed and saved.

A claim is a sentence, whether it held, and the numbers that decided it; the
paper's own figure goes beside ours. Experiments print one verdict line per
claim and save them all in claims.json, so a reader sees what was tested and
what was measured, never only a pass/fail.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Sequence

from jaxdl.report.rundir import write_json


VERDICTS = {True: "HELD", False: "NOT HELD", None: "NOT TESTED"}  # by `Claim.held`


@dataclasses.dataclass(frozen=True)
class Claim:
  source: str      # e.g. "He et al. 2015, Fig. 3"
  text: str        # the claim as the paper makes it
  held: bool | None  # None: could not be tested in this setting (said why in `measured`)
  measured: str    # what we measured that decides it, with the seed noise
  # The threshold and where it came from (the paper, or a stated argument), fixed before the run.
  criterion: str = ""

  def verdict_line(self) -> str:
    line = f"CLAIM {VERDICTS[self.held]}: {self.text} [{self.source}] -- measured: {self.measured}"
    return line + (f" -- criterion: {self.criterion}" if self.criterion else "")


def report_claims(claims: Sequence[Claim], path: str | None = None,
                  echo=print) -> list[dict[str, Any]]:
  """Prints a verdict line per claim; writes claims.json at `path` if given."""
  for claim in claims:
    echo(claim.verdict_line())
  records = [dataclasses.asdict(c) for c in claims]
  if path:
    write_json(path, records)
  return records
