"""Dense prediction with Yu & Koltun 2016's context module: per-pixel class scores.

`context_segmenter`: a front end (3x3 convs, max pooling, a 1x1 conv to C =
num_classes score maps), then the context module on those C maps (one 3x3
conv per entry of `context_dilations` with ReLU, a final 1x1 conv without,
all C channels: Table 1's Basic module, which in the paper also reads the
front end's C class score maps), then the scores bilinearly upsampled to the
input's resolution (the paper upsamples its 64x64 output the same way).
`context_dilations=()` is the front end alone.

`context_init` is the module's kernel init: "identity" (the paper's,
k(t, a) = 1[t=0] 1[a=b]) or a random one such as "he_normal".
"""
from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax

from jaxdl.initializers import get_initializer
from jaxdl.models.dilated import context_module, front_end
from jaxdl.models.layers import tag_hidden
from jaxdl.models.registry import register_model


@register_model("context_segmenter")
class ContextSegmenter(nn.Module):
  """Front end (convs, pool, class scores), context module on the scores, per-pixel logits."""
  num_classes: int
  front_widths: Sequence[int] = (32, 32)
  front_kernel_size: int = 3
  pool: int = 2
  context_dilations: Sequence[int] = (1, 1, 2, 4, 8, 16, 1)
  context_init: str = "identity"
  activation: str = "relu"
  kernel_init: str = "he_normal"

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    """x: [B, *spatial, F] -> per-pixel logits [B, *spatial, num_classes]."""
    del train
    nf, c = len(self.front_widths), self.num_classes
    h = front_end(self, x)
    scores = nn.Conv(c, (1,) * (x.ndim - 2), kernel_init=get_initializer(self.kernel_init), name="scores")(h)
    scores = tag_hidden(self, nf, scores, lambda z: z)
    if self.context_dilations:
      scores = context_module(self, scores, c, first_index=nf + 1)
    return jax.image.resize(scores, (scores.shape[0], *x.shape[1:-1], c), "bilinear")
