"""Initialization study: He et al. 2015 (deep plain ReLU nets) and Glorot & Bengio 2010.

  python -m experiments.init_study                  # the quick variant (a laptop CPU)
  python -m experiments.init_study --config=experiments/init_study/config.py:full   # the papers' scale
  python -m experiments.init_study --config.train.dataset=fashion_mnist --config.seeds=3
  python -m experiments.init_study --cells='he_d22_*'   # some cells; --report_only from finished ones

Part 1, He et al. 2015: plain ReLU MLPs (no batch norm, no skips) of depth 22
and 30 with the initializers N(0,1), N(0,0.01^2), LeCun (Var 1/n, what He et al.
call "Xavier"), Glorot uniform, He (Var 2/n) and orthogonal (gain 1), one
optimizer and budget for all. At init, measured pre-activation std per layer
against He's recursion Var[y_l] = (n_l Var[w_l] / 2) Var[y_{l-1}] (n_l Var[w_l]
read off the drawn kernels); after training, which nets converge, stall or
diverge. Part 2, Glorot & Bengio 2010: 5 hidden layers, tanh / sigmoid /
softsign, "standard" U[-1/sqrt(n), 1/sqrt(n)] vs "normalized" (Glorot uniform):
back-propagated gradient std and mean Jacobian singular value per layer at
init, then the test-error table beside the paper's MNIST numbers.

Cells: the `TrainCell`s he_d<depth>_<init> (e.g. he_d22_he_normal,
he_d30_normal_std_0_01), then glorot_<row> (e.g. glorot_tanh_n), each with its
seeds as replicas; then the measurement he_independent_draws (no training):
He's 2^(-L/2) law and eq. (10) on many independently drawn untrained nets,
since the trained cells of one seed share their draws (`draws`). Every trained
cell logs per-layer statistics on a fixed probe batch (the first probe_size
training examples) at init and after every epoch (metrics.jsonl,
`diag_<statistic>` [K, L]); the epoch-0 record also holds every seed's
Jacobian singular values for the cells in config.glorot.jacobian_cells.

Report in --workdir: table.md, table.csv (both parts), claims.json,
he_activation_std.png, he_gradient_std.png, he_training_curves.png,
glorot_gradient_std.png, glorot_jacobian.png, glorot_training_curves.png.
"""
import os

from experiments.init_study import cells, report
from jaxdl.study import Study

STUDY = Study("init_study", "Initialization: He et al. 2015 (deep ReLU nets), Glorot & Bengio 2010",
              os.path.join(os.path.dirname(__file__), "config.py"), cells.cells, report.write_report)
