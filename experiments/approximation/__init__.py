"""XOR and universal approximation (Goodfellow, Bengio & Courville 2016, sec. 6.1; Telgarsky 2016).

  python -m experiments.approximation            # quick: 2-core CPU, see docs/approximation.md
  python -m experiments.approximation --config=experiments/approximation/config.py:full
  python -m experiments.approximation --config.seed_offset=10 --workdir=runs/approximation_seed10
  python -m experiments.approximation --report_only   # the report again, from the cell directories

Three parts, every cell a measurement (`MeasureCell`) whose nets (the `mlp` of
`jaxdl.models`, half squared error `mse`, Adam from `jaxdl.optim`) train as
replicas of one compiled program (vmap over replicas, scan over full-batch
steps), one program per net shape:
1. XOR: the least-squares linear model (w = 0, b = 1/2) and the book's ReLU net
   (W = [[1,1],[1,1]], c = [0,-1], w = [1,-2], b = 0) computed exactly
   (`xor_exact`); the linear model trained (`xor_linear`); one hidden layer of
   2, 3, 4, 8 ReLU units from 256 random starts each (`xor_relu_w<n>`), the
   fraction that solve XOR, with its binomial standard error and its spread
   over groups of starts.
2. Universal approximation: one hidden layer of 1 .. 128 units fitted to a
   sine, a step and a sawtooth on [0, 1] (`width_w<n>`; replicas: targets x
   seeds).
3. Telgarsky's separation on the sawtooth with 2^k pieces: the exact deep
   (k layers of 2 units) and shallow (2^k units) constructions, constructed
   shallow nets with too few units against a lower bound on their error
   (`sawtooth_constructions`); trained deep nets, each beside a one-hidden-layer
   net of the same parameter count (`sawtooth_<w>x<L>`).

Report: five tables, the claim verdicts, and the figures xor_regions.png,
fits.png, error_vs_width.png and sawtooth_depth.png.
"""
import os

from experiments.approximation.cells import cells
from experiments.approximation.report import report
from jaxdl.study import Study

STUDY = Study("approximation", "XOR and universal approximation: exact constructions, width, depth vs width",
              os.path.join(os.path.dirname(__file__), "config.py"), cells, report)
