"""The one error class for bad input: a flag, a config, a ladder file, a data file.

Experiments print a `UserError` in one line and exit 2 (experiments/common.run_cleanly);
any other exception is a bug and keeps its traceback. It subclasses ValueError so
that code catching ValueError still catches it.
"""


class UserError(ValueError):
  """Bad input from the user; the message says what was wrong and what is valid."""
