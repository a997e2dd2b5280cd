"""Seeing inside a trained CNN: filters, feature maps, saliency, guided back-propagation, occlusion,
activation maximization and the penultimate features, with their sanity checks.

  python -m experiments.visualize            # quick: MNIST and Fashion-MNIST subsets, 3 seeds
  python -m experiments.visualize --config=experiments/visualize/config.py:full
  python -m experiments.visualize --config.explain.images=200 --config.seeds=5
  python -m experiments.visualize --report_only   # the report again, from the cell directories

Sources: Simonyan, Vedaldi & Zisserman 2014 (class-score gradients as
saliency maps); Springenberg et al. 2015 (guided back-propagation); Zeiler &
Fergus 2014 (occlusion sensitivity, feature maps); Yosinski et al. 2015
(activation maximization with L2 decay, Gaussian blur and clipping); Adebayo
et al. 2018 (the model-randomization sanity check: a map that does not change
when the weights are randomized does not explain the model); the deletion
curve (Samek et al. 2017's region perturbation, with pixels).

Cells: `cnn_<dataset>`: the benchmark CNN (conv 20 and 40, 5x5, pools, dense
100, ReLU) trained on a subset; its replicas are the seeds. Its measurement
(measurements.json), per seed: the three methods' maps for the first test
images and the same maps from the net with freshly initialized weights (their
Spearman rank correlation); the deletion curve of the gradient map against
random pixels; one maximized image per class with and without the
regularizers, and their class probability under input noise; for seed 0 the
pictures (filters, feature maps, maps, maximized images, a PCA of the
penultimate features).

Report: accuracy, sanity-check, deletion and maximization tables, the
verdicts, and five figures: filters_and_feature_maps.png, explanations.png,
deletion.png, maximized.png, embedding.png.
"""
import os

from experiments.visualize.cells import cells
from experiments.visualize.report import report
from jaxdl.study import Study

STUDY = Study("visualize", "Seeing inside a trained CNN: saliency, guided back-propagation, occlusion, activation "
              "maximization", os.path.join(os.path.dirname(__file__), "config.py"), cells, report)
