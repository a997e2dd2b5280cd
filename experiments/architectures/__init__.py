"""Architectures: inception modules, global-average-pooling heads, strided convolutions, auxiliary
classifiers, and a classifier rewritten as a fully convolutional net.

  python -m experiments.architectures            # quick: MNIST and Fashion-MNIST subsets, 3 seeds
  python -m experiments.architectures --config=experiments/architectures/config.py:full
  python -m experiments.architectures --config.aux.depth=30 --config.seeds=5
  python -m experiments.architectures --report_only   # the report again, from the cell directories

Sources: Szegedy et al. 2015 (GoogLeNet: the inception module, Table 1's
counts, 1x1 reductions, auxiliary classifiers weighted 0.3); Lin et al. 2014
(Network in Network: global average pooling instead of fully connected
layers); Springenberg et al. 2015 (Striving for simplicity: strided
convolutions instead of max pooling); Long et al. 2015 (dense layers as
convolutions).

Cells: `inception_counts` (a measurement: inception (3a) counted by hand with
and without its 1x1 bottlenecks, beside the Flax module's parameters);
`aux_gradients` (a measurement at initialization: a deep plain sigmoid MLP's
gradient at every layer, with and without an auxiliary head halfway);
`head_<dense | gap>_<dataset>` (the CNN with a fully connected or a
global-average-pooling head); `downsample_stride` (the CNN with stride-2
convolutions instead of 2x2 pools, on the first dataset; the pooled arm is
its dense-head cell); `fcn` (a measurement on the trained dense-head cell:
the same parameters as a fully convolutional net, compared on test images and
run on a canvas of digits side by side). The trained cells' replicas are the
seeds.

Report: the counts, heads, downsampling, gradient and rewrite tables, the
verdicts, and two figures: aux_gradients.png, fcn_scores.png.
"""
import os

from experiments.architectures.cells import cells
from experiments.architectures.report import report
from jaxdl.study import Study

STUDY = Study("architectures", "Architectures: inception modules, GAP heads, strided convolutions, auxiliary "
              "classifiers, fully convolutional nets", os.path.join(os.path.dirname(__file__), "config.py"),
              cells, report)
