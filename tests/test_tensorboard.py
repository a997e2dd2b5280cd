"""TensorBoard output: one run per replica (seeds and swept values overlay), hyper-parameters, run-wide values."""
from __future__ import annotations

import os
import struct

import numpy as np
from tensorboardX.proto import event_pb2

from jaxdl.data import load_dataset
from jaxdl.optim import OptimConfig
from jaxdl.train import TrainConfig, train_and_evaluate

DATA = load_dataset("synthetic", val_size=64, n_train=256, n_test=64, shape=(8, 8, 1))
CFG = TrainConfig(dataset="synthetic", model="mlp", model_options={"widths": (8,)}, batch_size=32, epochs=2,
                  val_size=64, optim=OptimConfig(name="sgd", lr=0.1), sweep={"lr": (0.1, 0.3)}, seeds=(0, 1))


def read_events(run_dir: str) -> list[event_pb2.Event]:
  """Every event in a TensorBoard run directory (TFRecord files: length, its CRC, the data, its CRC)."""
  events = []
  for name in sorted(os.listdir(run_dir)):
    with open(os.path.join(run_dir, name), "rb") as f:
      data = f.read()
    at = 0
    while at < len(data):
      (length,) = struct.unpack("<Q", data[at:at + 8])
      events.append(event_pb2.Event.FromString(data[at + 12:at + 12 + length]))
      at += 12 + length + 4
  return events


def scalars(events) -> dict[str, list[tuple[int, float]]]:
  out: dict[str, list[tuple[int, float]]] = {}
  for e in events:
    for v in e.summary.value:
      if v.HasField("simple_value"):
        out.setdefault(v.tag, []).append((e.step, v.simple_value))
  return out


def as_tensorboard_reads(events) -> dict[str, list[tuple[int, float]]]:
  """The scalars TensorBoard shows: a session START at step P (a restart's purge_step) drops the
  events read so far at steps >= P."""
  out: dict[str, list[tuple[int, float]]] = {}
  for e in events:
    if e.HasField("session_log") and e.session_log.status == e.session_log.START:
      out = {tag: [(step, v) for step, v in series if step < e.step] for tag, series in out.items()}
    for v in e.summary.value:
      if v.HasField("simple_value"):
        out.setdefault(v.tag, []).append((e.step, v.simple_value))
  return out


def test_each_replica_is_its_own_run_with_its_hyper_parameters(tmp_path):
  result = train_and_evaluate(CFG, str(tmp_path), data=DATA, echo=lambda line: None)
  tb = tmp_path / "tb"
  assert sorted(os.listdir(tb)) == ["r00_lr=0.1_seed=0", "r01_lr=0.1_seed=1", "r02_lr=0.3_seed=0",
                                    "r03_lr=0.3_seed=1", "run"]
  for k, name in enumerate(sorted(os.listdir(tb))[:4]):
    events = read_events(str(tb / name))
    series = scalars(events)
    # the same tag in every replica's run, so TensorBoard overlays them; at epochs 1 and 2's last steps
    spe = result.history[0]["step"]
    assert [step for step, _ in series["test_acc"]] == [spe, 2 * spe]
    assert abs(series["test_acc"][-1][1] - result.replicas[k]["test_acc"]) < 1e-6
    assert "train_loss" in series and "epoch_seconds" not in series
    # every step's batch loss; its mean over an epoch is the epoch's training loss
    steps = series["step/train_loss"]
    assert [step for step, _ in steps] == list(range(1, 2 * spe + 1))
    for epoch in (1, 2):
      mean = np.mean([v for step, v in steps if (epoch - 1) * spe < step <= epoch * spe])
      assert abs(mean - result.history[epoch - 1]["train_loss"][k]) < 1e-5
    plugins = {v.metadata.plugin_data.plugin_name for e in events for v in e.summary.value}
    assert "hparams" in plugins
    session = [v.metadata.plugin_data.content for e in events for v in e.summary.value
               if v.metadata.plugin_data.plugin_name == "hparams"]
    assert any(b"seed" in c and b"optimizer" in c and b"sgd" in c for c in session)
  run = scalars(read_events(str(tb / "run")))
  assert {"epoch_seconds", "compile_seconds", "examples_per_second"} <= set(run)
