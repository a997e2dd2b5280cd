"""The one error of the data layer that a user is expected to act on."""
from jaxdl.errors import UserError


class DataFileError(UserError):
  """A data file is missing, truncated or altered, or could not be downloaded.

  The message names the file, its expected checksum, the places searched and
  how to fix it.
  """
