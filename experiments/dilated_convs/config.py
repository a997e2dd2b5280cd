"""The dilated convolutions study's config: variants `smoke` (tests), `quick` (a laptop CPU), `full`.

  python -m experiments.dilated_convs --config=experiments/dilated_convs/config.py:full

seeds, seed_offset: every trained cell's replicas are seeds seed_offset ..
seed_offset + seeds - 1 (the train sections have no `seeds` of their own);
rerun with another seed_offset (and workdir) to check that no verdict depends
on the seeds. dataset, data_dir: the images the dense task places on its
canvases (MNIST digits; any 28x28 set with pixels in [0, 1] works, e.g.
fashion_mnist), linked into context.train.
receptive_field: the measured nets (random weights): `depth` layers of the
1-D stacks (fields up to 2^(depth+1)-1), `depth_2d` layers of the 3x3 stack
with dilation 2^i, `draws` random (weights, input) draws, `width` channels,
`seed` of the draws.
mnist1d.train: Greydanus's eight cells (logistic, MLP, CNN, GRU; ordered and
shuffled): his Adam lr 1e-2, batch 100, 40 steps an epoch, so his 8000 steps
are 200 epochs (quick and full alike: the paper's budget fits a laptop).
dilation.train: the four dilated vs undilated MNIST-1D CNNs (jaxdl's own
comparison), same engine settings, their own number of epochs.
context: the dense-prediction cells (front end alone, + context module with
identity init, + module with random init `random_init`): the task
(`jaxdl.tasks.dense_digits`: `n_train` / `n_test` canvases of `canvas` px
holding `digits` MNIST digits shrunk to `digit_size` px, generated with
`task_seed`), the front end's `front_widths`, the module's 3x3 `dilations`
(a final 1x1 follows) and the engine settings (SGD with momentum, as the
paper).
"""
import ml_collections
from ml_collections import config_dict

from experiments.configs import check_variant, train_section


SIZES = {
    # smoke: seconds a cell, verdicts meaningless; MNIST as it is the dataset tests have on disk.
    "smoke": dict(seeds=2, rf_depth=3, rf_depth_2d=2, rf_draws=2, rf_width=4, mnist1d_samples=500,
                  mnist1d_epochs=1, dilation_epochs=1, dense_train=64, dense_test=32, dense_epochs=1,
                  front_widths=(4,), dense_dilations=(1, 2)),
    "quick": dict(seeds=3, rf_depth=6, rf_depth_2d=4, rf_draws=8, rf_width=16, mnist1d_samples=5000,
                  mnist1d_epochs=200, dilation_epochs=25, dense_train=4000, dense_test=1000, dense_epochs=5,
                  front_widths=(16, 16), dense_dilations=(1, 1, 2, 4, 1)),
    "full": dict(seeds=5, rf_depth=8, rf_depth_2d=5, rf_draws=32, rf_width=32, mnist1d_samples=5000,
                 mnist1d_epochs=200, dilation_epochs=200, dense_train=20000, dense_test=5000, dense_epochs=20,
                 front_widths=(32, 32), dense_dilations=(1, 1, 2, 4, 8, 1)),
}


def _train_section(**settings) -> ml_collections.ConfigDict:
  # config.seeds / seed_offset set every cell's seeds; a second place to set them would be ignored.
  return train_section(exclude=("seeds",), **settings)


def _mnist1d_section(epochs: int, samples: int) -> ml_collections.ConfigDict:
  return _train_section(dataset="mnist1d", data_options={"num_samples": samples},
                        optim={"name": "adam", "lr": 1e-2}, batch_size=100, epochs=epochs)


def get_config(variant: str = "quick") -> ml_collections.ConfigDict:
  check_variant(variant)
  s = SIZES[variant]
  config = ml_collections.ConfigDict()
  config.seeds = s["seeds"]
  config.seed_offset = 0
  config.dataset = "mnist"
  config.data_dir = config_dict.placeholder(str)
  config.receptive_field = dict(depth=s["rf_depth"], depth_2d=s["rf_depth_2d"], draws=s["rf_draws"],
                                width=s["rf_width"], seed=0)
  config.mnist1d = dict(train=_mnist1d_section(s["mnist1d_epochs"], s["mnist1d_samples"]))
  config.dilation = dict(train=_mnist1d_section(s["dilation_epochs"], s["mnist1d_samples"]))
  config.context = dict(
      n_train=s["dense_train"], n_test=s["dense_test"], canvas=32, digits=3, digit_size=14, task_seed=0,
      front_widths=s["front_widths"], dilations=s["dense_dilations"], random_init="he_normal",
      # Yu & Koltun trained with SGD, momentum 0.9 (lr 1e-3 for a pretrained VGG front end over 60K
      # iterations); nets trained from scratch for a few thousand steps need a larger rate.
      train=_train_section(dataset=config.get_ref("dataset"), data_dir=config.get_ref("data_dir"),
                           optim={"name": "momentum", "lr": 0.05, "momentum": 0.9}, batch_size=32,
                           epochs=s["dense_epochs"]))
  return config
