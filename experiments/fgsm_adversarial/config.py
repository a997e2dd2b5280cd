"""The FGSM study's config: `smoke` (tests), `quick` (a laptop CPU), `full` (the paper's scale).

  python -m experiments.fgsm_adversarial --config=experiments/fgsm_adversarial/config.py:full

Trained cells: every net of `models`, plus `<net>_adv` for every net of
`adversarially_trained` (the same net, optimizer and seeds under Goodfellow et
al.'s objective; `adversarial_model_options` changes its options, e.g. the
paper's 1600-unit adversarially trained maxout in `full`), plus the arms of
Wong, Rice & Kolter 2020 (`fast`: the net `fast.net` trained on adversarial
examples alone at `fast.eps`, with FGSM from zero, FGSM from a random start
with a step of `fast.rs_step` eps, and PGD). Every adversarially trained cell
is attacked after every epoch on the first `probe.size` test examples (clean,
FGSM, PGD: its robustness over training). eps, the eps grid and PGD's step
sizes are fractions of the pixel range. Every field is overridable, e.g.
`--config.eps=0.1`, `--config.seeds=3`, `--config.seed_offset=10` (other seeds),
`--config.nets.maxout.model_options.widths=(50,50)`.
"""
import ml_collections

from experiments.configs import check_variant, optim_section, train_section

# Set per cell from `dataset`, `seeds` and `nets`: not engine settings shared by every cell.
_PER_CELL_TRAIN_FIELDS = ("dataset", "seeds", "model", "model_options", "optim")


def get_config(variant: str = "quick") -> ml_collections.ConfigDict:
  check_variant(variant)
  config = ml_collections.ConfigDict()
  config.dataset = "synthetic" if variant == "smoke" else "mnist"
  # Replicas with seeds seed_offset .. seed_offset + seeds - 1 (`experiments.configs.seed_range`).
  config.seeds = {"smoke": 2, "quick": 2, "full": 3}[variant]
  config.seed_offset = 0
  # The first N test examples: evaluated every epoch and attacked (0 = all).
  config.eval_size = {"smoke": 0, "quick": 2000, "full": 0}[variant]
  config.models = (("softmax", "maxout", "cnn") if variant == "smoke" else
                   ("softmax", "maxout", "relu_mlp", "cnn"))
  config.adversarially_trained = ("maxout",) if variant == "smoke" else ("maxout", "cnn")
  config.nets = _nets(variant)
  # Goodfellow et al. adversarially trained a larger maxout net (1600 units a layer, not 240).
  config.adversarial_model_options = ml_collections.ConfigDict(
      {"maxout": {"widths": (1600, 1600)}} if variant == "full" else {})
  config.eps = 0.25        # fraction of the pixel range, for FGSM, PGD, transfer and adversarial training
  config.eps_grid = (0.0, 0.25) if variant == "smoke" else (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
  config.alpha = 0.5       # adversarial training: alpha * J(x) + (1 - alpha) * J(x_adv)
  config.clip = False      # clip attacks and adversarial training to the pixel range (the paper does not)
  config.pgd = ml_collections.ConfigDict({
      "smoke": dict(steps=2, step_size=0.15, restarts=1, seed=0),
      "quick": dict(steps=10, step_size=0.0625, restarts=1, seed=0),  # step 2.5 eps / steps
      "full": dict(steps=40, step_size=0.01, restarts=5, seed=0)}[variant])
  config.eval_chunk = 32 if variant == "smoke" else 1000  # test examples attacked at once
  # The robustness hook: after every epoch of an adversarially trained cell, its accuracy on the
  # first `size` test examples, clean, under FGSM and under PGD (`pgd_steps` steps of
  # 2.5 eps / pgd_steps from a random start) at the eps the cell trains at.
  config.probe = ml_collections.ConfigDict({
      "smoke": dict(size=16, pgd_steps=2, pgd_restarts=1, seed=0),
      "quick": dict(size=500, pgd_steps=10, pgd_restarts=1, seed=0),
      "full": dict(size=1000, pgd_steps=50, pgd_restarts=1, seed=0)}[variant])
  config.fast = _fast(variant)
  config.train = _train(variant)
  return config


def _nets(variant: str) -> ml_collections.ConfigDict:
  """The architectures and their optimizers; `full` gives the maxout net pylearn2's mnist_pi.yaml recipe."""
  fast = dict(name="momentum", lr=0.05, momentum=0.9)
  if variant == "full":
    cnn = {"conv_features": (20, 40), "dense_widths": (100,)}
    maxout = {"widths": (240, 240), "pieces": 5, "dropout_rate": 0.5, "input_dropout_rate": 0.2}
    maxout_optim = dict(name="momentum", lr=0.1, momentum=0.5, max_norm=1.9365)
  elif variant == "quick":  # narrower nets: the full ones take ~10x longer on a 2-core CPU
    cnn = {"conv_features": (8, 16), "dense_widths": (64,)}
    maxout = {"widths": (100, 100), "pieces": 5}
    maxout_optim = fast
  else:
    cnn = {"conv_features": (4,), "dense_widths": ()}
    maxout = {"widths": (8,), "pieces": 2}
    maxout_optim = fast
  nets = ml_collections.ConfigDict({
      "softmax": {"model": "mlp", "model_options": {"widths": ()}, "optim": optim_section(**fast)},
      "maxout": {"model": "maxout", "model_options": maxout, "optim": optim_section(**maxout_optim)},
      "relu_mlp": {"model": "mlp", "model_options": {"activation": "relu"}, "optim": optim_section(**fast)},
      "cnn": {"model": "cnn", "model_options": cnn, "optim": optim_section(**fast)}})
  # The ReLU MLP has the maxout net's widths (also when those are overridden).
  nets.relu_mlp.model_options.widths = nets.maxout.model_options.get_ref("widths")
  return nets


def _fast(variant: str) -> ml_collections.ConfigDict:
  """Wong, Rice & Kolter 2020's arms on MNIST: eps = 0.3, FGSM-RS step 1.25 eps (0.375), each arm
  trained on its adversarial examples alone (alpha = 0), with Adam. PGD training: Madry et al.'s
  MNIST adversary (40 steps of 0.01 from a random start) in `full`; in `quick` 5 steps
  of 2.5 eps / 5, and the ReLU MLP instead of the CNN (three adversarial CNN arms would take the
  whole quick budget on a 2-core CPU; BUILD_NOTES.md, "Adversarial examples")."""
  arms = ("fgsm_zero", "fgsm_rs", "pgd")
  adam = optim_section(name="adam", lr=1e-3)
  return ml_collections.ConfigDict({
      "smoke": dict(net="cnn", arms=("fgsm_zero", "fgsm_rs"), eps=0.3, rs_step=1.25, pgd_steps=2,
                    pgd_step_size=0.15, train_size=0, epochs=1, optim=adam),
      "quick": dict(net="relu_mlp", arms=arms, eps=0.3, rs_step=1.25, pgd_steps=5, pgd_step_size=0.15,
                    train_size=10000, epochs=8, optim=adam),
      "full": dict(net="cnn", arms=arms, eps=0.3, rs_step=1.25, pgd_steps=40, pgd_step_size=0.01,
                   train_size=0, epochs=50, optim=adam)}[variant])


def _train(variant: str) -> ml_collections.ConfigDict:
  sizes = {"smoke": dict(data_options={"n_train": 128, "n_test": 48, "shape": (8, 8, 1)}, batch_size=32, epochs=1),
           "quick": dict(train_size=10000, batch_size=128, epochs=3),
           "full": dict(batch_size=100, epochs=50)}[variant]  # full: 50 epochs, no early stopping
  return train_section(exclude=_PER_CELL_TRAIN_FIELDS, **sizes)
