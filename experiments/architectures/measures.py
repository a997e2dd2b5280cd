"""The study's measurements that train nothing of their own: inception counts, auxiliary heads'
gradients at initialization, and the trained CNN's head rewritten as convolutions."""
from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.data import load_dataset
from jaxdl.initializers import get_initializer
from jaxdl.models import build_model
from jaxdl.models.cnn import fully_convolutional
from jaxdl.models.inception import INCEPTION_3A, InceptionModule, module_counts
from jaxdl.models.layers import get_activation


def inception_counts() -> dict[str, Any]:
  """Inception (3a) on its 28x28x192 input, with and without bottlenecks: the hand counts, and the
  Flax module's own kernel and bias sizes."""
  out = {}
  x = jnp.zeros((1, 28, 28, 192))
  for arm, bottleneck in (("bottleneck", True), ("naive", False)):
    module = InceptionModule(INCEPTION_3A, bottleneck=bottleneck)
    params = jax.eval_shape(lambda m=module: m.init(jax.random.PRNGKey(0), x))["params"]
    out[arm] = {**module_counts(192, INCEPTION_3A, 28, 28, bottleneck),
                "flax_weights": sum(int(np.prod(p["kernel"].shape)) for p in params.values()),
                "flax_biases": sum(int(np.prod(p["bias"].shape)) for p in params.values()),
                "out_channels": INCEPTION_3A.out_channels(192, bottleneck)}
  return out


class AuxMLP(nn.Module):
  """A plain MLP whose hidden layer `aux_at` also feeds an auxiliary softmax head."""
  depth: int
  width: int
  activation: str
  aux_at: int
  num_classes: int = 10

  @nn.compact
  def __call__(self, x):
    act, init = get_activation(self.activation), get_initializer("glorot_uniform")
    h, aux = x.reshape(x.shape[0], -1), None
    for i in range(self.depth):
      h = act(nn.Dense(self.width, kernel_init=init, name=f"dense{i}")(h))
      if i + 1 == self.aux_at:
        aux = nn.Dense(self.num_classes, kernel_init=init, name="aux_head")(h)
    return nn.Dense(self.num_classes, kernel_init=init, name="logits")(h), aux


def aux_gradients(depth: int, width: int, activation: str, aux_at: int, aux_weight: float, examples: int,
                  seeds: tuple[int, ...]) -> dict[str, Any]:
  """Per seed, at initialization: ||dL/dW_l|| for every hidden layer l, with L the main head's
  cross-entropy alone and with `aux_weight` x the auxiliary head's added (GoogLeNet's training loss)."""
  data = load_dataset("mnist")
  x, y = jnp.asarray(data.x_train[:examples]), jnp.asarray(data.y_train[:examples])
  model = AuxMLP(depth, width, activation, aux_at)
  xent = lambda logits: -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], 1))  # noqa: E731
  out = {"without": [], "with": []}
  for seed in seeds:
    params = model.init(jax.random.PRNGKey(seed), x)["params"]
    for arm, weight in (("without", 0.0), ("with", aux_weight)):
      def loss(p, w=weight):
        main, aux = model.apply({"params": p}, x)
        return xent(main) + w * xent(aux)
      grads = jax.grad(loss)(params)
      out[arm].append([float(jnp.linalg.norm(grads[f"dense{i}"]["kernel"])) for i in range(depth)])
  return out


def fcn_equivalence(ctx, cell: str, dataset: str, cnn: dict[str, Any], examples: int, digits: int) -> dict[str, Any]:
  """The trained dense-head CNN (replica 0) against the same parameters as a fully convolutional net:
  the largest logit difference on `examples` test images, and the score map of a canvas of
  `digits` test digits side by side."""
  del dataset  # part of the cell's spec; the trained cell holds its data
  result = ctx.trained(cell)
  dense, variables, data = result.model(0), result.variables(0), result.data
  x = jnp.asarray(data.x_test[:examples])
  side = x.shape[1]
  for _ in cnn["conv_features"]:  # 'VALID' k x k convolutions, each followed by a 2x2 pool
    side = (side - cnn["kernel_size"] + 1) // 2
  conv = build_model("cnn", num_classes=10, overrides={**cnn, "head": "conv", "head_window": side})
  converted = {"params": fully_convolutional(variables["params"], (side, side, cnn["conv_features"][-1]))}
  diff = float(jnp.max(jnp.abs(conv.apply(converted, x)[:, 0, 0] - dense.apply(variables, x))))
  canvas = np.concatenate(list(data.x_test[:digits]), axis=1)[None]  # [1, 28, 28 * digits, 1]
  scores = np.asarray(jax.nn.softmax(conv.apply(converted, jnp.asarray(canvas))[0, 0]))  # [positions, 10]
  return {"max_abs_logit_difference": diff, "examples": examples, "canvas": canvas[0, ..., 0].tolist(),
          "labels": data.y_test[:digits].tolist(), "scores": scores.tolist(), "stride": 4}
