"""The study's cells: one trained cell per net and per adversarially trained net, then the attacks."""
from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable, Sequence

from ml_collections import ConfigDict

from experiments.configs import seed_range, train_config
from experiments.fgsm_adversarial import measurements
from jaxdl import attacks
from jaxdl.data import Dataset, load_dataset
from jaxdl.errors import UserError
from jaxdl.optim import OptimConfig
from jaxdl.study import Cell, MeasureCell, TrainCell
from jaxdl.train import TrainConfig
from jaxdl.train.adversarial import AdversarialProgram, robustness_hook
from jaxdl.train.trainer import EpochHook

ADVERSARIAL_SUFFIX = "_adv"


def cells(config: ConfigDict) -> list[Cell]:
  """The trained nets (`models`, then `<net>_adv` for `adversarially_trained`, then the arms
  `<fast.net>_<arm>` of Wong et al.), then the measurements on the first two groups."""
  for field in ("models", "adversarially_trained", "adversarial_model_options"):
    unknown = [name for name in getattr(config, field) if name not in config.nets]
    if unknown:
      raise UserError(f"config.{field}: unknown net(s) {unknown}; config.nets has {', '.join(config.nets)}")
  if config.fast.net not in config.nets:
    raise UserError(f"config.fast.net: unknown net {config.fast.net!r}; "
                    f"config.nets has {', '.join(config.nets)}")
  unknown = sorted(set(config.fast.arms) - set(ARMS))
  if unknown:
    raise UserError(f"config.fast.arms: unknown arm(s) {unknown}; valid: {', '.join(ARMS)}")
  configs = {name: _train_config(config, name) for name in config.models}
  data = _test_subset(next(iter(configs.values())), config.eval_size)
  trained = [TrainCell(name, cfg, data=data, data_spec={"eval_size": config.eval_size})
             for name, cfg in configs.items()]
  goodfellow = dict(eps=config.eps, alpha=config.alpha, clip=config.clip)
  for net in config.adversarially_trained:
    options = config.adversarial_model_options.get(net, {})
    trained.append(_adversarial_cell(config, net + ADVERSARIAL_SUFFIX, _train_config(config, net, options),
                                     data, goodfellow))
  measured = _measurement_cells(config, trained)
  fast = config.fast
  for arm in fast.arms:
    cfg = _train_config(config, fast.net, epochs=fast.epochs, train_size=fast.train_size,
                        optim=OptimConfig(**fast.optim.to_dict()))
    trained.append(_adversarial_cell(config, f"{fast.net}_{arm}", cfg, data,
                                     dict(eps=fast.eps, alpha=0.0, clip=config.clip, **_arm(fast, arm))))
  return [*trained, *measured]


# Wong, Rice & Kolter 2020's arms: FGSM from x, FGSM from a uniform start in the ball, PGD.
ARMS = ("fgsm_zero", "fgsm_rs", "pgd")


def _arm(fast: ConfigDict, arm: str) -> dict[str, Any]:
  """The attack an arm trains on (eps and step sizes as fractions of the pixel range)."""
  return {"fgsm_zero": dict(random_start=False, steps=1, step_size=fast.eps),
          "fgsm_rs": dict(random_start=True, steps=1, step_size=fast.rs_step * fast.eps),
          "pgd": dict(random_start=True, steps=fast.pgd_steps, step_size=fast.pgd_step_size)}[arm]


def _train_config(config: ConfigDict, net_name: str, options: Any = None, **changes: Any) -> TrainConfig:
  net = config.nets[net_name]
  model_options = {**net.model_options.to_dict(), **(options.to_dict() if options else {})}
  fields = dict(dataset=config.dataset, seeds=seed_range(config), model=net.model, model_options=model_options,
                optim=OptimConfig(**net.optim.to_dict()))
  return train_config(config.train, **{**fields, **changes})


def _adversarial_cell(config: ConfigDict, name: str, cfg: TrainConfig, data: Callable[[], Dataset],
                      attack: dict[str, Any]) -> TrainCell:
  """A cell trained on an adversarial objective, its robustness on the probe followed every epoch."""
  probe = config.probe
  # The probe's settings are part of the cell: its metrics.jsonl holds the hook's records.
  return TrainCell(name, cfg, data=data, data_spec={"eval_size": config.eval_size, "probe": probe.to_dict()},
                   program_factory=_adversarial_program(data, **attack),
                   epoch_hook=functools.partial(_robustness_hook, data, attack["eps"], attack["clip"],
                                                probe.size, probe.pgd_steps, probe.pgd_restarts, probe.seed,
                                                config.eval_chunk))


def _test_subset(cfg: TrainConfig, eval_size: int) -> Callable[[], Dataset]:
  """Loads cfg's dataset (once per process) with its test set cut to the first `eval_size`
  examples (0 = all): those are evaluated every epoch and attacked."""
  @functools.cache
  def load() -> Dataset:
    data = load_dataset(cfg.dataset, data_dir=cfg.data_dir, val_size=cfg.val_size, download=cfg.download,
                        **cfg.data_options)
    n = eval_size or len(data.y_test)
    return dataclasses.replace(data, x_test=data.x_test[:n], y_test=data.y_test[:n])
  return load


def _adversarial_program(data: Callable[[], Dataset], eps: float, alpha: float, clip: bool,
                         **attack: Any) -> Callable[..., AdversarialProgram]:
  """The engine's program factory for an adversarial objective at `eps` (eps and a step size are
  fractions of the pixel range, converted to the dataset's input units when the program is built)."""
  def build(*program_args) -> AdversarialProgram:
    units = attacks.InputUnits.of(data())
    step = attack.get("step_size")
    return AdversarialProgram(*program_args, eps=units.eps(eps), alpha=alpha,
                              bounds=units.bounds if clip else None,
                              **{**attack, "step_size": None if step is None else units.eps(step)})
  return build


def _robustness_hook(data: Callable[[], Dataset], eps: float, clip: bool, size: int, pgd_steps: int,
                     restarts: int, seed: int, chunk: int) -> EpochHook:
  """The probe (the first `size` test examples) attacked at eps after every epoch; PGD takes
  `pgd_steps` steps of 2.5 eps / pgd_steps, so that they can cross the ball."""
  d = data()
  units = attacks.InputUnits.of(d)
  settings = attacks.PGDSettings(pgd_steps, units.eps(2.5 * eps / pgd_steps), restarts, seed)
  return robustness_hook(d.x_test[:size], d.y_test[:size], units.eps(eps), settings,
                         units.bounds if clip else None, chunk)


def _measurement_cells(config: ConfigDict, trained: Sequence[TrainCell]) -> list[MeasureCell]:
  """The FGSM eps sweep, PGD, transfer between nets, and the "panda" example figure's data."""
  names = tuple(c.name for c in trained)
  models = {c.name: c.config.model for c in trained}
  attack = {"eps": config.eps, "clip": config.clip, "chunk": config.eval_chunk}
  # The paper's figure shows a maxout net; with none trained, the first net.
  panda_of = tuple(name for name in names if models[name] == "maxout") or names[:1]
  sweep = {"attack": "fgsm", "of": names, "eps_grid": tuple(config.eps_grid), **attack}
  pgd = {"attack": "pgd", "of": names, **config.pgd.to_dict(), **attack}
  transfer = {"attack": "fgsm", "of": names, "models": models, **attack}
  panda = {"attack": "fgsm", "of": panda_of, **attack}
  return [_measure_cell("fgsm_sweep", measurements.fgsm_sweep, sweep, names),
          _measure_cell("pgd", measurements.pgd, pgd, names),
          _measure_cell("transfer", measurements.transfer, transfer, names),
          _measure_cell("panda", measurements.panda, panda, panda_of)]


def _measure_cell(name: str, run: Callable[..., dict[str, Any]], spec: dict[str, Any],
                  needs: tuple[str, ...]) -> MeasureCell:
  return MeasureCell(name, spec, functools.partial(run, spec=spec), needs=needs)
