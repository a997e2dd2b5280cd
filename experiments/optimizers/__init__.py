"""Optimizers: trajectories on 2-D surfaces, and Kingma & Ba's MNIST comparison.

  python -m experiments.optimizers            # quick: 2-core CPU, see docs/optimizers.md
  python -m experiments.optimizers --config=experiments/optimizers/config.py:full
  python -m experiments.optimizers --config.seed_offset=10 --workdir=runs/optimizers_seed10   # other seeds
  python -m experiments.optimizers --report_only   # the report again, from the cell directories

Every optimizer is an optax chain from `jaxdl.optim.build_optimizer` (the
OPTIMIZERS registry), the same code the training runs use: SGD, momentum,
Nesterov, AdaGrad, Adadelta, RMSprop, Adam, and Adam without its bias
correction (`adam_no_bias_correction`).

Part 1, 2-D surfaces (`jaxdl.surfaces`; cells `surface_<name>`, measurements):
an elongated quadratic (a straight ravine, Hessian eigenvalues 1 and 20),
Rosenbrock's curved ravine (1960), a saddle (x^2 - y^2 + y^4/4) and Beale's
function (1958). Per surface, one jitted program runs every optimizer (a
Python loop inside the jit), each vmapped over the lr grid and the starting
points (the standard start and points drawn near it, one per seed), with
`lax.scan` over the steps. Claims: momentum crosses a ravine in fewer steps
than SGD at the same lr; adaptive methods leave the saddle faster than SGD;
on the quadratic SGD diverges above lr = 2 / lambda_max and crawls far below
it; Adam without bias correction takes first steps (1 - b1) / sqrt(1 - b2)
times the corrected ones (Kingma & Ba, Sec. 3).

Part 2, MNIST (Kingma & Ba 2015, Sec. 6.2, Fig. 2(a); cells `mnist_<optimizer>`):
an MLP with ReLU and dropout 0.5, minibatch 128, trained with Adam, AdaGrad,
RMSprop, SGD with Nesterov momentum and Adadelta; each cell's replicas are
its optimizer's lr grid x seeds (one program). Each optimizer's best lr is the
one with the lowest final training cost; the claims compare Adam with each
other optimizer there, over seeds. quick: 2x256 on the first 4000 training
images, 20 epochs, 4 lrs, 2 seeds; full: the paper's 2x1000 on all 60000,
200 epochs.

Report: a steps table per surface, Adam's first steps, the MNIST cost table,
the verdicts; figures: surface_<name>.png (trajectories over contours at the
same lr and at each optimizer's best lr), surface_{rosenbrock,saddle}.gif,
adam_bias_correction.png (Adam's step lengths with and without the correction),
mnist_training_cost.png and mnist_lr_sensitivity.png.
"""
import os

from experiments.optimizers.cells import cells
from experiments.optimizers.report import report
from jaxdl.study import Study

STUDY = Study("optimizers", "Optimizers: trajectories on 2-D surfaces; Adam vs the others on MNIST (Kingma & Ba "
              "2015)", os.path.join(os.path.dirname(__file__), "config.py"), cells, report)
