"""The dropout vs batch norm study's config: variants `smoke` (tests), `quick` (a laptop CPU), `full`.

  python -m experiments.dropout_vs_batchnorm --config=experiments/dropout_vs_batchnorm/config.py:full

nets: the nets trained, in table order; net.<name>: each one's model, model
options (batch_norm is set per cell), base lr and epochs. Every cell's replicas
are lr_multipliers x {dropout 0, dropout_rate} x seeds. data: the last val_size
of MNIST's 60k training images are the validation split (50k/10k/10k), then
each split is cut to its first N examples (0: all). train: the engine settings
all cells share (dataset, data_dir, batch size, optimizer; optim.max_norm=2
adds Srivastava et al.'s max-norm); each cell sets its own model,
model_options, epochs, seeds, sweep and optim.lr.
"""
import ml_collections

from experiments.configs import check_variant, train_section


# The papers' nets (full). Momentum SGD for all three, batch 60 (Ioffe & Szegedy's).
PAPER_NETS = {
    "sigmoid_mlp": dict(model="mlp", model_options=dict(widths=(100, 100, 100), activation="sigmoid",
                                                        kernel_init="normal:std=0.1"), base_lr=0.05, epochs=60),
    "relu_mlp": dict(model="mlp", model_options=dict(widths=(1024, 1024), activation="relu"),
                     base_lr=0.01, epochs=30),
    "cnn": dict(model="cnn", model_options=dict(conv_features=(20, 40), dense_widths=(100,)),
                base_lr=0.01, epochs=20),
}

# quick: narrower nets (a vmapped conv is slow on XLA:CPU), fewer epochs, a 3000-example subset.
QUICK_CHANGES = {
    "sigmoid_mlp": dict(epochs=6),
    "relu_mlp": dict(model_options=dict(widths=(256, 256), activation="relu"), epochs=4),
    "cnn": dict(model_options=dict(conv_features=(8, 16), dense_widths=(64,)), epochs=3),
}

# smoke: a few seconds a cell; the verdicts mean nothing at this size. It trains the two MLPs
# only (`--config.nets` adds the cnn): 12 replicas of even a tiny conv take a minute on XLA:CPU.
SMOKE_CHANGES = {
    "sigmoid_mlp": dict(model_options=dict(widths=(8, 8), activation="sigmoid", kernel_init="normal:std=0.1"),
                        epochs=2),
    "relu_mlp": dict(model_options=dict(widths=(16, 16), activation="relu"), epochs=2),
    "cnn": dict(model_options=dict(conv_features=(2, 4), dense_widths=(8,)), epochs=2),
}
SMOKE_NETS = ("sigmoid_mlp", "relu_mlp")

SIZES = {  # seeds, then the first N of each split (0: all)
    "smoke": dict(seeds=2, train_size=300, val_subset=200, test_subset=200),
    "quick": dict(seeds=2, train_size=3000, val_subset=1000, test_subset=2000),
    "full": dict(seeds=4, train_size=0, val_subset=0, test_subset=0),
}


def get_config(variant: str = "quick") -> ml_collections.ConfigDict:
  check_variant(variant)
  changes = {"smoke": SMOKE_CHANGES, "quick": QUICK_CHANGES, "full": {}}[variant]
  sizes = SIZES[variant]
  config = ml_collections.ConfigDict()
  config.nets = SMOKE_NETS if variant == "smoke" else tuple(PAPER_NETS)  # trained, in table order
  config.net = {name: {**net, **changes.get(name, {})} for name, net in PAPER_NETS.items()}
  config.seeds = sizes["seeds"]
  config.lr_multipliers = (1.0, 5.0, 30.0)  # of each net's base lr; 1x is the baseline, 5x and 30x Ioffe's
  config.dropout_rate = 0.5
  config.data = dict(val_size=10000, train_size=sizes["train_size"], val_subset=sizes["val_subset"],
                     test_subset=sizes["test_subset"])
  config.stall_acc = 0.5  # a finite replica whose best validation accuracy stays below this has stalled
  config.bn_recompute_examples = 5000  # training examples BN's test-mode statistics are recomputed on
  config.train = train_section(dataset="mnist", batch_size=60,
                               optim={"name": "momentum", "momentum": 0.9, "max_norm": 0.0})
  return config
