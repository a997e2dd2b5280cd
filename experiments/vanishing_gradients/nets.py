"""What each part trains, and the cell name of each: read by the cells and by the report."""
from __future__ import annotations

import dataclasses

from ml_collections import ConfigDict

from jaxdl.errors import UserError

PARTS = ("depth", "degradation", "adding")
FIXES = ("batch_norm", "residual")  # MLP options that restore a deep net's gradient


def selected_parts(config: ConfigDict) -> tuple[str, ...]:
  """config.parts, checked, in the study's order. An entry may list several, comma-separated
  (`--config.parts=depth,adding` reaches the config as the one string "depth,adding")."""
  names = {name.strip() for entry in config.parts for name in entry.split(",")}
  unknown = sorted(names - set(PARTS))
  if unknown:
    raise UserError(f"unknown part(s) {unknown} in config.parts; valid: {', '.join(PARTS)}")
  return tuple(p for p in PARTS if p in names)


@dataclasses.dataclass(frozen=True)
class DepthNet:
  """Part 1: an MLP of `depth` hidden layers of `activation`; fix: "plain" or one of FIXES."""
  depth: int
  activation: str
  fix: str

  @property
  def cell(self) -> str:
    return f"mlp_{self.activation}_d{self.depth}" + ("" if self.fix == "plain" else f"_{self.fix}")


def depth_nets(config: ConfigDict) -> list[DepthNet]:
  """Every depth x activation plain, then the deepest bounded (sigmoid, tanh) nets with each fix."""
  part = config.depth
  unknown = sorted(set(part.fixes) - set(FIXES)) + sorted(set(part.activations) - set(part.kernel_init))
  if unknown:
    raise UserError(f"config.depth: {unknown} not among the fixes {FIXES} or the activations with a "
                    f"kernel_init ({', '.join(part.kernel_init)})")
  nets = [DepthNet(depth, act, "plain") for act in part.activations for depth in part.depths]
  nets += [DepthNet(max(part.depths), act, fix) for act in part.activations if act != "relu"
           for fix in part.fixes]
  return nets


@dataclasses.dataclass(frozen=True)
class DegradationNet:
  """Part 2: a CIFAR-style 6n+2-layer net, plain or residual."""
  depth: int
  plain: bool

  @property
  def label(self) -> str:
    return f"{'plain' if self.plain else 'resnet'}-{self.depth}"

  @property
  def cell(self) -> str:
    return f"{'plain' if self.plain else 'resnet'}_d{self.depth}"


def degradation_nets(config: ConfigDict) -> list[DegradationNet]:
  """Plain nets of the two depths, then residual ones."""
  depths = tuple(config.degradation.depths)
  if len(set(depths)) != 2:
    raise UserError(f"config.degradation.depths: two different depths (shallow, deep), got {depths}")
  return [DegradationNet(depth, plain) for plain in (True, False) for depth in depths]


@dataclasses.dataclass(frozen=True)
class AddingNet:
  """Part 3: an RNN of cell `rnn_cell` (tanh, lstm, gru) on the adding problem of length T."""
  length: int
  rnn_cell: str

  @property
  def cell(self) -> str:
    return f"adding_T{self.length}_{self.rnn_cell}"


def adding_nets(config: ConfigDict) -> list[AddingNet]:
  return [AddingNet(length, rnn_cell) for length in config.adding.lengths for rnn_cell in config.adding.rnn_cells]
