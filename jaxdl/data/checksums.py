"""Expected checksums of every data file the loaders read.

All digests are of the DECOMPRESSED content: Debian re-compressed its
Fashion-MNIST files, so the .gz bytes differ between sources while the IDX
content is identical. Values from shared/data/README.md.
"""
from __future__ import annotations

import dataclasses
import hashlib


@dataclasses.dataclass(frozen=True)
class Checksum:
  sha256: str
  size: int  # bytes

  def __str__(self) -> str:
    return f"sha256 {self.sha256} ({self.size} bytes)"


# Dataset folder -> file name (uncompressed) -> checksum of its content.
CHECKSUMS: dict[str, dict[str, Checksum]] = {
    "mnist": {
        "train-images-idx3-ubyte": Checksum(
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", 47040016),
        "train-labels-idx1-ubyte": Checksum(
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", 60008),
        "t10k-images-idx3-ubyte": Checksum(
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", 7840016),
        "t10k-labels-idx1-ubyte": Checksum(
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", 10008),
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte": Checksum(
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", 47040016),
        "train-labels-idx1-ubyte": Checksum(
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", 60008),
        "t10k-images-idx3-ubyte": Checksum(
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", 7840016),
        "t10k-labels-idx1-ubyte": Checksum(
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", 10008),
    },
    "tinyshakespeare": {
        "input.txt": Checksum("86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed", 1115394),
    },
}


def checksum_of(content: bytes) -> Checksum:
  return Checksum(hashlib.sha256(content).hexdigest(), len(content))


def mismatch(content: bytes, expected: Checksum) -> str | None:
  """None if `content` has the expected checksum, else what differs, in words."""
  actual = checksum_of(content)
  if actual == expected:
    return None
  return f"content has {actual}, expected {expected}"
