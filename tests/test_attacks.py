"""Tests of jaxdl.attacks (closed forms on linear models, the replica evaluation loops), adversarial
training (jaxdl.train.adversarial) and the maxout model."""
import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl import attacks
from jaxdl.data import load_dataset
from jaxdl.losses import softmax_cross_entropy
from jaxdl.models import MODELS, build_model
from jaxdl.optim import OptimConfig
from jaxdl.train import TrainConfig, train_and_evaluate
from jaxdl.train.adversarial import AdversarialProgram, attack_targets, robustness_hook

D = 12  # input features of the linear models


def linear(w: jax.Array, b: jax.Array):
  """logits = x W^T + b; w [K, D]."""
  return lambda x: x.reshape(x.shape[0], -1) @ w.T + b


@pytest.fixture
def binary():
  k1, k2, k3, k4 = jax.random.split(jax.random.PRNGKey(0), 4)
  w = jax.random.normal(k1, (2, D))
  b = jax.random.normal(k2, (2,))
  x = jax.random.uniform(k3, (16, D))
  y = jax.random.randint(k4, (16,), 0, 2)
  return w, b, x, y


def test_fgsm_raises_logit_by_eps_times_l1_norm():
  """logits = [0, w.x + b], true class 0: grad_x J = p1 * w, so FGSM moves the
  class-1 logit up by exactly eps * ||w||_1 and leaves class 0's at 0."""
  w1 = jnp.array([0.5, -2.0, 0.0, 1.5, -0.25, 3.0])
  w = jnp.stack([jnp.zeros_like(w1), w1])
  x = jax.random.uniform(jax.random.PRNGKey(1), (5, 6))
  y = jnp.zeros(5, jnp.int32)
  eps = 0.1
  f = linear(w, jnp.array([0.0, 0.3]))
  change = f(attacks.fgsm(f, x, y, eps)) - f(x)
  np.testing.assert_allclose(change[:, 1], eps * jnp.sum(jnp.abs(w1)), rtol=1e-5)
  np.testing.assert_allclose(change[:, 0], 0.0, atol=1e-6)


def test_fgsm_binary_margin_closed_form(binary):
  """Two classes, general W: the margin z_other - z_true grows by exactly eps * ||w1 - w0||_1
  (untargeted); targeted at the other class, the same (the target's margin grows)."""
  w, b, x, y = binary
  f = linear(w, b)
  eps = 0.05
  expected = eps * jnp.sum(jnp.abs(w[1] - w[0]))
  sign = jnp.where(y == 0, 1.0, -1.0)  # margin z_1 - z_0 seen from the true class
  margin = lambda z: sign * (z[:, 1] - z[:, 0])  # noqa: E731
  np.testing.assert_allclose(margin(f(attacks.fgsm(f, x, y, eps))) - margin(f(x)), expected, rtol=1e-5)
  x_t = attacks.fgsm(f, x, 1 - y, eps, targeted=True)
  np.testing.assert_allclose(margin(f(x_t)) - margin(f(x)), expected, rtol=1e-5)


def test_targeted_fgsm_lowers_the_target_loss():
  k1, k2, k3 = jax.random.split(jax.random.PRNGKey(2), 3)
  f = linear(jax.random.normal(k1, (10, D)), jnp.zeros(10))
  x = jax.random.uniform(k2, (32, D))
  target = jax.random.randint(k3, (32,), 0, 10)
  before = attacks.per_example_loss(f, x, target)
  after = attacks.per_example_loss(f, attacks.fgsm(f, x, target, 0.01, targeted=True), target)
  assert bool(jnp.all(after < before))


def test_fgsm_clipping_to_pixel_range(binary):
  w, b, x, y = binary
  f = linear(w, b)
  unclipped = attacks.fgsm(f, x, y, 0.5)
  clipped = attacks.fgsm(f, x, y, 0.5, bounds=(0.0, 1.0))
  assert float(unclipped.min()) < 0.0 or float(unclipped.max()) > 1.0  # the clip has work to do
  np.testing.assert_allclose(clipped, jnp.clip(unclipped, 0.0, 1.0))


def small_mlp():
  model = build_model("mlp", 10, {"widths": (16,)})
  params = model.init(jax.random.PRNGKey(3), jnp.zeros((1, 8, 8, 1)))["params"]
  return model, {"params": params}


def test_pgd_stays_in_eps_ball_and_pixel_range():
  model, variables = small_mlp()
  f = lambda z: model.apply(variables, z)  # noqa: E731
  x = jax.random.uniform(jax.random.PRNGKey(4), (20, 8, 8, 1))
  y = jnp.arange(20) % 10
  eps = 0.3
  x_adv = attacks.pgd(f, x, y, eps, steps=7, step_size=0.1, key=jax.random.PRNGKey(5), restarts=3,
                      bounds=(0.0, 1.0))
  assert float(jnp.max(jnp.abs(x_adv - x))) <= eps + 1e-6
  assert float(x_adv.min()) >= 0.0 and float(x_adv.max()) <= 1.0
  assert float(jnp.mean(jnp.abs(x_adv - x))) > 0.05  # it moved


def test_pgd_without_random_start_on_a_linear_model_reaches_the_fgsm_corner(binary):
  """Binary linear model: the gradient sign is constant, so steps that add up to >= eps
  end at x + eps * sign(w_other - w_true), FGSM's point."""
  w, b, x, y = binary
  f = linear(w, b)
  np.testing.assert_allclose(attacks.pgd(f, x, y, 0.25, steps=5, step_size=0.1),
                             attacks.fgsm(f, x, y, 0.25), atol=1e-6)


def test_pgd_restarts_keep_the_worst_case_per_example():
  model, variables = small_mlp()
  f = lambda z: model.apply(variables, z)  # noqa: E731
  x = jax.random.uniform(jax.random.PRNGKey(6), (64, 8, 8, 1))
  y = jnp.argmax(f(x), -1)  # all correct at the start
  kwargs = dict(steps=2, step_size=0.01, key=jax.random.PRNGKey(7), bounds=(0.0, 1.0))
  one = attacks.pgd(f, x, y, 0.03, restarts=1, **kwargs)
  many = attacks.pgd(f, x, y, 0.03, restarts=4, **kwargs)
  wrong_one = jnp.argmax(f(one), -1) != y
  wrong_many = jnp.argmax(f(many), -1) != y
  assert bool(jnp.all(wrong_many | ~wrong_one))  # every example fooled by restart 0 stays fooled
  both_right = ~wrong_one & ~wrong_many
  loss_one, loss_many = (attacks.per_example_loss(f, z, y) for z in (one, many))
  assert bool(jnp.all(jnp.where(both_right, loss_many >= loss_one - 1e-6, True)))
  with pytest.raises(ValueError, match="random starts"):
    attacks.pgd(f, x, y, 0.03, steps=2, step_size=0.01, restarts=2)


def test_adversarial_objective_mixes_clean_and_fgsm_losses(binary):
  w, b, x, y = binary
  objective = lambda p, z: (jnp.mean(softmax_cross_entropy(linear(*p)(z), y, 2)), None)  # noqa: E731
  params = (w, b)
  eps = 0.1
  clean = objective(params, x)[0]
  at_fgsm = objective(params, attacks.fgsm(linear(w, b), x, y, eps))[0]
  for alpha, expected in [(1.0, clean), (0.0, at_fgsm), (0.5, 0.5 * clean + 0.5 * at_fgsm)]:
    np.testing.assert_allclose(attacks.adversarial_objective(objective, params, x, eps, alpha)[0], expected,
                               rtol=1e-6)
  # The parameter gradient treats the adversarial batch as a constant.
  x_adv = attacks.fgsm(linear(w, b), x, y, eps)
  grad = jax.grad(lambda p: attacks.adversarial_objective(objective, p, x, eps, 0.5)[0])(params)
  expected = jax.grad(lambda p: 0.5 * objective(p, x)[0] + 0.5 * objective(p, x_adv)[0])(params)
  jax.tree_util.tree_map(lambda g, e: np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-7), grad, expected)


def test_fgsm_random_start_variant_stays_in_the_ball(binary):
  """Wong et al.: uniform start, one step of 1.25 eps, projected back to the eps-ball."""
  w, b, x, y = binary
  captured = {}

  def objective(p, z):
    captured["z"] = z
    return jnp.mean(softmax_cross_entropy(linear(*p)(z), y, 2)), None

  loss, _ = attacks.adversarial_objective(objective, (w, b), x, 0.1, 0.0, start_key=jax.random.PRNGKey(8))
  x_adv = captured["z"]
  assert float(jnp.max(jnp.abs(x_adv - x))) <= 0.1 + 1e-6
  assert float(jnp.max(jnp.abs(x_adv - attacks.fgsm(linear(w, b), x, y, 0.1)))) > 0  # not plain FGSM
  np.testing.assert_allclose(loss, objective((w, b), x_adv)[0], rtol=1e-6)


def test_adversarial_objective_trains_on_pgd_and_skips_the_clean_gradient_at_alpha_zero(binary):
  """steps > 1 is PGD training (Madry et al.): the loss at sign_gradient_ascent's point; at alpha = 0
  the parameter gradient is the adversarial loss's alone."""
  w, b, x, y = binary
  objective = lambda p, z: (jnp.mean(softmax_cross_entropy(linear(*p)(z), y, 2)), None)  # noqa: E731
  key, eps = jax.random.PRNGKey(3), 0.1
  x_pgd = attacks.sign_gradient_ascent(lambda z: objective((w, b), z)[0], x, eps, steps=4, step_size=0.03,
                                       start_key=key)
  loss_fn = lambda p: attacks.adversarial_objective(objective, p, x, eps, 0.0, start_key=key, steps=4,  # noqa
                                                    step_size=0.03)[0]
  np.testing.assert_allclose(loss_fn((w, b)), objective((w, b), x_pgd)[0], rtol=1e-6)
  expected = jax.grad(lambda p: objective(p, x_pgd)[0])((w, b))
  jax.tree_util.tree_map(lambda g, e: np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-7),
                         jax.grad(loss_fn)((w, b)), expected)


def test_robustness_hook_follows_each_replica_over_training():
  """The hook's record at init and after every epoch: per-replica clean, FGSM and PGD accuracy on
  the probe; at eps = 0 every attack is the clean accuracy, and it matches the engine's."""
  data = load_dataset("synthetic", n_train=64, n_test=16, shape=(4, 4, 1))
  cfg = TrainConfig(dataset="synthetic", model="mlp", model_options={"widths": (8,)},
                    optim=OptimConfig(name="momentum", lr=0.05), batch_size=16, epochs=2, seeds=(0, 1))
  settings = attacks.PGDSettings(2, 0.05)
  zero = train_and_evaluate(cfg, None, data=data, echo=lambda _: None,
                            epoch_hook=robustness_hook(data.x_test, data.y_test, 0.0, settings))
  assert [h["epoch"] for h in zero.history] == [0, 1, 2]
  for h in zero.history:
    assert h["probe_clean_acc"].shape == (2,)
    np.testing.assert_allclose(h["probe_fgsm_acc"], h["probe_clean_acc"])
    np.testing.assert_allclose(h["probe_pgd_acc"], h["probe_clean_acc"])
  np.testing.assert_allclose(zero.history[-1]["probe_clean_acc"], [r["test_acc"] for r in zero.replicas],
                             atol=1e-6)
  attacked = train_and_evaluate(cfg, None, data=data, echo=lambda _: None,
                                epoch_hook=robustness_hook(data.x_test, data.y_test, 0.5, settings))
  last = attacked.history[-1]
  assert np.all(last["probe_pgd_acc"] <= last["probe_clean_acc"])


def test_attacks_vmap_over_replicas(binary):
  _, _, x, y = binary
  ws = jax.random.normal(jax.random.PRNGKey(9), (3, 2, D))
  bs = jnp.zeros((3, 2))
  batched = jax.jit(jax.vmap(lambda w, b: attacks.fgsm(linear(w, b), x, y, 0.1)))(ws, bs)
  for k in range(3):
    np.testing.assert_allclose(batched[k], attacks.fgsm(linear(ws[k], bs[k]), x, y, 0.1), atol=1e-6)


def test_eps_units_for_pixels_and_standardized_inputs(binary):
  """FGSM on standardized inputs with the converted eps is FGSM on pixels with the pixel eps."""
  w, b, x, y = binary
  mean, std = 0.3, 0.2
  units = attacks.InputUnits((0.0, 1.0), shift=mean, scale=std)
  assert units.eps(0.25) == pytest.approx(0.25 / std)
  assert units.bounds == pytest.approx(((0.0 - mean) / std, (1.0 - mean) / std))
  pixel_model = linear(w, b)
  standardized_model = lambda z: pixel_model(z * std + mean)  # noqa: E731  the same net, fed standardized inputs
  x_std = (x - mean) / std
  adv_std = attacks.fgsm(standardized_model, x_std, y, units.eps(0.25), bounds=units.bounds)
  adv_pixels = attacks.fgsm(pixel_model, x, y, 0.25, bounds=(0.0, 1.0))
  np.testing.assert_allclose(adv_std * std + mean, adv_pixels, atol=1e-5)

  mnist_like = load_dataset("synthetic", n_train=8, n_test=4, shape=(4, 4, 1))
  assert attacks.InputUnits.of(mnist_like).eps(0.25) == 0.25
  standardized = dataclasses.replace(mnist_like, pixel_range=None)
  with pytest.raises(ValueError, match="standardized"):
    attacks.InputUnits.of(standardized)
  assert attacks.InputUnits.of(standardized, mean, std).eps(0.25) == pytest.approx(0.25 / std)


def test_maxout_model_tags_pieces_and_takes_their_max():
  assert "maxout" in MODELS.names()
  model = build_model("maxout", 10, {"widths": (6, 4), "pieces": 3})
  x = jax.random.uniform(jax.random.PRNGKey(10), (2, 8, 8, 1))
  params = model.init(jax.random.PRNGKey(11), x)["params"]
  logits, state = model.apply({"params": params}, x, mutable=["intermediates"])
  inter = state["intermediates"]
  assert logits.shape == (2, 10)
  assert inter["pre0"][0].shape == (2, 6, 3) and inter["act0"][0].shape == (2, 6)
  assert inter["pre1"][0].shape == (2, 4, 3)
  np.testing.assert_allclose(inter["act1"][0], inter["pre1"][0].max(-1))
  z = x.reshape(2, -1) @ params["dense0"]["kernel"] + params["dense0"]["bias"]
  np.testing.assert_allclose(inter["pre0"][0], z.reshape(2, 6, 3), rtol=1e-5, atol=1e-6)


def test_adversarial_program_with_alpha_one_is_the_engine_step():
  """alpha = 1 is plain training: same parameters, bit for bit, as train_and_evaluate."""
  data = load_dataset("synthetic", n_train=64, n_test=16, shape=(4, 4, 1))
  cfg = TrainConfig(dataset="synthetic", model="maxout", model_options={"widths": (8,), "pieces": 2},
                    optim=OptimConfig(name="momentum", lr=0.05), batch_size=16, epochs=2, seeds=(0, 1))
  engine = train_and_evaluate(cfg, None, data=data, echo=lambda _: None)

  def adversarial(alpha):
    factory = functools.partial(AdversarialProgram, eps=0.25, alpha=alpha)
    return train_and_evaluate(cfg, None, data=data, echo=lambda _: None, program_factory=factory).state

  jax.tree_util.tree_map(np.testing.assert_array_equal, adversarial(1.0).params, engine.state.params)
  adv_state = adversarial(0.5)
  assert not np.allclose(adv_state.params["logits"]["kernel"], engine.state.params["logits"]["kernel"])

  # The attack loop at eps = 0 scores the run's replicas as its evaluation does.
  _, clean = attacks.attack_replicas(attack_targets(engine), data.x_test, data.y_test, 0.0, chunk=5)
  np.testing.assert_allclose(clean["error"], [1 - r["test_acc"] for r in engine.replicas], atol=1e-6)


def two_mlp_replicas(diverged=(False, False)) -> attacks.Replicas:
  """Two replicas of a small MLP (different inits), variables with leaves [2, ...]."""
  model = build_model("mlp", 10, {"widths": (16,)})
  inits = [model.init(jax.random.PRNGKey(seed), jnp.zeros((1, 8, 8, 1))) for seed in (20, 21)]
  return attacks.Replicas(model, jax.tree_util.tree_map(lambda *leaves: jnp.stack(leaves), *inits),
                          np.asarray(diverged))


def one_replica_fn(replicas: attacks.Replicas, k: int):
  variables = jax.tree_util.tree_map(lambda leaf: leaf[k], replicas.variables)
  return lambda z: replicas.model.apply(variables, z, train=False)


def test_chunk_slices_cover_the_range_once():
  assert attacks.chunk_slices(5, 2) == [slice(0, 2), slice(2, 4), slice(4, 5)]
  assert attacks.chunk_slices(4, 10) == [slice(0, 4)]
  assert attacks.chunk_slices(0, 3) == []


def test_attack_replicas_is_each_replica_attacking_itself_in_any_chunking():
  replicas = two_mlp_replicas()
  x = jax.random.uniform(jax.random.PRNGKey(22), (10, 8, 8, 1))
  y = np.arange(10, dtype=np.int32) % 10
  adv, stats = attacks.attack_replicas(replicas, np.asarray(x), y, 0.1, chunk=3)
  assert adv.shape == (2, 10, 8, 8, 1)
  for k in range(2):
    f = one_replica_fn(replicas, k)
    np.testing.assert_allclose(adv[k], attacks.fgsm(f, x, y, 0.1), atol=1e-6)
    assert stats["error"][k] == pytest.approx(float(np.mean(np.argmax(f(adv[k]), -1) != y)))
  whole, whole_stats = attacks.attack_replicas(replicas, np.asarray(x), y, 0.1, chunk=10)
  np.testing.assert_allclose(adv, whole, atol=1e-6)
  np.testing.assert_allclose(stats["error"], whole_stats["error"])
  clean = attacks.attack_replicas(replicas, np.asarray(x), y, 0.0)[1]["error"]
  for k in range(2):
    assert clean[k] == pytest.approx(float(np.mean(np.argmax(one_replica_fn(replicas, k)(x), -1) != y)))


def test_attack_replicas_with_pgd_settings_runs_pgd_and_marks_diverged_replicas_nan():
  replicas = two_mlp_replicas(diverged=(False, True))
  x = jax.random.uniform(jax.random.PRNGKey(23), (6, 8, 8, 1))
  y = np.arange(6, dtype=np.int32)
  settings = attacks.PGDSettings(steps=3, step_size=0.05, restarts=2, seed=4)
  # One chunk: PGD's random starts are drawn per chunk, so they depend on the chunking.
  adv, stats = attacks.attack_replicas(replicas, np.asarray(x), y, 0.1, pgd_settings=settings, chunk=6)
  expected = attacks.pgd(one_replica_fn(replicas, 0), x, y, 0.1, steps=3, step_size=0.05,
                         key=jax.random.PRNGKey(4), restarts=2)
  np.testing.assert_allclose(adv[0], expected, atol=1e-6)
  assert not np.isnan(stats["error"][0]) and not np.isnan(stats["confidence_on_errors"][0])
  assert np.isnan(stats["error"][1]) and np.isnan(stats["confidence_on_errors"][1])


def test_transfer_error_pairs_replica_k_with_k_or_the_next_seed():
  replicas = two_mlp_replicas()
  x = jax.random.uniform(jax.random.PRNGKey(24), (12, 8, 8, 1))
  y = np.arange(12, dtype=np.int32) % 10
  adv, own = attacks.attack_replicas(replicas, np.asarray(x), y, 0.2, chunk=5)
  no_divergence = np.zeros(2, bool)
  same = attacks.transfer_error(adv, y, no_divergence, replicas, chunk=5)
  np.testing.assert_allclose(same, own["error"])
  crossed = attacks.transfer_error(adv, y, no_divergence, replicas, next_seed=True, chunk=5)
  for k in range(2):
    f_next = one_replica_fn(replicas, (k + 1) % 2)
    assert crossed[k] == pytest.approx(float(np.mean(np.argmax(f_next(adv[k]), -1) != y)))
  # Replica 1 diverged: as the target of k = 0 (next seed) and as the source of k = 1.
  dead_target = dataclasses.replace(replicas, diverged=np.array([False, True]))
  dead_next = attacks.transfer_error(adv, y, no_divergence, dead_target, next_seed=True)
  assert np.isnan(dead_next).tolist() == [True, False]
  assert np.isnan(attacks.transfer_error(adv, y, np.array([False, True]), replicas)).tolist() == [False, True]
  single = replicas.select([0])
  assert np.isnan(attacks.transfer_error(adv[:1], y, np.zeros(1, bool), single, next_seed=True)).all()
