"""`train_and_evaluate`: the one generic training entry point experiments call.

It trains K replicas of `cfg` (the sweep grid times the seeds) in one compiled
program, evaluates every epoch, checkpoints, resumes from `workdir`, and
writes the run directory (see `jaxdl.report.rundir`). A replica whose loss or
parameters stop being finite (or whose loss exceeds `divergence_loss`) is
recorded as `diverged` at its step and frozen; the others go on.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import time
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.data import Dataset, load_dataset
from jaxdl.data.batching import steps_per_epoch
from jaxdl.errors import UserError
from jaxdl.models import MODELS
from jaxdl.report import plots, tables
from jaxdl.report.rundir import RunDir
from jaxdl.report.tensorboard import EventWriter
from jaxdl.train import parallel
from jaxdl.train.checkpoint import Checkpointer, PreemptionFlag
from jaxdl.train.compile_clock import compile_totals
from jaxdl.train.config import TrainConfig
from jaxdl.train.runner import CompiledReplicas, choose_runner
from jaxdl.train.state import TrainState
from jaxdl.train.status import RunStatus
from jaxdl.train.steps import ReplicaProgram


# The metrics.jsonl keys that are wall-clock measurements, so differ between two identical runs.
TIMING_KEYS = ("epoch_seconds", "compile_seconds", "examples_per_second")


@dataclasses.dataclass
class RunResult:
  """What a run returns to its caller (and writes to results.json)."""
  config: TrainConfig
  status: RunStatus                 # done | diverged | incomplete
  replicas: list[dict[str, Any]]    # per replica: hyper-parameters and final measurements
  history: list[dict[str, Any]]     # the metrics.jsonl records, one per epoch
  table: str                        # markdown, mean +/- std over seeds
  state: TrainState                 # final state, leaves [K, ...] (for diagnostics, attacks)
  program: ReplicaProgram
  hparams: dict[str, jax.Array]
  data: Dataset
  workdir: str | None
  wall_time_s: float

  def replica_state(self, k: int) -> TrainState:
    """Replica k's state, leaves without the [K] axis."""
    return jax.tree_util.tree_map(lambda leaf: leaf[k], self.state)

  def replica_hparams(self, k: int) -> dict[str, jax.Array]:
    return {name: v[k] for name, v in self.hparams.items()}

  def model(self, k: int = 0):
    """Replica k's Flax module (its dropout rate may differ from the others')."""
    return self.program.model(self.replica_hparams(k))

  def variables(self, k: int = 0) -> dict[str, Any]:
    """Replica k's variables for `model(k).apply(variables, x, train=False)`."""
    return self.program.variables(self.replica_state(k))


def subset_train(data: Dataset, train_size: int) -> Dataset:
  """The first `train_size` training examples (0 = all)."""
  if not train_size or train_size >= len(data.y_train):
    return data
  return dataclasses.replace(data, x_train=data.x_train[:train_size], y_train=data.y_train[:train_size])


def replica_hparams(cfg: TrainConfig) -> tuple[list[dict[str, float]], dict[str, jax.Array]]:
  replicas = cfg.replicas()
  hp = {k: jnp.asarray([r[k] for r in replicas], jnp.int32 if k == "seed" else jnp.float32)
        for k in replicas[0]}
  return replicas, hp


def replica_label(cfg: TrainConfig, replica: dict[str, float]) -> str:
  swept = ", ".join(f"{k}={replica[k]:g}" for k in cfg.sweep)
  return f"{swept + ', ' if swept else ''}seed={replica['seed']}"


def _fmt(values: np.ndarray, scale: float = 1.0, digits: int = 3) -> str:
  return tables.format_mean_std(*tables.mean_std(values.tolist()), scale=scale, digits=digits)


EpochHook = Callable[[TrainState, "ReplicaProgram", dict[str, jax.Array]], dict[str, Any]]


@dataclasses.dataclass
class _Run:
  """Everything `train_and_evaluate` set up before its first step."""
  cfg: TrainConfig
  data: Dataset
  program: ReplicaProgram
  compiled: CompiledReplicas
  mesh: Any
  replicas: list[dict[str, float]]
  hp: dict[str, jax.Array]
  state: TrainState
  restored: bool
  history: list[dict[str, Any]]
  train: tuple[Any, Any]  # as `compiled.training_data` gives it: on the devices, or on the hosts
  splits: dict[str, tuple[jax.Array, jax.Array]]
  spe: int
  rundir: RunDir | None
  ckpt: Checkpointer | None


def train_and_evaluate(cfg: TrainConfig, workdir: str | None = None, *, data: Dataset | None = None,
                       echo: Callable[[str], None] = print,
                       epoch_hook: EpochHook | None = None, mesh: Any = "auto",
                       program_factory: Callable[..., ReplicaProgram] = ReplicaProgram,
                       extra_config: dict[str, Any] | None = None,
                       provenance: dict[str, Any] | None = None) -> RunResult:
  """Trains cfg's replicas (resuming from `workdir` if it holds a checkpoint).

  `mesh`: a `jaxdl.train.parallel` mesh (replicas over its "replica" axis, each
  batch over "data"), None for one device, or "auto": a mesh over all devices
  when there are several. Several processes (SLURM, a TPU pod) must have
  started `jax.distributed` before (the entry points do, see
  `parallel.initialize_distributed`).

  `data`: the dataset, if the caller built it (a subset, an expanded training
  set); `extra_config` then records how, in config.json, so that a run
  directory never resumes on other data. `provenance` (see
  `jaxdl.report.provenance`) is saved with the config.

  `program_factory(cfg, num_classes, input_shape, steps_per_epoch)` builds the
  per-replica program: a `ReplicaProgram` subclass that overrides `objective`
  trains on another objective (adversarial training) with everything else
  unchanged. Its extra fields are recorded in config.json, so a run directory
  never resumes under another objective.

  `epoch_hook(state, program, hparams)`, if given, runs at each epoch's end
  (and once before training, as epoch 0); the dict it returns is merged into
  that epoch's metrics record (e.g. per-layer gradient norms over training).
  Values should be per-replica arrays [K, ...] or plain numbers.
  """
  start = time.time()
  run = _setup(cfg, workdir, data, mesh, program_factory, extra_config, provenance)
  finished_earlier = _finished_earlier(run.rundir)
  # Before the startup line: from the moment a launcher can see the run started, SIGTERM or
  # Ctrl-C means "checkpoint at the next step", never a kill; until the outputs are written,
  # a repeated signal is ignored (a kill there would leave no results and status `running`).
  preempt = PreemptionFlag()
  try:
    state, status = _train(run, echo, epoch_hook, preempt)
    result = _results(run, state, status, workdir, time.time() - start)
    if run.rundir:
      _write_outputs(run.rundir, result, keep_results=finished_earlier)
    parallel.wait_for_all_processes("jaxdl: the run's outputs are written")
  finally:
    preempt.restore_handlers()
    if run.rundir:
      run.rundir.release()
  if finished_earlier and run.rundir.is_writer:
    echo(f"finished earlier: results.json and the tables in {run.rundir.path} are left as they were")
  return result


def _finished_earlier(rundir: RunDir | None) -> bool:
  """Whether rundir's results.json is a finished run's: a rerun never rewrites it.

  A rerun restores the last checkpoint (or, if that one is corrupt, retrains from
  an older one); either way the results of the run that finished stand.
  """
  if rundir is None:
    return False
  try:
    with open(rundir.file("results.json")) as f:
      return RunStatus(json.load(f)["status"]).finished
  except (OSError, ValueError, KeyError, TypeError):  # none, or unreadable: written afresh
    return False


def load_run(cfg: TrainConfig, workdir: str, *, data: Dataset | None = None,
             program_factory: Callable[..., ReplicaProgram] = ReplicaProgram,
             extra_config: dict[str, Any] | None = None) -> RunResult:
  """A finished run, restored from its last checkpoint without training or writing anything.

  For measurements on trained models (attacks, diagnostics) made after the run. A
  last checkpoint that is corrupt is a UserError, not a fall-back: an older step
  is not the run's result.
  """
  start = time.time()
  run = _setup(cfg, workdir, data, None, program_factory, extra_config, None, write=False)
  if not run.restored:
    raise UserError(f"{workdir} has no checkpoint to load: train that run first")
  status = RunStatus((run.rundir.status() or {}).get("status", RunStatus.INCOMPLETE))
  return _results(run, run.state, status, workdir, time.time() - start)


def _setup(cfg: TrainConfig, workdir: str | None, data: Dataset | None, mesh: Any,
           program_factory: Callable[..., ReplicaProgram], extra_config: dict[str, Any] | None,
           provenance: dict[str, Any] | None, write: bool = True) -> _Run:
  """Data, program, compiled replicas and the initial (or restored) state; the run directory."""
  if data is None:
    data = load_dataset(cfg.dataset, data_dir=cfg.data_dir, val_size=cfg.val_size,
                        download=cfg.download, **cfg.data_options)
  data = subset_train(data, cfg.train_size)
  n_train = len(data.y_train)
  spe = steps_per_epoch(n_train, cfg.batch_size)
  if spe < 1:
    raise UserError(f"batch_size {cfg.batch_size} exceeds the {n_train} training examples")
  if cfg.early_stopping_patience and not len(data.y_val):
    raise UserError("early_stopping_patience needs a validation split: set val_size > 0 "
                    "(early stopping watches the validation accuracy)")
  if "dropout_rate" in cfg.sweep and "dropout_rate" not in MODELS.defaults(cfg.model):
    raise UserError(f"cannot sweep dropout_rate: model {cfg.model!r} has no dropout_rate option "
                    "(every replica would be the same net)")
  program = program_factory(cfg, data.num_classes, tuple(data.input_shape), spe)
  replicas, hp = replica_hparams(cfg)
  if mesh == "auto":
    mesh = parallel.auto_mesh(len(replicas), cfg.batch_size)
  compiled = CompiledReplicas(program, n_train, mesh)
  hp = compiled.place(hp)
  state = compiled.init(hp)  # builds the model and optimizer: bad options fail here, before any write
  rundir = ckpt = None
  if workdir:
    config = {**cfg.to_json(), **program.extra_config(), **(extra_config or {})}
    # Where each data file was read from: provenance, not the run's identity.
    provenance = {**(provenance or {}), "data_files": dict(data.files)}
    rundir = RunDir(workdir, config, write and jax.process_index() == 0, provenance, exclusive=True)
    ckpt = Checkpointer(os.path.join(workdir, "checkpoints"), cfg.keep_checkpoints)
  restored = ckpt.restore(state, fall_back=write) if ckpt else None
  if restored is not None:
    state = restored[0]
  # Also without a checkpoint: a run killed before its first save left epoch lines.
  history = rundir.truncate_metrics(int(state.step[0])) if rundir else []
  splits = {name: compiled.on_devices(x, y) for name, x, y in
            [("val", data.x_val, data.y_val), ("test", data.x_test, data.y_test)] if len(y)}
  return _Run(cfg, data, program, compiled, mesh, replicas, hp, state, restored is not None, history,
              compiled.training_data(data.x_train, data.y_train), splits, spe, rundir, ckpt)



def _train(run: _Run, echo: Callable[[str], None], epoch_hook: EpochHook | None,
           preempt: PreemptionFlag) -> tuple[TrainState, RunStatus]:
  """The epoch loop: train, evaluate, log, checkpoint; stops early on a preemption signal."""
  cfg, rundir, ckpt, state = run.cfg, run.rundir, run.ckpt, run.state
  is_writer = jax.process_index() == 0
  # Events are logged at the global step: a (re)start drops those after the step it starts from,
  # which a killed run may have written after its last checkpoint.
  status, events = RunStatus.INCOMPLETE, None
  try:
    if rundir:
      events = EventWriter(os.path.join(rundir.path, "tb"), is_writer, _tensorboard_hparams(cfg, run.replicas),
                           purge_step=int(state.step[0]) + 1)
    # Every process logs who it is; the rest of the progress log comes from process 0 only.
    feeding = ", each process feeds its rows of each batch" if run.compiled.feed == "process" else ""
    echo(f"jaxdl: {parallel.describe_processes()}, {parallel.describe_mesh(run.mesh)}{feeding}, "
         f"epoch runner '{choose_runner(cfg.epoch_runner)}' ({jax.default_backend()}), "
         f"{len(run.replicas)} replica(s) ({run.compiled.batching}), {run.data.describe()}, {run.data.origin()}")
    if not is_writer:
      echo = lambda line: None  # noqa: E731
    if run.restored:
      echo(f"resumed from step {int(state.step[0])} ({rundir.path})")
    if epoch_hook and not run.history:
      _log_record(run, {"epoch": 0, "step": 0, **epoch_hook(state, run.program, run.hp)}, None)
    if rundir:
      rundir.set_status(RunStatus.RUNNING)
    while int(state.step[0]) < cfg.epochs * run.spe and bool(jnp.any(state.active)):
      state, interrupted = _train_epoch(run, state, preempt, echo, epoch_hook, events)
      if rundir:
        rundir.heartbeat()
      if interrupted:
        echo(f"preempted at step {int(state.step[0])}: checkpoint saved, exiting")
        break
    else:
      status = RunStatus.DIVERGED if bool(jnp.all(state.diverged)) else RunStatus.DONE
  except BaseException as e:
    if not rundir:
      raise
    error = rundir.failed(e)  # status `failed`; a filesystem error becomes one line
    with contextlib.suppress(Exception):  # closing can fail the same way (a full disk): not over the cause
      events.close()
    events = None
    raise error
  finally:
    if ckpt:
      ckpt.close()
    if events:
      events.close()
  return state, status


def _tensorboard_hparams(cfg: TrainConfig, replicas: list[dict[str, Any]]) -> list[dict[str, Any]]:
  """Each replica's hyper-parameters for TensorBoard: its own (seed, swept values), then the run's."""
  fixed = {"dataset": cfg.dataset, "model": cfg.model, "loss": cfg.loss, "optimizer": cfg.optim.name,
           "batch_size": cfg.batch_size, "epochs": cfg.epochs}
  return [{**{k: v.item() if isinstance(v, np.generic) else v for k, v in r.items()}, **fixed} for r in replicas]


def _train_epoch(run: _Run, state: TrainState, preempt: PreemptionFlag, echo, epoch_hook,
                 events) -> tuple[TrainState, bool]:
  """Steps to the end of the current epoch (or to a preemption), then evaluates and checkpoints."""
  cfg, ckpt, spe = run.cfg, run.ckpt, run.spe
  epoch_start, compiled_before = time.time(), compile_totals()
  # A resumed epoch starts part-way: its throughput and ETA count only this call's steps.
  first_step, examples_before = int(state.step[0]), float(np.sum(jax.device_get(state.epoch_examples)))
  # The scanned epoch starts at an epoch boundary; a mid-epoch checkpoint (the loop
  # runner's, e.g. saved on CPU and resumed on GPU) is first stepped to the boundary.
  if choose_runner(cfg.epoch_runner) == "scan" and int(state.step[0]) % spe == 0:
    state, losses = run.compiled.epoch(state, run.hp, *run.train)
    if events:
      events.write_steps(first_step, np.asarray(jax.device_get(losses)).T)
    interrupted = parallel.any_process(preempt.requested)
  else:
    written = 0  # how many of this call's step losses are in the event files

    def write_losses(losses: list[jax.Array]) -> None:
      # Before each checkpoint: a killed run's events then reach at least its last checkpoint
      # (the restart purges those after it).
      nonlocal written
      if events and len(losses) > written:
        events.write_steps(first_step + written, np.stack(jax.device_get(losses[written:])))
      written = len(losses)

    def after_step(s: TrainState, losses: list[jax.Array]) -> bool:
      step = int(s.step[0])
      if ckpt and cfg.checkpoint_every_steps and step % cfg.checkpoint_every_steps == 0 and step % spe:
        write_losses(losses)
        ckpt.save(s, {"step": step})
      return parallel.any_process(preempt.requested)  # all processes stop at the same step
    state, interrupted, losses = run.compiled.run_epoch_loop(state, run.hp, *run.train, after_step)
    write_losses(losses)
  if interrupted and int(state.step[0]) % spe:
    if ckpt:
      ckpt.save(state, {"step": int(state.step[0])})
    return state, True
  state = jax.block_until_ready(state)
  train_seconds, train_compile = time.time() - epoch_start, (compile_totals() - compiled_before).seconds
  steps = int(state.step[0]) - first_step
  state, record = _end_of_epoch(cfg, run.compiled, state, run.hp, run.splits, spe, train_seconds)
  state = run.compiled.place(state)  # the bookkeeping leaves _end_of_epoch set are host values
  if epoch_hook:
    record.update(epoch_hook(state, run.program, run.hp))
  # Throughput and the ETA leave compiling out: on a CPU it is most of a small run's first epoch.
  # epoch_seconds and compile_seconds are both the training's (evaluation is timed for the ETA only).
  stepping = max(train_seconds - train_compile, 1e-6)
  record["compile_seconds"] = round(train_compile, 3)
  record["examples_per_second"] = round((float(np.sum(record.pop("examples"))) - examples_before) / stepping, 1)
  eval_compile = (compile_totals() - compiled_before).seconds - train_compile
  evaluating = time.time() - epoch_start - train_seconds - eval_compile
  _log_record(run, record, events)
  eta = (cfg.epochs * spe - record["step"]) * stepping / max(steps, 1) + (cfg.epochs - record["epoch"]) * evaluating
  echo(_progress_line(cfg, record, eta_s=eta))
  _log_new_divergences(cfg, run.replicas, run.history, echo)
  if ckpt:
    ckpt.save(state, {"step": int(state.step[0])})
  return state, interrupted


def _log_record(run: _Run, record: dict[str, Any], events: EventWriter | None) -> None:
  run.history.append(record)
  if run.rundir:
    run.rundir.log_metrics(record)
  if events:
    events.write(record)


def _results(run: _Run, state: TrainState, status: RunStatus, workdir: str | None,
             wall_time_s: float) -> RunResult:
  rows = _replica_results(run.cfg, run.compiled, state, run.hp, run.replicas, run.history, run.train,
                          run.splits)
  return RunResult(run.cfg, status, rows, run.history, _results_table(run.cfg, rows), state, run.program,
                   run.hp, run.data, workdir, wall_time_s)


def _end_of_epoch(cfg: TrainConfig, compiled: CompiledReplicas, state: TrainState,
                  hp: dict[str, jax.Array], splits: dict, spe: int, seconds: float):
  """Evaluates, updates early-stopping bookkeeping, and resets the epoch sums."""
  s = jax.device_get(state)
  examples = np.maximum(s.epoch_examples, 1)
  record: dict[str, Any] = {
      "epoch": int(s.step[0]) // spe, "step": int(s.step[0]),
      "train_loss": np.where(s.epoch_examples > 0, s.epoch_loss_sum / (examples / cfg.batch_size), np.nan),
      "train_acc": np.where(s.epoch_examples > 0, s.epoch_correct / examples, np.nan),
      "grad_norm": s.grad_norm, "update_norm": s.update_norm,
      "diverged": s.diverged, "diverged_step": s.diverged_step, "epoch_seconds": round(seconds, 3),
      "examples": s.epoch_examples}
  for name, (x, y) in splits.items():
    ev = jax.device_get(compiled.evaluate(state, hp, x, y))
    dead = s.diverged
    record[f"{name}_loss"] = np.where(dead, np.nan, ev["loss"])
    record[f"{name}_acc"] = np.where(dead, np.nan, ev["accuracy"])
  best_val, best_epoch, test_at_best = s.best_val_acc, s.best_epoch, s.test_acc_at_best
  bad, stopped = s.bad_epochs, s.stopped
  if "val" in splits:
    active = ~(s.diverged | s.stopped)
    improved = active & (record["val_acc"] > best_val)
    best_val = np.where(improved, record["val_acc"], best_val)
    best_epoch = np.where(improved, record["epoch"], best_epoch)
    test_at_best = np.where(improved, record.get("test_acc", np.nan), test_at_best)
    bad = np.where(improved, 0, np.where(active, bad + 1, bad))
    if cfg.early_stopping_patience:
      stopped = stopped | (active & (bad >= cfg.early_stopping_patience))
  state = compiled.reset_epoch_sums(state).replace(
      best_val_acc=jnp.asarray(best_val, jnp.float32), best_epoch=jnp.asarray(best_epoch, jnp.int32),
      test_acc_at_best=jnp.asarray(test_at_best, jnp.float32), bad_epochs=jnp.asarray(bad, jnp.int32),
      stopped=jnp.asarray(stopped))
  record["stopped"] = stopped
  return state, record


def _progress_line(cfg: TrainConfig, r: dict[str, Any], eta_s: float) -> str:
  seconds = f"{r['epoch_seconds']:.1f}s"
  if r["compile_seconds"] >= 0.05:
    seconds += f" (compiling {r['compile_seconds']:.1f}s)"
  # A running accuracy that is NaN on a live replica is undefined (per-position labels), not diverged.
  undefined = np.all(np.isnan(r["train_acc"])) and not np.any(r["diverged"])
  parts = [f"epoch {r['epoch']}/{cfg.epochs}", f"step {r['step']}", seconds,
           f"{r['examples_per_second']:,.0f} ex/s", f"ETA {_duration(eta_s)}",
           f"train loss {_fmt(r['train_loss'])}" + ("" if undefined else f" acc {_fmt(r['train_acc'], 100, 2)}")]
  for name in ("val", "test"):
    if f"{name}_acc" in r:
      parts.append(f"{name} acc {_fmt(r[f'{name}_acc'], 100, 2)}")
  parts.append(f"diverged {int(np.sum(r['diverged']))}/{len(r['diverged'])}")
  return " | ".join(parts)


def _duration(seconds: float) -> str:
  seconds = max(int(round(seconds)), 0)
  return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _log_new_divergences(cfg, replicas, history, echo) -> None:
  now = history[-1]["diverged"]
  before = history[-2].get("diverged", np.zeros_like(now)) if len(history) > 1 else np.zeros_like(now)
  for k in np.flatnonzero(np.asarray(now) & ~np.asarray(before)):
    echo(f"replica {k} ({replica_label(cfg, replicas[k])}) diverged at step "
         f"{int(history[-1]['diverged_step'][k])}: a non-finite loss or parameter, or a loss above "
         f"divergence_loss={cfg.divergence_loss:g}; frozen there")


def _replica_results(cfg, compiled, state, hp, replicas, history, train, splits):
  """Per replica: final train/val/test accuracy (eval mode), best-val bookkeeping, status."""
  s = jax.device_get(state)
  if compiled.feed == "process":  # the training set is on the hosts; on the devices for this evaluation only
    train = compiled.on_devices(*train)
  train_ev = jax.device_get(compiled.evaluate(state, hp, *train))
  evs = {name: jax.device_get(compiled.evaluate(state, hp, x, y)) for name, (x, y) in splits.items()}
  rows = []
  for k, rep in enumerate(replicas):
    dead = bool(s.diverged[k])
    status = RunStatus.DIVERGED if dead else RunStatus.STOPPED_EARLY if s.stopped[k] else RunStatus.DONE
    row = {**rep, "status": status,
           "diverged_step": int(s.diverged_step[k]) if dead else None,
           "epochs": history[-1]["epoch"] if history else 0,
           "train_acc": math_nan_if(dead, train_ev["accuracy"][k]),
           "train_loss": math_nan_if(dead, train_ev["loss"][k])}
    for name, ev in evs.items():
      row[f"{name}_acc"] = math_nan_if(dead, ev["accuracy"][k])
      row[f"{name}_loss"] = math_nan_if(dead, ev["loss"][k])
    if "val" in evs:
      row["best_val_acc"] = math_nan_if(dead, s.best_val_acc[k])
      row["best_epoch"] = int(s.best_epoch[k])
      row["test_acc_at_best_val"] = math_nan_if(dead, s.test_acc_at_best[k])
    if "test_acc" in row:
      row["gap"] = row["train_acc"] - row["test_acc"]
    rows.append(row)
  return rows


def math_nan_if(dead: bool, value: Any) -> float:
  return float("nan") if dead else float(value)


def _results_table(cfg: TrainConfig, rows: list[dict[str, Any]]) -> str:
  """Markdown: one row per sweep point, mean +/- std over seeds (accuracies in %)."""
  metrics = [m for m in ("train_acc", "val_acc", "test_acc", "gap", "test_acc_at_best_val") if m in rows[0]]
  summary = tables.summarize(rows, list(cfg.sweep), metrics)
  header = [*cfg.sweep, "replicas", *[m.replace("_", " ") + " (%)" for m in metrics], "diverged"]
  body = []
  for srow in summary:
    members = [r for r in rows if all(r[k] == srow[k] for k in cfg.sweep)]
    cells = [f"{srow[k]:g}" for k in cfg.sweep] + [str(srow["n"])]
    cells += [tables.format_mean_std(srow[f"{m}_mean"], srow[f"{m}_std"], srow[f"{m}_n"], 100) for m in metrics]
    cells.append(f"{sum(r['status'] == RunStatus.DIVERGED for r in members)}/{len(members)}")
    body.append(cells)
  return tables.markdown_table(header, body)


def _write_outputs(rundir: RunDir, result: RunResult, keep_results: bool = False) -> None:
  """results.json, the tables, the figure, then the status; `keep_results`: the status only."""
  try:
    rows = result.replicas
    if not keep_results:
      rundir.write_json("results.json", {"status": result.status, "replicas": rows,
                                         "wall_time_s": result.wall_time_s})
      rundir.write_text("table.md", result.table)
      header = list(rows[0])
      rundir.write_text("table.csv", tables.csv_table(header, [[r[h] for h in header] for r in rows]))
      trained = [h for h in result.history if "train_loss" in h]  # not the epoch-0 hook record
      if trained and rundir.is_writer:
        curves = {m: np.array([h[m] for h in trained], dtype=float)
                  for m in ("train_loss", "train_acc", "val_acc", "test_acc") if m in trained[0]}
        plots.learning_curves(rundir.file("learning_curves.png"), [h["epoch"] for h in trained],
                              curves, [replica_label(result.config, r) for r in result.config.replicas()],
                              title=f"{result.config.model} on {result.config.dataset}")
    # Last: a final status means every output is written.
    rundir.set_status(result.status, diverged=[k for k, r in enumerate(rows) if r["status"] == RunStatus.DIVERGED])
  except BaseException as e:
    raise rundir.failed(e)  # status `failed`; a filesystem error becomes one line
