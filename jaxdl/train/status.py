"""The status of a run, a replica or a study cell: one enum, written as its string."""
from __future__ import annotations

import enum


class RunStatus(enum.StrEnum):
  """A `StrEnum`: compares equal to its value and is written to JSON as that string."""
  RUNNING = "running"              # started; a status left at this after a kill is stale
  DONE = "done"                    # every replica trained to its last epoch
  DIVERGED = "diverged"            # every replica diverged (a run), or this replica did
  STOPPED_EARLY = "stopped_early"  # a replica that early stopping ended
  INCOMPLETE = "incomplete"        # interrupted (preempted): resume by running it again
  FAILED = "failed"                # stopped by an error (status.json says which): fix it, run again

  @property
  def finished(self) -> bool:
    """A finished run is not resumed; a diverged run did finish."""
    return self in (RunStatus.DONE, RunStatus.DIVERGED)
