"""Optional, checksum-verified download of data files from mirrors.

Only used when a file is found nowhere and the user asked for `download=True`;
nothing downloads by default (CI and the development machines have no
internet, and the data is installed beside the project).
"""
from __future__ import annotations

import gzip
import http.client
import logging
import os
import tempfile
import urllib.request
import zlib
from pathlib import Path
from typing import Sequence

from jaxdl.data import checksums
from jaxdl.data.errors import DataFileError

log = logging.getLogger(__name__)

# Dataset folder -> base URLs, tried in order; each serves `<base><file>.gz`.
DEFAULT_MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    "fashion-mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
}
TIMEOUT_S = 60.0


def fetch(folder: str, filename: str, dest_dir: Path, mirrors: Sequence[str] | None = None,
          timeout_s: float = TIMEOUT_S) -> bytes:
  """Downloads `<mirror><filename>.gz`, verifies it and saves it in `dest_dir`.

  Mirrors are tried in order; one that fails or serves content with the wrong
  checksum is skipped with a warning. The .gz is written as served, atomically
  (a temporary file, then a rename), so an interrupted download never leaves a
  partial file where the loader would find it.

  Args:
    folder: the dataset's folder name, a key of `checksums.CHECKSUMS`.
    filename: the uncompressed file name, e.g. "train-labels-idx1-ubyte".
    dest_dir: where to save `<filename>.gz`; created if missing.
    mirrors: base URLs; None means the dataset's `DEFAULT_MIRRORS`.
    timeout_s: seconds to wait on each connection and read.

  Returns:
    The verified, decompressed content.

  Raises:
    DataFileError: every mirror failed; the message says what each one did.
  """
  expected = checksums.CHECKSUMS[folder][filename]
  mirrors = DEFAULT_MIRRORS.get(folder, ()) if mirrors is None else mirrors
  if not mirrors:
    raise DataFileError(f"cannot download {filename}: no mirrors given")
  failures = []
  for base in mirrors:
    url = f"{base if base.endswith('/') else base + '/'}{filename}.gz"
    try:
      with urllib.request.urlopen(url, timeout=timeout_s) as response:
        packed = response.read()
      content = gzip.decompress(packed)
    except (OSError, EOFError, zlib.error, http.client.HTTPException) as e:
      reason = f"{type(e).__name__}: {e}"
    else:
      reason = checksums.mismatch(content, expected)
      if reason is None:
        path = dest_dir / f"{filename}.gz"
        _write_atomically(path, packed)
        log.info("downloaded %s to %s", url, path)
        return content
    log.warning("skipping mirror %s: %s", url, reason)
    failures.append(f"  {url}: {reason}")
  raise DataFileError(
      f"could not download {filename} ({expected}) from any mirror:\n" + "\n".join(failures))


def _write_atomically(path: Path, data: bytes) -> None:
  path.parent.mkdir(parents=True, exist_ok=True)
  fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
  try:
    with os.fdopen(fd, "wb") as f:
      f.write(data)
    os.replace(tmp, path)
  except BaseException:
    os.unlink(tmp)
    raise
