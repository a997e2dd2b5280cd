"""The fixture study's config: `smoke` is its only size."""
import ml_collections

from experiments.configs import train_section


def get_config(variant: str = "smoke") -> ml_collections.ConfigDict:
  del variant
  config = ml_collections.ConfigDict()
  config.lr = 0.01
  config.train = train_section(
      dataset="synthetic", data_options={"n_train": 256, "n_test": 64, "shape": (6, 6, 1)},
      model_options={"widths": (16,)}, batch_size=32, epochs=3, seeds=(0, 1),
      optim={"name": "sgd", "lr": 0.01})
  return config
