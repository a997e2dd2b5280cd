"""The study's cells: one TrainCell per net of each selected part, with its gradient-norm hook."""
from __future__ import annotations

import dataclasses
import functools
from typing import Any

from ml_collections import ConfigDict

from experiments.configs import seed_range, train_config
from experiments.vanishing_gradients.adding import adding_data, errors_on_test_set, hidden_grad_hook
from experiments.vanishing_gradients.nets import adding_nets, degradation_nets, depth_nets, selected_parts
from jaxdl.data import Dataset, load_dataset
from jaxdl.diagnostics import diagnostic_logger
from jaxdl.study import TrainCell
from jaxdl.train import TrainConfig
from jaxdl.train.trainer import EpochHook, subset_train

GRAD_NORMS = "diag_kernel_grad_norm"  # the diagnostics hook's per-layer |dL/dW| [K, L] in metrics.jsonl


def cells(config: ConfigDict) -> list[TrainCell]:
  builders = {"depth": depth_cells, "degradation": degradation_cells, "adding": adding_cells}
  return [cell for part in selected_parts(config) for cell in builders[part](config)]


def _seeds(config: ConfigDict, part: ConfigDict) -> tuple[int, ...]:
  """The part's seeds (config.seeds instead, if set), from config.seed_offset on."""
  return seed_range(config, config.seeds or part.seeds)


def _model_options(train: ConfigDict, **options: Any) -> dict[str, Any]:
  return {**train.model_options.to_dict(), **options}


def grad_norm_hook(cfg: TrainConfig, probe_size: int) -> EpochHook:
  """The diagnostics hook (per-layer statistics, GRAD_NORMS among them) on the first `probe_size`
  training examples `cfg` trains on (loaded as the engine loads them)."""
  data = subset_train(images(cfg), cfg.train_size)
  return diagnostic_logger(data.x_train[:probe_size], data.y_train[:probe_size])


def images(cfg: TrainConfig, test_size: int = 0) -> Dataset:
  """cfg's dataset as the engine loads it, its test split cut to the first `test_size` images (0 = all)."""
  data = _load(cfg.dataset, cfg.data_dir, cfg.val_size, cfg.download, tuple(sorted(cfg.data_options.items())))
  if test_size:
    data = dataclasses.replace(data, x_test=data.x_test[:test_size], y_test=data.y_test[:test_size])
  return data


@functools.lru_cache(maxsize=1)  # the cells of a part and their hooks read one copy
def _load(dataset: str, data_dir: str | None, val_size: int, download: bool,
          options: tuple[tuple[str, Any], ...]) -> Dataset:
  return load_dataset(dataset, data_dir=data_dir, val_size=val_size, download=download, **dict(options))


def depth_cells(config: ConfigDict) -> list[TrainCell]:
  part = config.depth
  out = []
  for net in depth_nets(config):
    options = _model_options(part.train, widths=(part.width,) * net.depth, activation=net.activation,
                             kernel_init=part.kernel_init[net.activation], batch_norm=net.fix == "batch_norm",
                             residual=net.fix == "residual")
    cfg = train_config(part.train, model_options=options, seeds=_seeds(config, part))
    out.append(TrainCell(net.cell, cfg, epoch_hook=functools.partial(grad_norm_hook, cfg, part.probe_size)))
  return out


def degradation_cells(config: ConfigDict) -> list[TrainCell]:
  part = config.degradation
  epochs = part.train.epochs
  decay_epochs = tuple(part.train.optim.decay_epochs) or (epochs // 2, 3 * epochs // 4)
  # A cut test set is a data spec of the cell, so a cell never resumes on another test set.
  spec = {"test_size": part.test_size} if part.test_size else {}
  out = []
  for net in degradation_nets(config):
    cfg = train_config(part.train, model_options=_model_options(part.train, depth=net.depth, plain=net.plain),
                       optim={"decay_epochs": decay_epochs}, seeds=_seeds(config, part))
    data = functools.partial(images, cfg, part.test_size) if part.test_size else None
    out.append(TrainCell(net.cell, cfg, data=data, data_spec=spec,
                         epoch_hook=functools.partial(grad_norm_hook, cfg, part.probe_size)))
  return out


def _adding_hook(length: int, n_train: int, n_test: int, probe_size: int) -> EpochHook:
  data = adding_data(length, n_train, n_test)
  return hidden_grad_hook(data.x_test[:probe_size], data.y_test[:probe_size])


def adding_cells(config: ConfigDict) -> list[TrainCell]:
  part = config.adding
  out = []
  for net in adding_nets(config):
    sizes = dict(length=net.length, n_train=part.n_train, n_test=part.n_test)
    cfg = train_config(part.train, dataset=f"adding_T{net.length}",
                       model_options=_model_options(part.train, cell=net.rnn_cell), seeds=_seeds(config, part))
    out.append(TrainCell(net.cell, cfg, data=functools.partial(adding_data, **sizes),
                         data_spec={"task": "adding_problem", "seed": net.length, **sizes},
                         epoch_hook=functools.partial(_adding_hook, **sizes, probe_size=part.probe_size),
                         measure=errors_on_test_set))
  return out
