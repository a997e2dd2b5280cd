"""  python -m experiments.fgsm_adversarial                      # the quick variant (a laptop CPU)
  python -m experiments.fgsm_adversarial --config=experiments/fgsm_adversarial/config.py:full
  python -m experiments.fgsm_adversarial --config.dataset=fashion_mnist --config.eps=0.1

Adversarial examples (Goodfellow, Shlens & Szegedy 2015): FGSM, adversarial
training, transfer, PGD. On MNIST (or any image dataset with pixels in [0, 1]),
with eps a fraction of the pixel range and attacks not clipped to it (as in
the paper; `--config.clip=True` clips every attack and the adversarial
training), it measures:
(1) the FGSM error and mean confidence on errors against eps; (2) FGSM and
clean error at eps = 0.25 beside the paper's, and what adversarial training
(alpha = 0.5, examples regenerated from the current parameters at every step)
does to them; (3) transfer: the error of each net on FGSM examples crafted
on each other net (two nets of one architecture: across seeds); (4) PGD
error (Madry et al. 2018): does the FGSM-trained robustness survive a
stronger attack? (5) robustness over training (Wong, Rice & Kolter 2020):
clean, FGSM and PGD accuracy on a probe after every epoch of every
adversarially trained cell, and the arms FGSM from zero / FGSM from a random
start (step 1.25 eps) / PGD training, for catastrophic overfitting; and the
signs of gradient masking on the adversarially trained maxout (Athalye et al.
2018). Every number is mean ± std over seeds; every verdict decides only
beyond the seed noise (`jaxdl.report.verdicts`).

Cells (see config.py for the nets and sizes of each variant):
- trained, one per net, its seeds as replicas of one program: `softmax`
  (softmax regression), `maxout` (a maxout MLP; in `full` pylearn2's
  mnist_pi.yaml recipe with dropout and max-norm), `relu_mlp` (a ReLU MLP of
  the maxout net's widths), `cnn`, and `maxout_adv`, `cnn_adv` (the same nets
  trained with Goodfellow et al.'s objective at eps), and `<fast.net>_fgsm_zero`,
  `_fgsm_rs`, `_pgd` (Wong et al.'s arms, on adversarial examples alone);
  every adversarially trained cell runs the robustness hook after each epoch;
- measurements on the trained replicas: `fgsm_sweep` (clean error, FGSM at
  every eps of the grid and at eps), `pgd`, `transfer` and `panda` (the
  paper's Figure 1 on the maxout nets: an image, its perturbation, the
  adversarial image and the predictions).
Report: tables (1)-(5), eps_sweep.png, adversarial_panda.png,
robustness_over_training.png, claims.json.
"""
import os

from experiments.fgsm_adversarial.cells import cells
from experiments.fgsm_adversarial.report import report
from jaxdl.study import Study

STUDY = Study("fgsm_adversarial", "Adversarial examples: FGSM, adversarial training, transfer, PGD "
              "(Goodfellow et al. 2015)", os.path.join(os.path.dirname(__file__), "config.py"), cells, report)
