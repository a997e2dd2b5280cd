"""The study's cells: one trained cell per net and per adversarially trained net, then the attacks."""
from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable, Sequence

from ml_collections import ConfigDict

from experiments.configs import train_config
from experiments.fgsm_adversarial import measurements
from jaxdl import attacks
from jaxdl.data import Dataset, load_dataset
from jaxdl.errors import UserError
from jaxdl.optim import OptimConfig
from jaxdl.study import Cell, MeasureCell, TrainCell
from jaxdl.train import TrainConfig
from jaxdl.train.adversarial import AdversarialProgram
from jaxdl.train.steps import ReplicaProgram

ADVERSARIAL_SUFFIX = "_adv"


def cells(config: ConfigDict) -> list[Cell]:
  """The trained nets (`models`, then `<net>_adv` for `adversarially_trained`), then the measurements."""
  for field in ("models", "adversarially_trained"):
    unknown = [name for name in getattr(config, field) if name not in config.nets]
    if unknown:
      raise UserError(f"config.{field}: unknown net(s) {unknown}; config.nets has {', '.join(config.nets)}")
  configs = {name: _train_config(config, name) for name in config.models}
  configs.update({name + ADVERSARIAL_SUFFIX: _train_config(config, name)
                  for name in config.adversarially_trained})
  data = _test_subset(next(iter(configs.values())), config.eval_size)
  adversarial = _adversarial_program(data, config.eps, config.alpha, config.clip)
  trained = [TrainCell(name, cfg, data=data, data_spec={"eval_size": config.eval_size},
                       program_factory=adversarial if name.endswith(ADVERSARIAL_SUFFIX) else ReplicaProgram)
             for name, cfg in configs.items()]
  return [*trained, *_measurement_cells(config, trained)]


def _train_config(config: ConfigDict, net_name: str) -> TrainConfig:
  net = config.nets[net_name]
  return train_config(config.train, dataset=config.dataset, seeds=tuple(range(config.seeds)), model=net.model,
                      model_options=net.model_options.to_dict(), optim=OptimConfig(**net.optim.to_dict()))


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


def _adversarial_program(data: Callable[[], Dataset], eps: float, alpha: float,
                         clip: bool) -> Callable[..., AdversarialProgram]:
  """The engine's program factory for Goodfellow et al.'s objective at `eps` (a fraction of
  the pixel range, converted to the dataset's input units when the program is built)."""
  def build(*program_args) -> AdversarialProgram:
    units = attacks.InputUnits.of(data())
    return AdversarialProgram(*program_args, eps=units.eps(eps), alpha=alpha,
                              bounds=units.bounds if clip else None)
  return build


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
