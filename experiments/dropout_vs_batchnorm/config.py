"""The dropout vs batch norm study's config: variants `smoke` (tests), `quick` (a laptop CPU), `full`.

  python -m experiments.dropout_vs_batchnorm --config=experiments/dropout_vs_batchnorm/config.py:full

nets: the nets of the 2x2 ablation, in table order; net.<name>: each one's
model, model options (batch_norm is set per cell), base lr and epochs. Every
ablation cell's replicas are lr_multipliers x {dropout 0, dropout_rate} x seeds.
recipe: Srivastava et al.'s dropout recipe (input and hidden dropout, max-norm,
momentum), trained with and without its dropout (and with and without batch
norm) at its base lr: the cells that decide the dropout claims. data: the last
val_size of MNIST's 60k training images are the validation split (50k/10k/10k),
then each split is cut to its first N examples (0: all). train: the engine
settings all cells share (dataset, data_dir, batch size, optimizer); each cell
sets its own model, model_options, epochs, seeds, sweep and optim.lr (the recipe
cells also their optim.momentum and optim.max_norm). seed_offset: the first
seed (`--config.seed_offset=10` reruns the study on other seeds).
"""
import ml_collections

from experiments.configs import check_variant, train_section


# The papers' nets (full). Momentum SGD for all three, batch 60 (Ioffe & Szegedy's); the sigmoid
# net's 60 epochs of 833 steps are their 50k steps.
PAPER_NETS = {
    "sigmoid_mlp": dict(model="mlp", model_options=dict(widths=(100, 100, 100), activation="sigmoid",
                                                        kernel_init="normal:std=0.1"), base_lr=0.05, epochs=60),
    "relu_mlp": dict(model="mlp", model_options=dict(widths=(1024, 1024), activation="relu"),
                     base_lr=0.01, epochs=30),
    "cnn": dict(model="cnn", model_options=dict(conv_features=(20, 40), dense_widths=(100,)),
                base_lr=0.01, epochs=20),
}

# Srivastava et al. 2014's MNIST recipe: Table 9's 784-1024-1024-2048-10 ReLU net, keep
# probabilities 0.8 (inputs) and 0.5 (hidden), max-norm c = 2, momentum 0.95, 10^6 weight
# updates (1201 epochs of 833 steps at batch 60). The paper does not state the lr, the batch
# size or a schedule: a constant lr of 0.01 (an effective 0.2 with momentum 0.95) is ours.
PAPER_RECIPE = dict(model_options=dict(widths=(1024, 1024, 2048), activation="relu"), input_dropout_rate=0.2,
                    dropout_rate=0.5, lr=0.01, momentum=0.95, max_norm=2.0, epochs=1201)

# quick: narrower nets (a vmapped conv is slow on XLA:CPU), fewer epochs, a 3000-example subset.
QUICK_CHANGES = {
    "sigmoid_mlp": dict(epochs=6),
    "relu_mlp": dict(model_options=dict(widths=(256, 256), activation="relu"), epochs=4),
    "cnn": dict(model_options=dict(conv_features=(8, 16), dense_widths=(64,)), epochs=3),
}
QUICK_RECIPE = dict(model_options=dict(widths=(256, 256), activation="relu"), epochs=40)

# smoke: a few seconds a cell; the verdicts mean nothing at this size. It trains the two MLPs
# only (`--config.nets` adds the cnn): 12 replicas of even a tiny conv take a minute on XLA:CPU.
SMOKE_CHANGES = {
    "sigmoid_mlp": dict(model_options=dict(widths=(8, 8), activation="sigmoid", kernel_init="normal:std=0.1"),
                        epochs=2),
    "relu_mlp": dict(model_options=dict(widths=(16, 16), activation="relu"), epochs=2),
    "cnn": dict(model_options=dict(conv_features=(2, 4), dense_widths=(8,)), epochs=2),
}
SMOKE_NETS = ("sigmoid_mlp", "relu_mlp")
SMOKE_RECIPE = dict(model_options=dict(widths=(16, 16), activation="relu"), epochs=1)

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
  config.seed_offset = 0
  config.nets = SMOKE_NETS if variant == "smoke" else tuple(PAPER_NETS)  # trained, in table order
  config.net = {name: {**net, **changes.get(name, {})} for name, net in PAPER_NETS.items()}
  config.recipe = {**PAPER_RECIPE, **{"smoke": SMOKE_RECIPE, "quick": QUICK_RECIPE, "full": {}}[variant]}
  config.seeds = sizes["seeds"]
  config.lr_multipliers = (1.0, 5.0, 30.0)  # of each net's base lr; 1x is the baseline, 5x and 30x Ioffe's
  config.dropout_rate = 0.5
  config.data = dict(val_size=10000, train_size=sizes["train_size"], val_subset=sizes["val_subset"],
                     test_subset=sizes["test_subset"])
  # A finite replica whose best validation accuracy stays below this has stalled: an argument
  # fixed before the runs, far above chance (10%) and far below a net that learns MNIST.
  config.stall_acc = 0.5
  config.bn_recompute_examples = 5000  # training examples BN's test-mode statistics are recomputed on
  config.train = train_section(dataset="mnist", batch_size=60,
                               optim={"name": "momentum", "momentum": 0.9, "max_norm": 0.0})
  return config
