"""Per-layer diagnostics of any registered model, built on the `tag_hidden` tags alone.

Every hidden layer of every model goes through `jaxdl.models.layers.tag_hidden`,
which sows intermediates `pre{i}`/`act{i}` and registers the pre-activation as
the Flax perturbation `pre{i}`. From these tags, on one batch:

- forward statistics: mean and std of activations and pre-activations, the
  fraction of saturated units (bounded activations) and of dead units (ReLU);
- backward statistics: the std and norm of dL/d(pre-activation) (the gradient
  w.r.t. the zero perturbation added to `pre{i}`), and the norm and std of
  dL/dW of the kernel(s) that produce `pre{i}`;
- the singular values of each layer's input-output Jacobian d act_i / d act_{i-1}.

Rules, chosen once for every model:

- Layer order: the order in which the forward pass sows the tags (the
  insertion order of the intermediates collection, read outside `jit`, which
  would sort the keys). A layer's name is its module path and index, e.g.
  "3" for the MLP's pre3/act3, "block2/1" for a tag inside submodule block2.
- Kernel -> layer: a parameter named `kernel` belongs to the FIRST tagged layer
  (in forward order) whose pre-activation depends on it, read from the data
  flow of the traced forward pass (`tagged_layers`; nothing is compiled). For the MLP that is dense{i}, for the CNN conv{i} then
  dense{j}; a projection shortcut feeding the same pre-activation is counted
  with the layer's own kernel (norms are over all the layer's kernels). The
  output layer's kernel feeds no tagged pre-activation and is left out.
- Batch norm and dropout: statistics and gradients use the TRAINING forward
  pass by default (`train=True`: batch statistics, the running averages not
  updated, dropout drawn from a fixed key), because that is the pass the
  gradients of training come from, and at initialization the running averages
  (mean 0, var 1) say nothing about the data. Jacobians use `train=False` so
  each example's map is its own (no coupling through batch statistics).
- Gradient scale: gradients are of the MEAN loss over the batch (what the
  optimizer sees) for kernels; for pre-activations they are multiplied by the
  batch size, i.e. the gradient of each example's own loss, so the numbers do
  not depend on the batch size.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping, Sequence

import flax.linen as nn
import jax
import jax.extend.core as jcore
import jax.numpy as jnp
import numpy as np

from jaxdl.losses import get_loss

# Activations whose units saturate: (lower bound, upper bound) of their range.
# A unit is saturated when it is within SATURATION_TOL of the range's width
# from a bound: sigmoid < 0.01 or > 0.99; tanh and softsign |act| > 0.98.
SATURATION_BOUNDS = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "softsign": (-1.0, 1.0)}
SATURATION_TOL = 0.01
# Activations with an exactly-zero half whose units can die.
DEAD_ACTIVATIONS = ("relu",)

STATISTICS = ("act_mean", "act_std", "preact_mean", "preact_std", "saturated_frac", "dead_frac",
              "preact_grad_std", "preact_grad_norm", "kernel_grad_norm", "kernel_grad_std",
              "kernel_fan_in_var")

Path = tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class TaggedLayer:
  """One `tag_hidden` call site: where it is and which kernels produce its pre-activation."""
  path: Path                  # module path of the tagging module (() for the top module)
  index: int                  # the index given to tag_hidden
  kernels: tuple[Path, ...]   # param paths of the kernels that produce pre{index}

  @property
  def name(self) -> str:
    return "/".join((*self.path, str(self.index)))


def _tree_get(tree: Any, path: Path) -> Any:
  for key in path:
    tree = tree[key]
  return tree


def _walk(tree: Any, path: Path = ()):
  """(path, leaf) pairs of nested dicts in insertion order (jax.tree_util would sort keys)."""
  if isinstance(tree, Mapping):
    for key, value in tree.items():
      yield from _walk(value, (*path, key))
  else:
    yield path, tree


def _clean(variables: dict[str, Any]) -> dict[str, Any]:
  """Drops collections that `model.init` returns but apply must not receive as-is."""
  return {k: v for k, v in variables.items() if k not in ("perturbations", "intermediates")}


def _forward(model: nn.Module, variables: dict[str, Any], x: jax.Array, train: bool,
             rng: jax.Array | None, extra_mutable: Sequence[str] = ()) -> tuple[jax.Array, dict]:
  """logits, mutated collections (intermediates + extra); batch stats mutable in train mode."""
  mutable = ["intermediates", *extra_mutable]
  if train and "batch_stats" in variables:
    mutable.append("batch_stats")
  rngs = {"dropout": rng if rng is not None else jax.random.PRNGKey(0)} if train else None
  return model.apply(variables, x, train=train, mutable=mutable, rngs=rngs)


def _layer_value(intermediates: dict, layer: TaggedLayer, kind: str) -> jax.Array:
  """The sown `pre{i}`/`act{i}` of a layer; a tag sown several times is stacked on axis 0."""
  values = _tree_get(intermediates, (*layer.path, f"{kind}{layer.index}"))
  return values[0] if len(values) == 1 else jnp.stack(values)


def _zero_perturbations(model: nn.Module, variables: dict, x: jax.Array, train: bool,
                        rng: jax.Array | None) -> dict:
  """Zeros shaped like every perturbation the model registers on this batch."""
  shapes = jax.eval_shape(
      lambda v: _forward(model, v, x, train, rng, ("perturbations",))[1]["perturbations"], variables)
  return jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)


def _tag_sites(model: nn.Module, variables: dict, x: jax.Array) -> list[tuple[Path, int]]:
  """(module path, index) of every tag_hidden call, in the order the forward pass sows them.

  Read from the intermediates dict while tracing (abstractly, nothing runs):
  its insertion order is the forward order, which jit's sorted outputs lose.
  """
  sites: list[tuple[Path, int]] = []

  def record(v):
    _, state = _forward(model, v, x, False, None)
    for path, _ in _walk(state.get("intermediates", {})):
      if path[-1].startswith("pre") and path[-1][3:].isdigit():
        sites.append((tuple(path[:-1]), int(path[-1][3:])))
    return 0

  jax.eval_shape(record, variables)
  if not sites:
    raise ValueError(f"{type(model).__name__} tags no hidden layer: every hidden layer must "
                     "go through jaxdl.models.layers.tag_hidden")
  return sites


# Primitives that call a sub-program once, input i to input i: dependence is followed
# inside them. Any other primitive with sub-programs (scan, while, cond) is taken
# as "every output depends on every input", which can only over-approximate.
_CALL_PRIMITIVES = frozenset({"jit", "pjit", "closed_call", "core_call", "custom_jvp_call", "custom_vjp_call",
                              "custom_vjp_call_jaxpr", "checkpoint", "remat"})


def _dependence(jaxpr: Any, inputs: list[frozenset[int]]) -> list[frozenset[int]]:
  """For each output of `jaxpr`, the set of input ids it depends on (structurally)."""
  env: dict[Any, frozenset[int]] = dict(zip(jaxpr.invars, inputs))
  read = lambda v: frozenset() if isinstance(v, jcore.Literal) else env.get(v, frozenset())  # noqa: E731
  for eqn in jaxpr.eqns:
    deps = [read(v) for v in eqn.invars]
    subs = list(jcore.jaxprs_in_params(eqn.params))
    if eqn.primitive.name in _CALL_PRIMITIVES and len(subs) == 1 and len(subs[0].invars) == len(deps):
      outs = _dependence(subs[0], deps)
    else:
      outs = [frozenset().union(*deps)] * len(eqn.outvars)
    env.update(zip(eqn.outvars, outs))
  return [read(v) for v in jaxpr.outvars]


def tagged_layers(model: nn.Module, variables: dict[str, Any], x: jax.Array) -> list[TaggedLayer]:
  """The model's tagged hidden layers in forward order, each with its kernels.

  A kernel's layer is the first tagged pre-activation (in forward order) that
  depends on it, read from the data flow of the traced forward pass (eval
  mode; nothing is compiled or run).
  """
  variables = _clean(variables)
  x = jnp.asarray(x)
  sites = _tag_sites(model, variables, x)
  probes = [TaggedLayer(path, index, ()) for path, index in sites]
  leaves = list(_walk(variables["params"]))

  def preacts(params):
    _, mutated = _forward(model, {**variables, "params": params}, x, False, None)
    return [_layer_value(mutated["intermediates"], layer, "pre") for layer in probes]

  closed = jax.make_jaxpr(preacts)(variables["params"])
  # make_jaxpr flattens params in jax.tree_util order (sorted keys), not insertion order.
  flat_paths = [tuple(getattr(k, "key", k) for k in path)
                for path, _ in jax.tree_util.tree_flatten_with_path(variables["params"])[0]]
  reach = _dependence(closed.jaxpr, [frozenset({i}) for i in range(len(flat_paths))])
  first: dict[Path, int] = {}
  for layer, deps in enumerate(reach):
    for i in deps:
      first.setdefault(flat_paths[i], layer)
  kernels = [p for p, _ in leaves if p[-1] == "kernel"]
  return [TaggedLayer(path, index, tuple(p for p in kernels if first.get(p) == i))
          for i, (path, index) in enumerate(sites)]


def _saturated_frac(act: jax.Array, activation: str | None) -> jax.Array:
  if activation not in SATURATION_BOUNDS:
    return jnp.float32(jnp.nan)
  lo, hi = SATURATION_BOUNDS[activation]
  tol = SATURATION_TOL * (hi - lo)
  return jnp.mean(((act < lo + tol) | (act > hi - tol)).astype(jnp.float32))


def _dead_frac(act: jax.Array, activation: str | None) -> jax.Array:
  """Fraction of units (last axis: features or channels) that are 0 on every example/position."""
  if activation not in DEAD_ACTIVATIONS:
    return jnp.float32(jnp.nan)
  dead = jnp.all(act.reshape(-1, act.shape[-1]) == 0, axis=0)
  return jnp.mean(dead.astype(jnp.float32))


def statistics_fn(model: nn.Module, layers: Sequence[TaggedLayer], *, loss: str, num_classes: int,
                  train: bool = True) -> Callable[[dict, jax.Array, jax.Array, jax.Array], dict]:
  """A pure, jit/vmap-able `(variables, x, y, rng) -> {statistic: [L]}` for `layers`.

  `model` may be rebuilt inside a traced function (e.g. from a replica's
  traced dropout rate); `layers` (from `tagged_layers`) is structure only.
  """
  per_example_loss = get_loss(loss)
  activation = getattr(model, "activation", None)

  def compute(variables: dict, x: jax.Array, y: jax.Array, rng: jax.Array) -> dict[str, jax.Array]:
    variables = _clean(variables)
    perturbations = _zero_perturbations(model, variables, x, train, rng)

    def loss_fn(params, perts):
      logits, mutated = _forward(model, {**variables, "params": params, "perturbations": perts},
                                 x, train, rng)
      return jnp.mean(per_example_loss(logits, y, num_classes)), mutated["intermediates"]

    grad_fn = jax.grad(loss_fn, argnums=(0, 1), has_aux=True)
    (param_grads, pert_grads), intermediates = grad_fn(variables["params"], perturbations)
    batch = x.shape[0]
    rows: dict[str, list[jax.Array]] = {name: [] for name in STATISTICS}
    for layer in layers:
      pre = _layer_value(intermediates, layer, "pre")
      act = _layer_value(intermediates, layer, "act")
      # Per-example loss gradient: the mean loss's gradient times the batch size.
      g_pre = batch * _tree_get(pert_grads, (*layer.path, f"pre{layer.index}"))
      g_rows = g_pre.reshape(g_pre.shape[0], -1)
      rows["act_mean"].append(jnp.mean(act))
      rows["act_std"].append(jnp.std(act))
      rows["preact_mean"].append(jnp.mean(pre))
      rows["preact_std"].append(jnp.std(pre))
      rows["saturated_frac"].append(_saturated_frac(act, activation))
      rows["dead_frac"].append(_dead_frac(act, activation))
      rows["preact_grad_std"].append(jnp.std(g_pre))
      rows["preact_grad_norm"].append(jnp.sqrt(jnp.mean(jnp.sum(g_rows ** 2, axis=1))))
      if layer.kernels:
        g_kernel = jnp.concatenate([_tree_get(param_grads, p).ravel() for p in layer.kernels])
        kernels = [_tree_get(variables["params"], p) for p in layer.kernels]
        rows["kernel_grad_norm"].append(jnp.linalg.norm(g_kernel))
        rows["kernel_grad_std"].append(jnp.std(g_kernel))
        # Fan-in (every axis but the last, Flax's layout) times E[W^2], summed over the
        # layer's kernels: He et al.'s n_l Var[w_l] (1 for LeCun, 2 for He's init).
        rows["kernel_fan_in_var"].append(sum(jnp.mean(k ** 2) * (k.size // k.shape[-1]) for k in kernels))
      else:
        for name in ("kernel_grad_norm", "kernel_grad_std", "kernel_fan_in_var"):
          rows[name].append(jnp.float32(jnp.nan))
    return {name: jnp.stack(values).astype(jnp.float32) for name, values in rows.items()}

  return compute


def layer_statistics(model: nn.Module, variables: dict[str, Any], x: jax.Array, y: jax.Array, *,
                     loss: str = "softmax_cross_entropy", num_classes: int | None = None,
                     train: bool = True, rng: jax.Array | None = None,
                     layers: Sequence[TaggedLayer] | None = None) -> dict[str, np.ndarray]:
  """Forward and backward statistics of each tagged hidden layer on the batch (x, y).

  x: [B, ...] inputs, y: [B] labels (or the loss's targets). Returns arrays [L]
  (L tagged layers, forward order, see `tagged_layers`):
    act_mean, act_std, preact_mean, preact_std: over all elements of act{i}/pre{i};
    saturated_frac: fraction of activations within 1% of the range's width from a
      bound (sigmoid, tanh, softsign; NaN for unbounded activations);
    dead_frac: fraction of units (last axis) that are exactly 0 for every example
      (ReLU; NaN otherwise);
    preact_grad_std, preact_grad_norm: std over all elements, and root-mean-square
      over examples of the per-example vector norm, of each example's dL/d pre{i};
    kernel_grad_norm, kernel_grad_std: Frobenius norm and std of d(mean L)/dW of the
      layer's kernel(s) (NaN for a layer with none);
    kernel_fan_in_var: fan-in times the mean square of the kernel's entries, n Var[W]
      (the quantity initialization theory sets: 1 LeCun, 2 He, 1/3 "standard").
  `train`: the training forward pass (batch-norm batch statistics, dropout from
  `rng`, default key 0) or the eval one. The activation is read from the model's
  `activation` field (saturation/dead fractions are NaN if it has none).
  `layers`: from `tagged_layers`, to skip that analysis in repeated calls on one model.
  """
  x, y = jnp.asarray(x), jnp.asarray(y)
  layers = layers if layers is not None else tagged_layers(model, variables, x)
  compute = statistics_fn(model, layers, loss=loss,
                          num_classes=num_classes if num_classes is not None else model.num_classes,
                          train=train)
  rng = rng if rng is not None else jax.random.PRNGKey(0)
  return {k: np.asarray(v) for k, v in jax.jit(compute)(_clean(variables), x, y, rng).items()}


def per_layer_grad_norms(model: nn.Module, variables: dict[str, Any], x: jax.Array, y: jax.Array,
                         **kwargs: Any) -> np.ndarray:
  """[L] Frobenius norm of d(mean loss)/dW for each tagged layer's kernel(s)."""
  return layer_statistics(model, variables, x, y, **kwargs)["kernel_grad_norm"]


def _layer_jacobians(model: nn.Module, layers: Sequence[TaggedLayer], variables: dict,
                     x: jax.Array, i: int) -> tuple[jax.Array, jax.Array]:
  """Layer i's Jacobians [B, n_out, n_in] w.r.t. its input, and the input's derivative [B, n_in].

  Layer 0's input is x (derivative 1). For i > 0 the tangent enters at the
  perturbation of pre{i-1}: a unit tangent on unit j of pre{i-1} moves act{i-1}
  by D_j = sigma'(pre{i-1}_j) on unit j only (elementwise activation) and act{i}
  by D_j times column j of d act_i / d act_{i-1}. The same unit is perturbed in
  every example at once, which is exact because eval mode does not couple
  examples. Under jit, XLA drops the layers after i from each tangent pass.
  """
  perts = _zero_perturbations(model, variables, x, False, None)
  batch = x.shape[0]

  def acts(perturbations, inputs):
    _, mutated = _forward(model, {**variables, "perturbations": perturbations}, inputs, False, None)
    inter = mutated["intermediates"]
    prev = _layer_value(inter, layers[i - 1], "act") if i else inputs
    return prev.reshape(batch, -1), _layer_value(inter, layers[i], "act").reshape(batch, -1)

  if i == 0:
    n_in = x[0].size
    basis = jnp.eye(n_in, dtype=x.dtype).reshape(n_in, 1, *x.shape[1:])
    tangent = lambda t: jax.jvp(lambda v: acts(perts, v), (x,), (jnp.broadcast_to(t, x.shape),))[1]  # noqa: E731
  else:
    site = (*layers[i - 1].path, f"pre{layers[i - 1].index}")
    pre_shape = _tree_get(perts, site).shape
    n_in = int(np.prod(pre_shape[1:]))
    basis = jnp.eye(n_in, dtype=jnp.float32).reshape(n_in, 1, *pre_shape[1:])

    def tangent(t):
      zeros = jax.tree_util.tree_map(jnp.zeros_like, perts)
      t_perts = _set_leaf(zeros, site, jnp.broadcast_to(t, pre_shape))
      return jax.jvp(lambda p: acts(p, x), (perts,), (t_perts,))[1]

  d_in, d_out = jax.vmap(tangent)(basis)           # [n_in, B, n_in], [n_in, B, n_out]
  derivative = jnp.diagonal(d_in, axis1=0, axis2=2)  # [B, n_in]: D_j for each example
  return jnp.transpose(d_out, (1, 2, 0)), derivative


def _set_leaf(tree: dict, path: Path, value: jax.Array) -> dict:
  if len(path) == 1:
    return {**tree, path[0]: value}
  return {**tree, path[0]: _set_leaf(tree[path[0]], path[1:], value)}


def jacobian_singular_values(model: nn.Module, variables: dict[str, Any], x: jax.Array, *,
                             num_examples: int = 4,
                             layers: Sequence[TaggedLayer] | None = None) -> list[np.ndarray]:
  """Per tagged layer i: singular values of J_i = d act_i / d act_{i-1}, pooled over examples.

  act_{-1} is the input x. Computed per example on x[:num_examples] in eval
  mode. Through the pre{i-1} perturbation the columns of J_i come scaled by
  act_{i-1}'s derivative D_j, which is divided out; a unit with D_j = 0 (a ReLU
  unit that is off for that example) cannot pass a signal, so its column is
  left out and J_i is the map from the example's LIVE input units (exact for
  activations with a non-zero derivative: sigmoid, tanh, softsign, linear).
  Returns a list of 1-D arrays, the singular values of every example's J_i.
  Cost: n_in forward passes per layer; use small widths or few examples.
  """
  variables = _clean(variables)
  x = jnp.asarray(x[:num_examples])
  layers = layers if layers is not None else tagged_layers(model, variables, x)
  out = []
  for i in range(len(layers)):
    jac, derivative = jax.jit(lambda v, xs, i=i: _layer_jacobians(model, layers, v, xs, i))(variables, x)
    jac, derivative = np.asarray(jac, np.float64), np.asarray(derivative, np.float64)
    values = []
    for n in range(jac.shape[0]):
      live = derivative[n] != 0
      values.append(np.linalg.svd(jac[n][:, live] / derivative[n, live], compute_uv=False))
    out.append(np.concatenate(values))
  return out


EpochHook = Callable[[Any, Any, dict[str, jax.Array]], dict[str, np.ndarray]]


def diagnostic_logger(x: jax.Array, y: jax.Array, *, train: bool = True, prefix: str = "diag_",
                      rng: jax.Array | None = None) -> EpochHook:
  """An `epoch_hook` for `train_and_evaluate`: layer statistics of every replica on (x, y).

  The hook vmaps `statistics_fn` over the K replicas (each replica's model is
  rebuilt from its own hyper-parameters, e.g. a traced dropout rate) and
  returns {prefix + statistic: [K, L]} for the epoch's metrics record. It is
  compiled once per run (the layer structure is read from replica 0 on the
  first call). The loss is the run's own (`program.cfg.loss`).
  """
  x, y = jnp.asarray(x), jnp.asarray(y)
  rng = rng if rng is not None else jax.random.PRNGKey(0)
  cache: dict[str, Any] = {}

  def hook(state: Any, program: Any, hparams: dict[str, jax.Array]) -> dict[str, np.ndarray]:
    if cache.get("program") is not program:
      first = lambda tree: jax.tree_util.tree_map(lambda leaf: leaf[0], tree)  # noqa: E731
      model0 = program.model(first(hparams))
      layers = tagged_layers(model0, program.variables(first(state)), x)

      def one_replica(replica_state, replica_hparams):
        compute = statistics_fn(program.model(replica_hparams), layers, loss=program.cfg.loss,
                                num_classes=program.num_classes, train=train)
        return compute(program.variables(replica_state), x, y, rng)

      cache["program"], cache["fn"] = program, jax.jit(jax.vmap(one_replica))
    stats = cache["fn"](state, hparams)
    return {prefix + name: np.asarray(value) for name, value in stats.items()}

  return hook
