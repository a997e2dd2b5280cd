"""Dilated convolutions and receptive fields (Yu & Koltun 2016; Luo et al. 2016; Greydanus 2020).

  python -m experiments.dilated_convs            # quick: 2-core CPU, see docs/dilated_convs.md
  python -m experiments.dilated_convs --config=experiments/dilated_convs/config.py:full
  python -m experiments.dilated_convs --config.seed_offset=10 --workdir=runs/dc_seed10   # other seeds
  python -m experiments.dilated_convs --report_only   # the report again, from the cell directories

Three parts:
1. Receptive fields (cell `receptive_fields`, a measurement, no training):
   per layer, the closed-form and analytical receptive field of 1-D stacks of
   1x3 filters (undilated: 2i+1; dilations 1,2,4,...: 2^(i+1)-1), of 3x3
   filters with dilation 2^i ((2^(i+2)-1)^2) and of Yu & Koltun's context
   module (3,5,9,17,33,65,67,67), against the field measured from the input
   gradients of randomly initialized nets; and the effective receptive fields
   (Luo et al.), per random draw, whose profiles make the figure erf.png.
2. MNIST-1D (Greydanus 2020; Adam lr 1e-2, batch 100, his 8000 steps):
   logistic regression, his MLP, CNN and bidirectional GRU (`mnist1d_logistic`,
   `mnist1d_mlp`, `mnist1d_cnn`, `mnist1d_gru`), the same on shuffled positions
   (`*_shuffled`); and jaxdl's own comparisons: dilated vs undilated CNNs of
   equal depth and width (`mnist1d_dilated_d4`, `mnist1d_undilated_d4`), a
   shallow dilated CNN vs a deep undilated one of equal field
   (`mnist1d_dilated_d3`, `mnist1d_undilated_d7`).
3. Context module (Yu & Koltun 2016) on dense prediction: per-pixel labels of
   MNIST digits on a canvas (`jaxdl.tasks.dense_digits`), SGD with momentum as
   in the paper: a conv front end alone (`context_front_end`), + the context
   module on its class scores with identity init (`context_identity_init`),
   + the module with a random init (`context_random_init`); mean IoU per seed.

Every trained cell's replicas are the seeds; it measures its parameter count
and steps. Report: the three tables, eleven claim verdicts and erf.png.
"""
import os

from experiments.dilated_convs.cells import cells
from experiments.dilated_convs.report import report
from jaxdl.study import Study

STUDY = Study("dilated_convs", "Dilated convolutions and receptive fields: analytical, measured, effective; "
              "MNIST-1D; the context module", os.path.join(os.path.dirname(__file__), "config.py"), cells, report)
