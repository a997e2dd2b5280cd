"""What the benchmarks share: the small CNN's setting, and the PyTorch reference models.

No flags here (each benchmark defines its own), and torch is imported only when a
reference model is built, so a benchmark runs without it (`--torch=false`).
"""
from __future__ import annotations

import statistics

# The engine's small CNN as benchmarked (conv 20x5x5 + pool, conv 40x5x5 + pool, FC100, ReLU):
# SGD momentum 0.9, lr 0.05, batch 128.
BATCH, CNN_LR, MOMENTUM = 128, 0.05, 0.9
NUM_CLASSES = 10


def steady(epoch_seconds: list[float]) -> float:
  """The steady-state epoch time: the median of the epochs after the first (which compiles or warms up)."""
  return statistics.median(epoch_seconds[1:]) if len(epoch_seconds) > 1 else epoch_seconds[0]


def small_cnn():
  """The engine's small CNN in PyTorch (NCHW, 28x28x1 inputs)."""
  from torch import nn

  return nn.Sequential(
      nn.Conv2d(1, 20, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(20, 40, 5), nn.ReLU(),
      nn.MaxPool2d(2), nn.Flatten(), nn.Linear(640, 100), nn.ReLU(), nn.Linear(100, NUM_CLASSES))


def cifar_resnet(depth: int):
  """He et al.'s CIFAR ResNet (6n+2 layers, option-A shortcuts), as `jaxdl.models.resnet`, in PyTorch."""
  import torch
  import torch.nn.functional as F
  from torch import nn

  def conv_bn(cin: int, cout: int, stride: int) -> nn.Sequential:
    conv = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
    nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
    return nn.Sequential(conv, nn.BatchNorm2d(cout, momentum=0.1))  # = Flax's momentum 0.9

  class Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
      super().__init__()
      self.a, self.b, self.stride, self.extra = conv_bn(cin, cout, stride), conv_bn(cout, cout, 1), stride, cout - cin

    def forward(self, x):
      shortcut = x[:, :, ::self.stride, ::self.stride] if self.stride > 1 else x  # option A
      if self.extra:
        shortcut = F.pad(shortcut, (0, 0, 0, 0, 0, self.extra))
      return torch.relu(self.b(torch.relu(self.a(x))) + shortcut)

  n = (depth - 2) // 6
  layers, cin = [conv_bn(3, 16, 1), nn.ReLU()], 16
  for stage, cout in enumerate((16, 32, 64)):
    for block in range(n):
      layers.append(Block(cin, cout, 2 if stage > 0 and block == 0 else 1))
      cin = cout
  return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, NUM_CLASSES))
