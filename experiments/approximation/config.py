"""The approximation study's config: variants `smoke` (tests), `quick` (a laptop CPU), `full`.

  python -m experiments.approximation --config=experiments/approximation/config.py:full

seeds, seed_offset: the seeds of every 1-D fit and of the trained linear XOR
model (replicas seed_offset .. seed_offset + seeds - 1); the XOR random starts
are seeds seed_offset .. seed_offset + xor.starts - 1.
optim: the optimizer of every trained net (an `OptimConfig`: Adam, lr 1e-2,
cosine decay to 0 over each run's steps; one full-batch step an epoch).
xor: the linear model (`seeds` replicas) and ReLU nets of one hidden layer of
each of `widths` units (width 2 is the book's) from `starts` random (He)
initializations, each trained `steps` steps on the four points; a start
succeeds when all four outputs are within `success_tol` of the targets; the
starts are split into `groups` equal groups whose success fractions give the
noise of the fraction; `grid` points a side for the decision-region figure.
widths: one hidden layer of each of `widths` units fitted to each of
`targets` (the sawtooth with `sawtooth_k` compositions of the tent map, 2^k
pieces), trained on the 2^train_level + 1 points j / 2^train_level of [0, 1],
scored by the mean squared error on the 2^eval_level + 1 points of the finer
grid; `steps` per fit.
sawtooth: Telgarsky's separation at `k` (2^k pieces): the exact constructions
for each of `construction_ks`; trained deep nets, the construction's own shape
(2 units x k layers) and `deep_width` units x each of `depths` layers, each
beside a one-hidden-layer net of (about) the same number of parameters,
trained `steps` steps (more than the width sweep's: the sawtooth is the
hardest target to train on).
"""
import ml_collections

from experiments.configs import check_variant, optim_section

SIZES = {
    # smoke: seconds, verdicts meaningless.
    "smoke": dict(seeds=2, xor_starts=16, xor_groups=4, xor_widths=(2, 4), xor_steps=100, widths=(2, 8),
                  sawtooth_k=3, fit_steps=100, train_level=6, eval_level=7, k=3, saw_steps=100, depths=(2,),
                  construction_ks=(1, 2, 3)),
    "quick": dict(seeds=4, xor_starts=256, xor_groups=8, xor_widths=(2, 3, 4, 8), xor_steps=4000,
                  widths=(1, 2, 4, 8, 16, 32, 64, 128), sawtooth_k=4, fit_steps=16000, train_level=8,
                  eval_level=10, k=4, saw_steps=32000, depths=(2, 3, 4, 5, 6), construction_ks=tuple(range(1, 11))),
    "full": dict(seeds=8, xor_starts=1024, xor_groups=16, xor_widths=(2, 3, 4, 8, 16), xor_steps=8000,
                 widths=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512), sawtooth_k=4, fit_steps=64000, train_level=10,
                 eval_level=12, k=5, saw_steps=128000, depths=(2, 3, 4, 5, 6, 8),
                 construction_ks=tuple(range(1, 13))),
}


def get_config(variant: str = "quick") -> ml_collections.ConfigDict:
  check_variant(variant)
  s = SIZES[variant]
  config = ml_collections.ConfigDict()
  config.seeds = s["seeds"]
  config.seed_offset = 0
  config.optim = optim_section(name="adam", lr=1e-2, schedule="cosine")
  config.xor = dict(starts=s["xor_starts"], groups=s["xor_groups"], widths=s["xor_widths"], steps=s["xor_steps"],
                    success_tol=0.1, grid=41)
  config.widths = dict(targets=("smooth", "step", "sawtooth"), sawtooth_k=s["sawtooth_k"], widths=s["widths"],
                       train_level=s["train_level"], eval_level=s["eval_level"], steps=s["fit_steps"])
  config.sawtooth = dict(k=s["k"], deep_width=4, depths=s["depths"], construction_ks=s["construction_ks"],
                         train_level=s["train_level"], eval_level=s["eval_level"], steps=s["saw_steps"])
  return config
