"""The architectures study's config: variants `smoke` (tests), `quick` (a laptop CPU), `full`.

  python -m experiments.architectures --config=experiments/architectures/config.py:full

heads: the CNN (conv 20 and 40 5x5 + 2x2 pools, a 100-unit hidden layer) with a dense head and with
a global-average-pooling head, on each dataset of `datasets`. downsample: the same CNN on the first
dataset with 2x2 max pooling or with stride-2 convolutions instead (the same parameters). `train`:
the engine settings these cells share. aux: a deep plain MLP (depth x width, `activation`) at
initialization, with an auxiliary softmax head after hidden layer `aux_at` weighted `aux_weight`
(GoogLeNet's 0.3), the gradient measured on `examples` training examples. fcn: the trained dense
head rewritten as convolutions, compared on `examples` test images, and run on a canvas of
`digits` test digits side by side.
"""
import ml_collections

from experiments.configs import check_variant, train_section

SIZES = {
    "smoke": dict(seeds=2, train_size=512, epochs=1, datasets=("mnist",), aux_depth=6, aux_examples=64,
                  fcn_examples=64),
    "quick": dict(seeds=3, train_size=10000, epochs=5, datasets=("mnist", "fashion_mnist"), aux_depth=20,
                  aux_examples=256, fcn_examples=1000),
    "full": dict(seeds=5, train_size=0, epochs=20, datasets=("mnist", "fashion_mnist"), aux_depth=30,
                 aux_examples=1000, fcn_examples=10000),
}


def get_config(variant: str = "quick") -> ml_collections.ConfigDict:
  check_variant(variant)
  size = SIZES[variant]
  config = ml_collections.ConfigDict()
  config.seeds = size["seeds"]
  config.seed_offset = 0
  config.datasets = size["datasets"]
  config.cnn = dict(conv_features=(20, 40), kernel_size=5, dense_widths=(100,))
  config.train = train_section(batch_size=128, epochs=size["epochs"], train_size=size["train_size"],
                               optim={"name": "adam", "lr": 1e-3},
                               exclude=("dataset", "model", "model_options", "seeds", "sweep"))
  config.aux = dict(depth=size["aux_depth"], width=64, activation="sigmoid", aux_at=size["aux_depth"] // 2,
                    aux_weight=0.3, examples=size["aux_examples"])
  config.fcn = dict(examples=size["fcn_examples"], digits=3)
  return config
