"""An ablation ladder: rungs that each add one idea, trained in order, one table.

  python -m experiments.ablation_ladder      # quick: ladders/nielsen_ch6_quick.json on MNIST (a laptop CPU)
  python -m experiments.ablation_ladder --config=experiments/ablation_ladder/config.py:full  # the book's (a GPU)
  python -m experiments.ablation_ladder --config=experiments/ablation_ladder/config.py:cpu   # 1/10 of its steps
  python -m experiments.ablation_ladder --config.dataset=mnist,fashion_mnist --config.seeds=3
  python -m experiments.ablation_ladder --config.seed_offset=10 --workdir=...   # the same on other seeds
  python -m experiments.ablation_ladder --config.ladder=path/to/my_ladder.json --config.protocol.epochs=5

Nielsen, Neural Networks and Deep Learning, ch. 6: from a 784-FC100 sigmoid net
(97.80%) up to a majority vote of five conv nets (99.67%), each rung adding
one idea (conv layers, ReLU + L2, 5x expanded data, an extra FC layer, dropout,
the vote). A ladder is data (`ladders/*.json`, see `ladder.py`): a protocol and
cumulative rungs. `nielsen_ch6.json` is the book's chapter-6 ladder (the full
variant, on MNIST and Fashion-MNIST); `nielsen_ch6_quick.json` its laptop
version (quick); `nielsen_ch6_cpu.json` the book's full data split at
mini-batch 50 and a tenth of its steps (cpu); `smoke.json` a test of the
machinery.

Cells (see `cells.py`): per dataset, a TrainCell per rung that trains
something new (`mnist_shallow`, `mnist_2nd_conv`, ...; its replicas = the
rung's seeds), and a MeasureCell per vote rung (`mnist_ensemble`) that votes
over the restored nets of the rung before it. The reported number per rung
is Nielsen's: test accuracy at the epoch of best validation accuracy
(validation = the last 10k training images), mean ± std over seeds; a vote
rung reports the vote of its nets after the last epoch. Claims (claims.py,
each decided against the seed noise): each MNIST rung within
`tolerance_sigmas` binomial stds of the book's number, the book's ordering of
the rungs, and whether every rung still helps on the other datasets.
"""
import os

from experiments.ablation_ladder import cells, report
from jaxdl.study import Study

STUDY = Study("ablation_ladder", "Ablation ladder (Nielsen, Neural Networks and Deep Learning, ch. 6)",
              os.path.join(os.path.dirname(__file__), "config.py"), cells.cells, report.report)
