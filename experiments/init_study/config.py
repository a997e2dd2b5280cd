"""The initialization study's config: variants `smoke` (tests), `quick` (a laptop CPU), `full`.

  python -m experiments.init_study --config=experiments/init_study/config.py:full

seeds: every cell trains seeds seed_offset .. seed_offset + seeds - 1 as
replicas (rerun with another --config.seed_offset to check that no verdict
depends on the seeds). probe_size: the first N training examples are the fixed
batch the layer statistics are measured on.
train: the engine settings every cell shares (dataset, data_dir, train_size:
the first N training examples, 0 = all; loss, ...); each part sets its own
optimizer, batch size and epochs, and each cell its net. he: the plain ReLU
nets (depths x initializer specs); he.draws: the untrained nets He's law is
tested on, groups x per_group independent draws per depth and initializer,
each run on the first `examples` probe examples (groups 0: not measured).
glorot: the Table-1 rows trained (labels of `cells.GLOROT_ROWS`), and those
whose layer Jacobians are computed at init (n_in forward passes per layer, on
jacobian_examples probe examples).
"""
import ml_collections

from experiments.configs import check_variant, optim_section, train_section


HE_INITS = ("normal:std=1", "normal:std=0.01", "lecun_normal", "glorot_uniform", "he_normal", "orthogonal")
GLOROT_LABELS = ("softsign", "softsign-N", "tanh", "tanh-N", "sigmoid")

# The fields each cell sets itself, taken out of the shared `train` section so that
# overriding them there is an error rather than a silent no-op.
CELL_FIELDS = ("seeds", "model", "model_options", "optim", "batch_size", "epochs")

# The initializers He et al.'s claims are checked on; the others only fill the tables.
HE_CLAIMED_INITS = ("normal:std=1", "normal:std=0.01", "lecun_normal", "he_normal")

SIZES = {
    # A few seconds a cell: the verdicts mean nothing at this size.
    "smoke": dict(
        seeds=2, train_size=256, probe_size=32,
        he=dict(depths=(3,), width=16, inits=("normal:std=1", "lecun_normal", "he_normal"),
                batch_size=64, epochs=1, draws=dict(groups=2, per_group=4, examples=8)),
        glorot=dict(cells=("tanh", "tanh-N", "sigmoid"), depth=2, width=16, batch_size=64, epochs=1,
                    jacobian_cells=("tanh", "tanh-N"), jacobian_examples=1)),
    # A 5k-example subset, narrow nets, few epochs; 3 seeds so that the seed std means something,
    # the He initializers that no claim reads left out to pay for them.
    "quick": dict(
        seeds=3, train_size=5000, probe_size=256,
        he=dict(depths=(22, 30), width=64, inits=HE_CLAIMED_INITS, batch_size=64, epochs=4,
                draws=dict(groups=8, per_group=192, examples=64)),
        glorot=dict(cells=GLOROT_LABELS, depth=5, width=256, batch_size=10, epochs=2,
                    jacobian_cells=("tanh", "tanh-N"), jacobian_examples=2)),
    # The papers' shapes: width 256 (He), 5 x 1000 and batch 10 (Glorot), all of MNIST.
    "full": dict(
        seeds=3, train_size=0, probe_size=1000,
        he=dict(depths=(22, 30), width=256, inits=HE_INITS, batch_size=128, epochs=30,
                draws=dict(groups=8, per_group=256, examples=256)),
        glorot=dict(cells=GLOROT_LABELS, depth=5, width=1000, batch_size=10, epochs=30,
                    jacobian_cells=GLOROT_LABELS, jacobian_examples=4)),
}


def get_config(variant: str = "quick") -> ml_collections.ConfigDict:
  check_variant(variant)
  sizes = SIZES[variant]
  config = ml_collections.ConfigDict()
  config.seeds = sizes["seeds"]
  config.seed_offset = 0
  config.probe_size = sizes["probe_size"]
  config.train = train_section(exclude=CELL_FIELDS, dataset="mnist", train_size=sizes["train_size"])
  # One optimizer and budget for every He cell; Glorot & Bengio's plain SGD, lr 0.1.
  config.he = dict(sizes["he"], optim=optim_section(name="momentum", lr=0.01, momentum=0.9))
  config.glorot = dict(sizes["glorot"], optim=optim_section(name="sgd", lr=0.1))
  return config
