"""The dilated convolutions study's config: variants `smoke` (tests), `quick` (a laptop CPU), `full`.

  python -m experiments.dilated_convs --config=experiments/dilated_convs/config.py:full

seeds: every trained cell's replicas are seeds 0 .. seeds-1 (the train
sections have no `seeds` of their own). dataset, data_dir: the images of the
context-module cells (linked into context.train). receptive_field: the
measured nets (random weights): `depth` layers of the 1-D stacks (fields up
to 2^(depth+1)-1), `depth_2d` layers of the 3x3 stack with dilation 2^i,
`draws` random (weights, input) draws, `width` channels, `seed` of the draws.
mnist1d.train: the engine settings of the ten MNIST-1D cells (Greydanus's Adam
lr 1e-2, batch 100; 40 steps an epoch, so his 8000 steps are 200 epochs).
context: the front end + context module cells: `width` channels, the
module's 3x3 `dilations` (a final 1x1 follows), the first `test_size` test
examples (0: all; the test set is evaluated every epoch) and the engine
settings (`train.train_size`: the first N training examples, 0: all).
"""
import ml_collections
from ml_collections import config_dict

from experiments.configs import check_variant, train_section


SIZES = {
    # smoke: seconds a cell, verdicts meaningless; MNIST as it is the dataset tests have on disk.
    "smoke": dict(seeds=2, rf_depth=3, rf_depth_2d=2, rf_draws=2, rf_width=4, mnist1d_samples=500,
                  mnist1d_epochs=1, dataset="mnist", image_train_size=256, image_test_size=200,
                  image_epochs=1, image_width=4, image_dilations=(1, 2)),
    "quick": dict(seeds=2, rf_depth=6, rf_depth_2d=4, rf_draws=8, rf_width=16, mnist1d_samples=5000,
                  mnist1d_epochs=10, dataset="fashion_mnist", image_train_size=4000, image_test_size=2000,
                  image_epochs=5, image_width=16, image_dilations=(1, 1, 2, 4, 1)),
    "full": dict(seeds=5, rf_depth=8, rf_depth_2d=5, rf_draws=32, rf_width=32, mnist1d_samples=5000,
                 mnist1d_epochs=200, dataset="fashion_mnist", image_train_size=0, image_test_size=0,
                 image_epochs=10, image_width=32, image_dilations=(1, 1, 2, 4, 1)),
}


def _train_section(**settings) -> ml_collections.ConfigDict:
  # config.seeds sets every cell's seeds; a second place to set them would be ignored.
  return train_section(exclude=("seeds",), **settings)


def get_config(variant: str = "quick") -> ml_collections.ConfigDict:
  check_variant(variant)
  s = SIZES[variant]
  config = ml_collections.ConfigDict()
  config.seeds = s["seeds"]
  config.dataset = s["dataset"]
  config.data_dir = config_dict.placeholder(str)
  config.receptive_field = dict(depth=s["rf_depth"], depth_2d=s["rf_depth_2d"], draws=s["rf_draws"],
                                width=s["rf_width"], seed=0)
  config.mnist1d = dict(train=_train_section(
      dataset="mnist1d", data_options={"num_samples": s["mnist1d_samples"]}, optim={"name": "adam", "lr": 1e-2},
      batch_size=100, epochs=s["mnist1d_epochs"]))
  config.context = dict(width=s["image_width"], dilations=s["image_dilations"], test_size=s["image_test_size"],
                        train=_train_section(dataset=config.get_ref("dataset"), data_dir=config.get_ref("data_dir"),
                                             optim={"name": "adam", "lr": 1e-3}, batch_size=64,
                                             epochs=s["image_epochs"], train_size=s["image_train_size"]))
  return config
