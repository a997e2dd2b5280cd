"""The visualization study's config: variants `smoke` (tests), `quick` (a laptop CPU), `full`.

  python -m experiments.visualize --config=experiments/visualize/config.py:full

cnn / train: the CNN trained on each dataset of `datasets` (its replicas the seeds). explain: the
first `images` test images, explained for their true class by each method; occlusion patches of
`patch` pixels at stride `patch`; the deletion curve's fractions of pixels removed. maximize:
activation maximization per class, `steps` of gradient ascent at rate `lr` from small noise, with
and without Yosinski et al.'s regularizers (L2 decay, a Gaussian blur every `blur_every` steps,
clipping pixels of small magnitude), each image then scored under input noise of std `noise_std`
over `noise_draws` draws. embed: penultimate features of the first `examples` test images.
"""
import ml_collections

from experiments.configs import check_variant, train_section

SIZES = {
    "smoke": dict(seeds=2, train_size=512, epochs=1, datasets=("mnist",), images=8, steps=20, examples=200),
    "quick": dict(seeds=3, train_size=10000, epochs=5, datasets=("mnist", "fashion_mnist"), images=64, steps=200,
                  examples=1000),
    "full": dict(seeds=5, train_size=0, epochs=15, datasets=("mnist", "fashion_mnist"), images=500, steps=500,
                 examples=5000),
}


def get_config(variant: str = "quick") -> ml_collections.ConfigDict:
  check_variant(variant)
  size = SIZES[variant]
  config = ml_collections.ConfigDict()
  config.seeds = size["seeds"]
  config.seed_offset = 0
  config.datasets = size["datasets"]
  config.cnn = dict(conv_features=(20, 40), kernel_size=5, dense_widths=(100,), activation="relu")
  config.train = train_section(batch_size=128, epochs=size["epochs"], train_size=size["train_size"],
                               optim={"name": "adam", "lr": 1e-3},
                               exclude=("dataset", "model", "model_options", "seeds", "sweep"))
  config.explain = dict(images=size["images"], patch=4, fractions=(0.05, 0.1, 0.2, 0.4))
  # Yosinski et al. 2015's regularizers at values in their range (their Table 1 lists combinations):
  # L2 decay 0.01, a Gaussian blur of width 0.5 every 4 steps, pixels under the 20th percentile of
  # |x| clipped to 0.
  config.maximize = dict(steps=size["steps"], lr=0.1, decay=0.01, blur_sigma=0.5, blur_every=4,
                         clip_percentile=20.0, noise_std=0.2, noise_draws=16)
  config.embed = dict(examples=size["examples"])
  return config
