"""Vanishing gradients: through depth, the degradation problem, and through time.

  python -m experiments.vanishing_gradients            # quick: small MLPs, ResNet-8/20 on 512 MNIST images
  python -m experiments.vanishing_gradients --config=experiments/vanishing_gradients/config.py:full
  python -m experiments.vanishing_gradients --config.parts=adding --config.seeds=3
  python -m experiments.vanishing_gradients --config.seed_offset=10 --workdir=...   # the same on other seeds
  python -m experiments.vanishing_gradients --config.dataset=fashion_mnist --config.parts=depth,degradation
  python -m experiments.vanishing_gradients --report_only   # the report again, from the cell directories

Parts (`config.parts`; each part's cells exist only when it is selected):

1. depth (Bengio et al. 1994, Glorot & Bengio 2010, Ioffe & Szegedy 2015):
   MLPs of depth 5/10/20/50 (quick: 5/15/30) with sigmoid, tanh (Glorot
   uniform init) and ReLU (He init), SGD momentum; the per-layer norm of dL/dW at
   initialization and after training, and the first/last hidden layer
   ratio; then the deepest sigmoid and tanh nets with batch norm and with
   residual connections. Cells `mlp_<activation>_d<depth>[_<fix>]`.
2. degradation (He et al. 2016): plain vs residual CIFAR-style 6n+2 nets
   (`resnet`), SGD momentum 0.9, weight decay 1e-4, lr 0.1 divided by 10 at
   50% and 75% of training (quick: batch 32, a 512-image subset, 6 epochs,
   3 seeds, depths 8/20, 1000 test images; full: batch 128, all images,
   depths 20/56, 137 epochs). Cells `plain_d<depth>`, `resnet_d<depth>`.
3. adding (Hochreiter & Schmidhuber 1997, Exp. 4): tanh RNN vs LSTM (full:
   and GRU) on generated sequences of length T, Adam with gradient clipping;
   test MSE against the 1/96 baseline, the fraction of test sequences within
   0.04 of the target, and ||dL/dh_t|| against t. Cells `adding_T<T>_<cell>`.

Every cell is a TrainCell. Parts 1-2 log the diagnostics hook's per-layer
statistics (`diag_kernel_grad_norm` among them) on the first training
examples, part 3 logs `hidden_grad_norm` on the first test sequences, in
metrics.jsonl at init (epoch 0) and after every epoch; the adding cells also
measure their test errors (measurements.json). The report: one table, its
claims (claims.py: each decided against the seed noise) and its figures per
part (depth_grad_norms.png, depth_fixes.png, degradation.png,
adding_grad_through_time.png).
"""
import os

from experiments.vanishing_gradients import cells, report
from jaxdl.study import Study

STUDY = Study("vanishing_gradients", "Vanishing gradients: through depth, the degradation problem, and through time",
              os.path.join(os.path.dirname(__file__), "config.py"), cells.cells, report.report)
