"""Loss saturation: squared error vs cross-entropy on sigmoid outputs, the output-unit table, label smoothing.

  python -m experiments.losses            # quick: MNIST / Fashion-MNIST subsets, small MLPs, 3 seeds
  python -m experiments.losses --config=experiments/losses/config.py:full
  python -m experiments.losses --config.saturation.output_bias=4 --config.seeds=5
  python -m experiments.losses --report_only   # the report again, from the cell directories

Sources: Nielsen, Neural Networks and Deep Learning, ch. 3 (a sigmoid neuron
with the quadratic cost learns slowly when badly wrong, with the cross-entropy
it does not; one neuron, input 1, target 0, from w = b = 2), Szegedy et al.
2016 Sec. 7 (label smoothing, eps = 0.1, keeps the largest logit from
growing), Guo et al. 2017 (expected calibration error over 15 bins), Müller,
Kornblith & Hinton 2019 (label smoothing improves calibration).

Cells: `gradient_curves` (a measurement: dC/dz of one sigmoid unit with target
0, by jax.grad through the registered `sigmoid_mse` and `binary_cross_entropy`,
beside the closed forms (s - y) s' and s - y); `nielsen_neuron` (a
measurement: Nielsen's neuron trained with both costs at his quadratic rate
0.15, and with the cross-entropy at his 0.005); `mnist_<squared |
cross_entropy>_<default | saturated>`: TrainCells of Nielsen's 784-30-10
sigmoid MLP (batch 10, SGD at lr 0.5) with sigmoid outputs trained on squared
error or cross-entropy, from output biases 0 or from output biases
`saturation.output_bias` (every output near 1: nine of ten badly wrong);
`fashion_<plain | smoothed>`: a ReLU MLP on Fashion-MNIST (Adam) without and
with label smoothing 0.1, measured on the test set (accuracy, mean confidence,
ECE over 15 bins, reliability bins; measurements.json). Every trained cell's
replicas are the seeds.

Report: the output-unit table (output unit, loss, targets, registered name),
the gradient table, the neuron table, the saturation table (test accuracy
after the first and the last epoch, epochs to a validation target, per loss
and start), the calibration table, their verdicts (decided over the seeds, or
NOT TESTED within the noise), and three figures: gradients.png (gradient vs
z, the neuron's cost and output per epoch), saturation_curves.png (validation
accuracy per epoch), reliability.png (reliability diagrams).
"""
import os

from experiments.losses.cells import cells
from experiments.losses.report import report
from jaxdl.study import Study

STUDY = Study("losses", "Loss saturation, output units and label smoothing",
              os.path.join(os.path.dirname(__file__), "config.py"), cells, report)
