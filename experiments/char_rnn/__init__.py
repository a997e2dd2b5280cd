"""A character-level language model on Tiny Shakespeare: vanilla RNN vs LSTM vs GRU, and sampling temperature.

  python -m experiments.char_rnn            # quick: 5000 steps per cell, 3 seeds, minutes on a laptop CPU
  python -m experiments.char_rnn --config=experiments/char_rnn/config.py:full
  python -m experiments.char_rnn --config.models.reference_hidden=128 --config.seeds=5
  python -m experiments.char_rnn --report_only   # the report again, from the cell directories

Sources: Karpathy 2015, "The Unreasonable Effectiveness of Recurrent Neural
Networks" and char-rnn (the data, an LSTM character model, sampling with a
temperature); the lectures' point that gated cells (LSTM, Hochreiter &
Schmidhuber 1997; GRU, Cho et al. 2014) learn what a tanh RNN cannot carry as
far back. Published losses on the same text and 90/10 split are quoted with
their settings (nanoGPT's README), not matched.

Cells: `char_<tanh | lstm | gru>`: one recurrent layer (`char_rnn`) after a
character embedding, a softmax per position, trained on random 64-character
windows of the first 90% of the text (truncated back-propagation through 64
steps, every window from a zero state) with Adam and gradient clipping; the
LSTM has `models.reference_hidden` units, the tanh RNN and the GRU the hidden
size that gives the same parameter count; the replicas are the seeds. The
LSTM's measurement samples text after a prompt at temperatures 0.5, 1.0, 1.5
from each seed (measurements.json) and measures its repetitiveness (the
fraction of distinct 4-grams, the character entropy).

Report: the held-out loss table (bits and nats per character), the published
reference points, the samples, the repetitiveness table, the verdicts (decided
over the seeds, or NOT TESTED within the noise) and one figure:
heldout_bits_per_char.png (held-out loss by step per cell).
"""
import os

from experiments.char_rnn.cells import cells
from experiments.char_rnn.report import report
from jaxdl.study import Study

STUDY = Study("char_rnn", "A character-level language model on Tiny Shakespeare: RNN vs LSTM vs GRU, and temperature",
              os.path.join(os.path.dirname(__file__), "config.py"), cells, report)
