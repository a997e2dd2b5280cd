"""The char-RNN study's config: variants `smoke` (tests), `quick` (a laptop CPU), `full`.

  python -m experiments.char_rnn --config=experiments/char_rnn/config.py:full

data: Tiny Shakespeare windows (`jaxdl.data.text`): seq_len characters each (the truncated
back-propagation length), n_train random training windows, n_test held-out windows tiling the
last 10% of the text. models: one recurrent layer of each cell, embedding embed_size; the LSTM
has reference_hidden units and the tanh RNN and the GRU the hidden size whose parameter count is
nearest the LSTM's (equal parameters, equal steps). train: Adam with global-norm gradient clipping,
the same for every cell. sampling: from each trained LSTM replica, `length` characters after
`prompt` at each temperature; the n-gram order of the distinct-n-gram fraction.
"""
import ml_collections

from experiments.configs import check_variant, train_section

CELL_TYPES = ("tanh", "lstm", "gru")

SIZES = {
    "smoke": dict(seeds=2, seq_len=16, n_train=128, n_test=8, epochs=1, batch_size=32, hidden=16, embed=8,
                  length=24),
    # 5000 Adam steps of batch 32 x 64 characters per cell: 16000 windows (the training text's 1.0 M
    # characters once an epoch), 10 epochs. Earlier looks (BUILD_NOTES, "Character-level language model"):
    # 1000 steps on 4000 windows, then 5000 steps on the same 4000 windows (a quarter of the text, 40 times).
    "quick": dict(seeds=3, seq_len=64, n_train=16000, n_test=200, epochs=10, batch_size=32, hidden=64, embed=16,
                  length=300),
    # char-rnn's scale: 100-character windows, a 256-unit layer, ~40 passes over the text. Needs a GPU.
    "full": dict(seeds=3, seq_len=100, n_train=100000, n_test=1000, epochs=40, batch_size=64, hidden=256,
                 embed=64, length=1000),
}


def get_config(variant: str = "quick") -> ml_collections.ConfigDict:
  check_variant(variant)
  size = SIZES[variant]
  config = ml_collections.ConfigDict()
  config.seeds = size["seeds"]
  config.seed_offset = 0
  config.models = dict(cells=CELL_TYPES, reference_cell="lstm", reference_hidden=size["hidden"],
                       embed_size=size["embed"], layers=1)
  config.train = train_section(
      dataset="tinyshakespeare", batch_size=size["batch_size"], epochs=size["epochs"],
      data_options={"seq_len": size["seq_len"], "n_train": size["n_train"], "n_test": size["n_test"], "seed": 0},
      # Karpathy's char-rnn: Adam-like rates near 2e-3 and gradients clipped (at 5); the same for every cell.
      optim={"name": "adam", "lr": 3e-3, "clip_norm": 5.0},
      exclude=("model", "model_options", "seeds", "sweep", "loss"))
  config.sampling = dict(prompt="ROMEO:\n", length=size["length"], temperatures=(0.5, 1.0, 1.5), ngram=4)
  return config
