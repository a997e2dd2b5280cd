"""Reader for the IDX format of MNIST and Fashion-MNIST.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number
of dimensions), then each dimension as a big-endian uint32, then the values,
big-endian, in row-major order.
"""
from __future__ import annotations

import math
import struct

import numpy as np

from jaxdl.data.errors import DataFileError

# Type code -> big-endian numpy dtype, as the format defines them.
_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def parse_idx(data: bytes, source: str = "<bytes>") -> np.ndarray:
  """Decodes IDX bytes into an array of the stored shape, in native byte order.

  Args:
    data: the whole (decompressed) file content.
    source: what to call the data in error messages, usually its path.

  Raises:
    DataFileError: the header is malformed or disagrees with the byte length
      (a truncated file, or one with trailing bytes).
  """
  if len(data) < 4:
    raise DataFileError(f"{source}: {len(data)} bytes, too short for an IDX header (4 bytes)")
  code, ndim = data[2], data[3]
  if data[:2] != b"\0\0" or code not in _DTYPES:
    raise DataFileError(f"{source}: not an IDX file (magic number 0x{data[:4].hex()})")
  header = 4 + 4 * ndim
  if len(data) < header:
    raise DataFileError(
        f"{source}: truncated IDX header ({len(data)} bytes, {ndim} dimensions need {header})")
  shape = struct.unpack(f">{ndim}I", data[4:header])
  dtype = np.dtype(_DTYPES[code])
  expected = header + math.prod(shape) * dtype.itemsize
  if len(data) != expected:
    problem = "truncated" if len(data) < expected else "trailing bytes"
    raise DataFileError(
        f"{source}: {problem}: header says {dtype.name} {shape} = {expected} bytes, "
        f"file has {len(data)}")
  return np.frombuffer(data, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))
