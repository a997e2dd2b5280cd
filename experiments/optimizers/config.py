"""The optimizers study's config: variants `smoke` (tests), `quick` (a laptop CPU), `full`.

  python -m experiments.optimizers --config=experiments/optimizers/config.py:full

seeds, seed_offset: the MNIST cells' replicas are seeds seed_offset ..
seed_offset + seeds - 1 (times each optimizer's lr grid).
surfaces: the 2-D part. names: the surfaces (`jaxdl.surfaces`), one measurement
cell each; animate: those that also get an animated GIF; optimizers: the
registered optimizers (`jaxdl.optim.OPTIMIZERS`) run on every surface, with
the hyper-parameters `optim` (momentum, b1, b2, eps, rho, decay: the
registry's defaults, Kingma & Ba's for Adam); lrs: each
surface's lr grid (every optimizer runs every lr); steps: per surface;
starts: starting points per surface, seeds seed_offset .. (seed 0 is the
surface's standard start, the others drawn in a small box around it);
claim_lr: the one lr per surface at which the claims compare optimizers
("at the same learning rate"); adadelta_lr: Adadelta's in those comparisons
(its lr multiplies a unit-free step: Zeiler's 1.0); converged_fraction: a run
has converged once f - f* is this fraction of its value at the start;
escape_distance: a run has left the saddle once its distance from it along the
negative-curvature direction reaches this (sqrt(2/3), where x^2 - y^2 + y^4/4
stops curving down along y: the end of the saddle's region).
mnist: Kingma & Ba's Fig. 2: one cell per optimizer (`optimizers`), its
replicas the lr grid `lrs[<optimizer>]` x seeds; train: the engine settings
they share (the MLP, dropout, batch size, epochs; each cell sets optim.name).
data: as `experiments/subsets.py` cuts it, the first N examples of each split
(0: all); val_size: training examples held out as validation (0: none).
"""
import math

import ml_collections

from experiments.configs import check_variant, optim_section, train_section

SURFACES = ("quadratic", "rosenbrock", "saddle", "beale")
ANIMATED = ("rosenbrock", "saddle")  # the surfaces that also get an animated GIF
SURFACE_OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam",
                      "adam_no_bias_correction")
# Per surface: the lr grid (each includes the claim lr and Adadelta's 1.0), the steps and the claim lr.
# The quadratic's grid brackets SGD's stability limit 2 / lambda_max = 0.1 at +-2% (0.098, 0.102), and has
# 0.001 (1% of it, "too small") and 0.05 (half of it) for the crawl.
SURFACE_LRS = {
    "quadratic": (0.001, 0.01, 0.05, 0.098, 0.102, 0.3, 1.0),
    "rosenbrock": (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0),
    "saddle": (1e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0),
    "beale": (1e-4, 1e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0),
}
SURFACE_STEPS = {"quadratic": 3000, "rosenbrock": 5000, "saddle": 2000, "beale": 3000}
# The claims' lr: a rate at which plain SGD is stable on the surface (Rosenbrock: below 2 / 1506 = 1.3e-3,
# the Hessian's largest eigenvalue at the start), small enough that SGD crawls (the ravine claims' premise).
CLAIM_LR = {"quadratic": 0.01, "rosenbrock": 1e-3, "saddle": 0.01, "beale": 0.01}

MNIST_OPTIMIZERS = ("adam", "adagrad", "rmsprop", "nesterov", "adadelta")  # Kingma & Ba's Fig. 2 (Adam first)
# Per optimizer, its lr grid: quick 4 points around the rates these methods are used at; full a wider,
# finer grid (half decades).
QUICK_LRS = {"adam": (1e-4, 3e-4, 1e-3, 3e-3), "adagrad": (3e-3, 1e-2, 3e-2, 1e-1),
             "rmsprop": (1e-4, 3e-4, 1e-3, 3e-3), "nesterov": (3e-3, 1e-2, 3e-2, 1e-1),
             "adadelta": (0.1, 0.3, 1.0, 3.0)}
FULL_LRS = {"adam": (3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2), "adagrad": (1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1),
            "rmsprop": (3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2), "nesterov": (1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1),
            "adadelta": (0.03, 0.1, 0.3, 1.0, 3.0, 10.0)}
SMOKE_LRS = {name: lrs[1:3] for name, lrs in QUICK_LRS.items()}

SIZES = {
    # smoke: seconds, verdicts meaningless; two MNIST optimizers (Adam and one to compare it with).
    "smoke": dict(seeds=2, starts=2, steps=200, widths=(16, 16), epochs=2, train_size=256, test_subset=200,
                  mnist_optimizers=("adam", "nesterov"), lrs=SMOKE_LRS, surfaces=("quadratic", "saddle"),
                  animate=("saddle",)),
    "quick": dict(seeds=2, starts=4, steps=None, widths=(256, 256), epochs=20, train_size=4000, test_subset=1000,
                  mnist_optimizers=MNIST_OPTIMIZERS, lrs=QUICK_LRS, surfaces=SURFACES, animate=ANIMATED),
    # Kingma & Ba's Fig. 2: 2 x 1000 ReLU, dropout, batch 128, all of MNIST's training set, ~200 epochs.
    "full": dict(seeds=4, starts=8, steps=None, widths=(1000, 1000), epochs=200, train_size=0, test_subset=0,
                 mnist_optimizers=MNIST_OPTIMIZERS, lrs=FULL_LRS, surfaces=SURFACES, animate=ANIMATED),
}


def get_config(variant: str = "quick") -> ml_collections.ConfigDict:
  check_variant(variant)
  s = SIZES[variant]
  config = ml_collections.ConfigDict()
  config.seeds = s["seeds"]
  config.seed_offset = 0
  optim = optim_section()
  del optim["name"], optim["lr"]  # each run sets its own
  config.surfaces = dict(
      names=s["surfaces"], animate=s["animate"], optimizers=SURFACE_OPTIMIZERS, optim=optim, starts=s["starts"],
      lrs=dict(SURFACE_LRS), steps={k: s["steps"] or v for k, v in SURFACE_STEPS.items()},
      claim_lr=dict(CLAIM_LR), adadelta_lr=1.0, converged_fraction=1e-4, escape_distance=math.sqrt(2 / 3))
  config.mnist = dict(
      optimizers=s["mnist_optimizers"], lrs={k: v for k, v in s["lrs"].items()},
      train=train_section(exclude=("seeds", "sweep"), dataset="mnist", model="mlp",
                          model_options={"widths": s["widths"], "activation": "relu", "dropout_rate": 0.5},
                          batch_size=128, epochs=s["epochs"], optim={"momentum": 0.9, "b1": 0.9, "b2": 0.999,
                                                                     "eps": 1e-8}))
  config.data = dict(val_size=0, train_size=s["train_size"], val_subset=0, test_subset=s["test_subset"])
  return config
