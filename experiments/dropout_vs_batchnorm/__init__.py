"""Dropout vs batch norm: a 2x2 ablation {none, dropout, BN, both} on three nets.

  python -m experiments.dropout_vs_batchnorm            # quick: narrower nets on 3000 MNIST examples
  python -m experiments.dropout_vs_batchnorm --config=experiments/dropout_vs_batchnorm/config.py:full
  python -m experiments.dropout_vs_batchnorm --config.train.dataset=fashion_mnist --config.seeds=3
  python -m experiments.dropout_vs_batchnorm --report_only   # the report again, from the cell directories

Papers: Ioffe & Szegedy 2015 (batch norm: a more accurate MNIST net, fewer
steps at a 5x lr, training at 30x, dropout no longer needed), Srivastava et al.
2014 (dropout lowers the test error), Li et al. 2019 (dropout before BN shifts
its variance).

Nets: `sigmoid_mlp` 3x100 sigmoid (Ioffe & Szegedy's MNIST net), `relu_mlp`
2x1024 ReLU (Srivastava et al.; `--config.train.optim.max_norm=2` adds their
max-norm), `cnn`, the engine's CNN (conv 20x5x5 + pool, conv 40x5x5 + pool,
FC100); quick narrows the last two and trains fewer epochs. Momentum SGD,
batch 60, MNIST's 50k/10k/10k split (quick: its first 3000 / 1000 / 2000
examples).

Cells: one `TrainCell` per (net, batch norm off/on), `<net>_plain` and
`<net>_bn`; its replicas are {lr: 1x, 5x, 30x base} x {dropout: 0, 0.5} x
seeds, so each regularizer is mean ± std over seeds and the lr tolerance comes
from the same program. Then `recipe_{none,dropout,bn,both}`: Srivastava et
al.'s recipe (Table 9's net, input dropout 0.2, hidden 0.5, max-norm 2,
momentum 0.95; quick: 2x256 for 40 epochs) without / with its dropout, without /
with BN, seeds only; a dropout gain needs far longer training than the
ablation's, and these cells decide the two dropout claims. Each cell measures its steps per epoch; BN cells also
measure, per replica at 1x lr, Li et al.'s variance shift (running var /
test-mode input var per BN layer) and the test accuracy after recomputing BN's
statistics in test mode (measurements.json).

Report: test / train accuracy and gap, the steps to reach the baseline's best
validation accuracy (Ioffe & Szegedy's "steps to 72.2%"), which lrs train /
stall / diverge, the variance-shift table, the recipe table, seven claim
verdicts (each decided beyond the seed noise or NOT TESTED) and the validation
curves (val_curves.png).
"""
import os

from experiments.dropout_vs_batchnorm.cells import cells
from experiments.dropout_vs_batchnorm.report import report
from jaxdl.study import Study

STUDY = Study("dropout_vs_batchnorm", "Dropout vs batch norm: {none, dropout, BN, both} on three nets",
              os.path.join(os.path.dirname(__file__), "config.py"), cells, report)
