"""Finds, reads and verifies a dataset's files.

Look-up order, for a dataset folder such as "mnist" or "fashion-mnist":
  1. the `data_dir` argument (the --data_dir flag), as `<dir>/<folder>/<file>`
     or `<dir>/<file>`, and nowhere else: a data_dir that lacks a file is an
     error naming it (or, with download=True, the file is downloaded into it),
     never a silent fall-back to data from elsewhere;
  2. without a data_dir: $JAXDL_DATA_DIR, in the same two layouts, then the
     standard places: `${XDG_CACHE_HOME:-~/.cache}/jaxdl/<folder>`,
     `/usr/share/datasets/<folder>` (where Debian's dataset packages install),
     and `<repo root>/../shared/data/<folder>` (beside the project checkout).
In each place a file may be `<file>.gz` or uncompressed `<file>`. The first
place that has the file is used, and its decompressed content must match the
checksum: a bad copy is an error, never skipped in favour of a later one, so
that a corrupted file is reported rather than hidden.
"""
from __future__ import annotations

import dataclasses
import gzip
import os
import zlib
from pathlib import Path
from typing import Sequence

from jaxdl.data import checksums, download
from jaxdl.data.errors import DataFileError

ENV_VAR = "JAXDL_DATA_DIR"
# Module attributes rather than constants inlined below, so tests can move them.
SYSTEM_DATASETS_DIR = Path("/usr/share/datasets")
SHARED_DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data"

# How to install a dataset's files system-wide, where a package exists.
_INSTALL_HINTS = {"fashion-mnist": "apt-get install -y dataset-fashion-mnist"}


@dataclasses.dataclass(frozen=True)
class DataSource:
  """Where a dataset's files may come from (the file-related load arguments)."""
  data_dir: str | None = None
  download: bool = False
  mirrors: Sequence[str] | None = None  # None: download.DEFAULT_MIRRORS


def cache_dir(folder: str) -> Path:
  """The per-user cache for `folder`, where downloads go when no data_dir is given."""
  base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
  return Path(base) / "jaxdl" / folder


def search_dirs(folder: str, data_dir: str | None) -> list[Path]:
  """The directories searched for `folder`'s files, in order: only data_dir's when it is given."""
  if data_dir:
    root = Path(data_dir).expanduser()
    return [root / folder, root]
  dirs = []
  if os.environ.get(ENV_VAR):
    root = Path(os.environ[ENV_VAR]).expanduser()
    dirs += [root / folder, root]
  return dirs + [cache_dir(folder), SYSTEM_DATASETS_DIR / folder, SHARED_DATA_DIR / folder]


def find_data_file(folder: str, filename: str, data_dir: str | None) -> Path | None:
  """The first `<filename>.gz` or `<filename>` in `search_dirs`; None if there is none."""
  for d in search_dirs(folder, data_dir):
    for path in (d / f"{filename}.gz", d / filename):
      if path.is_file():
        return path
  return None


def check_data_dir(folder: str, filenames: Sequence[str], source: DataSource) -> None:
  """An explicit data_dir must hold all of `filenames` (unless they are to be downloaded
  into it): one error naming the directory and every missing file.

  Raises:
    DataFileError: data_dir does not exist, or lacks some of the files.
  """
  if not source.data_dir or source.download:
    return
  root = Path(source.data_dir).expanduser()
  if not root.is_dir():
    raise DataFileError(f"data_dir {root} does not exist or is not a directory; it should hold "
                        f"{folder}/<file>.gz for {', '.join(filenames)}")
  missing = [f for f in filenames if find_data_file(folder, f, source.data_dir) is None]
  if missing:
    raise DataFileError(f"data_dir {root} lacks {len(missing)} of the {len(filenames)} {folder} files: "
                        f"{', '.join(f + '(.gz)' for f in missing)} (looked in {root / folder} and {root}; "
                        f"no other place is used when data_dir is given)")


def read_data_file(folder: str, filename: str, source: DataSource) -> bytes:
  """The verified, decompressed content of one data file.

  Args:
    folder: the dataset's folder name, a key of `checksums.CHECKSUMS`.
    filename: the uncompressed file name, e.g. "train-labels-idx1-ubyte".
    source: data_dir, and whether and from where to download a missing file.

  Raises:
    DataFileError: the file is missing (and not downloadable), cannot be
      decompressed, or its content fails the checksum.
  """
  expected = checksums.CHECKSUMS[folder][filename]
  dirs = search_dirs(folder, source.data_dir)
  path = find_data_file(folder, filename, source.data_dir)
  if path is not None:
    return _read_verified(path, expected, dirs[:dirs.index(path.parent) + 1])
  if not source.download:
    raise DataFileError(_missing_message(folder, filename, expected, dirs, offer_download=True))
  dest = Path(source.data_dir).expanduser() / folder if source.data_dir else cache_dir(folder)
  try:
    return download.fetch(folder, filename, dest, source.mirrors)
  except DataFileError as e:
    missing = _missing_message(folder, filename, expected, dirs, offer_download=False)
    raise DataFileError(f"{missing}\n{e}") from None


def _read_verified(path: Path, expected: checksums.Checksum, searched: list[Path]) -> bytes:
  where = f"Searched, in order (the first place holding the file is used):{_listing(searched)}"
  fix = "Replace or delete this copy; the loader does not fall back to another."
  try:
    content = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
  except (OSError, EOFError, zlib.error) as e:
    raise DataFileError(
        f"{path}: cannot read or decompress ({type(e).__name__}: {e}); expected content "
        f"{expected}.\n{where}\n{fix}") from None
  problem = checksums.mismatch(content, expected)
  if problem:
    raise DataFileError(f"{path}: truncated or altered: {problem}.\n{where}\n{fix}")
  return content


def _missing_message(folder: str, filename: str, expected: checksums.Checksum,
                     dirs: list[Path], offer_download: bool) -> str:
  fixes = [f"pass data_dir= (--data_dir) or set ${ENV_VAR} to a directory holding "
           f"{folder}/{filename}.gz"]
  if folder in _INSTALL_HINTS:
    fixes.append(f"install it: {_INSTALL_HINTS[folder]}")
  if offer_download:
    fixes.append("with internet, pass download=True")
  return (f"{folder} file {filename}(.gz) not found; expected content {expected}.\n"
          f"Searched:{_listing(dirs)}\nTo fix: " + "; or ".join(fixes) + ".")


def _listing(dirs: list[Path]) -> str:
  return "".join(f"\n  {d}" for d in dirs)
