"""The vanishing-gradients study's config: variants `smoke` (tests), `quick` (a laptop CPU), `full`.

  python -m experiments.vanishing_gradients --config=experiments/vanishing_gradients/config.py:full

parts: which parts have cells (depth, degradation, adding). dataset, data_dir:
the images of parts 1-2 (linked into depth.train and degradation.train; the
adding problem generates its own sequences). Each part's `seeds` is its number
of seeds (replicas of every cell); seeds: N > 0 trains N seeds in every part
instead; seed_offset: the first seed (another offset reruns the study on other
seeds). Each part's `train` section holds its engine settings (any TrainConfig
field but seeds); the cells set the model options that vary (depth,
activation, init, fix; resnet depth and plain; the RNN cell), and the adding
cells set the dataset to the generated adding_T<T>. degradation.test_size:
the first N test images, 0 = all (every epoch evaluates them: at quick, all
10,000 would be ~6x the forward-pass work of an epoch's training on 512 images).
degradation.train.optim.decay_epochs = () decays the lr at 50% and 75% of the
epochs, He et al.'s schedule. thresholds: the decision rules of the claims,
fixed before any run (see claims.py for the argument behind each).
"""
import ml_collections
from ml_collections import config_dict

from experiments.configs import check_variant, train_section


# He et al.'s recipe: SGD momentum 0.9, weight decay 1e-4, lr 0.1 divided by 10 twice.
RESNET_OPTIM = dict(name="momentum", lr=0.1, momentum=0.9, weight_decay=1e-4, schedule="step", decay_factor=0.1)


def get_config(variant: str = "quick") -> ml_collections.ConfigDict:
  check_variant(variant)
  config = ml_collections.ConfigDict()
  config.parts = ("depth", "degradation", "adding")
  config.dataset = "mnist"
  config.data_dir = config_dict.placeholder(str)
  config.seeds = 0         # > 0: this many seeds in every part, instead of each part's own count
  config.seed_offset = 0
  config.thresholds = dict(
      healthy_spread=100.0,      # per-layer |dL/dW| within this factor across layers: no vanishing
      vanished_ratio=1e-2,       # a first/last layer gradient ratio below this: vanished
      solved_mse_divisor=10.0,   # adding problem solved: test MSE < baseline / this
      at_baseline_mse_divisor=2.0)  # learned (almost) nothing: test MSE > baseline / this
  images = dict(dataset=config.get_ref("dataset"), data_dir=config.get_ref("data_dir"))
  # quick: deepest 30, not 50, to keep the part within minutes on a CPU; the sigmoid ratio
  # was already ~1e-12 at depth 20, so the law shows by decades either way.
  config.depth = dict(
      depths=(5, 15, 30), activations=("sigmoid", "tanh", "relu"),
      fixes=("batch_norm", "residual"),  # applied to the deepest sigmoid and tanh nets
      kernel_init=dict(sigmoid="glorot_uniform", tanh="glorot_uniform", relu="he_normal"),
      width=64, probe_size=256,  # gradient norms on the first probe_size training examples
      seeds=2,
      train=train_section(**images, exclude=("seeds",), model="mlp",
                          optim=dict(name="momentum", lr=0.01, momentum=0.9), batch_size=64, epochs=2,
                          train_size=2048))
  # quick: depths 8/20, not the paper's 20/56 (a 56-layer conv step takes seconds on a CPU);
  # 3 seeds, 96 steps on 512 images, 1000 test images.
  config.degradation = dict(
      depths=(8, 20), probe_size=64, test_size=1000, seeds=3,
      train=train_section(**images, exclude=("seeds",), model="resnet", optim=RESNET_OPTIM, batch_size=32,
                          epochs=6, train_size=512))
  # quick: 2 seeds, since the LSTM's escape from the baseline plateau comes at a seed-dependent step.
  config.adding = dict(
      lengths=(50,), rnn_cells=("tanh", "lstm"), n_train=12800, n_test=1000,
      probe_size=256,  # ||dL/dh_t|| on the first probe_size test sequences
      seeds=2,
      train=train_section(exclude=("seeds",), dataset="adding", model="rnn", model_options=dict(hidden_size=64),
                          loss="mse", optim=dict(name="adam", lr=0.01, clip_norm=1.0), batch_size=64, epochs=5))
  if variant == "full":
    _full(config)
  elif variant == "smoke":
    _smoke(config)
  return config


def _full(config: ml_collections.ConfigDict) -> None:
  """The papers' scale. He et al.'s 64k iterations at batch 128 on 60k MNIST images are 137
  epochs (lr /10 at 32k and 48k iterations: epochs 68 and 102)."""
  config.depth.update(depths=(5, 10, 20, 50), width=256, seeds=3)
  config.depth.train.update(batch_size=128, epochs=5, train_size=0)
  config.degradation.update(depths=(20, 56), probe_size=256, test_size=0, seeds=3)
  config.degradation.train.update(batch_size=128, epochs=137, train_size=0)
  config.adding.update(lengths=(50, 100, 200), rnn_cells=("tanh", "lstm", "gru"), n_train=50000, n_test=2000,
                       seeds=3)
  config.adding.train.model_options.hidden_size = 128
  config.adding.train.optim.lr = 0.003
  config.adding.train.update(epochs=30)


def _smoke(config: ml_collections.ConfigDict) -> None:
  """Seconds a cell on synthetic images; the verdicts mean nothing at this size."""
  config.dataset = "synthetic"
  synthetic = dict(n_train=128, n_test=64, shape=(8, 8, 1))
  config.depth.update(depths=(3,), activations=("sigmoid", "relu"), fixes=("batch_norm",), width=8,
                      probe_size=16, seeds=2)
  config.depth.train.update(data_options=synthetic, train_size=0, batch_size=64, epochs=1)
  # One seed: a conv net's replicas are unrolled on a CPU, so its compile time grows with them.
  config.degradation.update(depths=(8, 14), probe_size=16, test_size=0, seeds=1)
  config.degradation.train.update(data_options=synthetic, train_size=0, batch_size=64, epochs=2)
  config.adding.update(lengths=(6,), n_train=128, n_test=32, probe_size=16, seeds=2)
  config.adding.train.model_options.hidden_size = 8
  config.adding.train.update(batch_size=64, epochs=1)
