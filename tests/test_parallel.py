"""Devices and processes: data parallelism and sharded replicas equal the one-device run.

Several CPU devices must be configured before jax starts its backend, so the
multi-device checks run in a subprocess (`jax_num_cpu_devices=4`), and the
two-process check starts two processes that meet through `jax.distributed`
on 127.0.0.1.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

from jaxdl.errors import UserError
from jaxdl.train import parallel

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# A tiny run with dropout and input noise (per-replica keys must survive sharding).
CONFIG = """
from jaxdl.data import load_dataset
from jaxdl.optim import OptimConfig
from jaxdl.train import TrainConfig
DATA = load_dataset("synthetic", n_train=128, n_test=32, shape=(6, 6, 1))
CFG = TrainConfig(dataset="synthetic", model="mlp", model_options={"widths": (16,), "dropout_rate": 0.1},
                  optim=OptimConfig(name="momentum", lr=0.05), batch_size=32, epochs=2, seeds=(0, 1),
                  augment_noise=0.05)
"""


def run_python(code: str, env: dict[str, str] | None = None, timeout: float = 240) -> subprocess.Popen:
  env = {**os.environ, "JAX_PLATFORMS": "cpu", "PYTHONUNBUFFERED": "1", **(env or {})}
  return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def last_json_line(output: str) -> dict:
  return json.loads([line for line in output.splitlines() if line.startswith("{")][-1])


def test_cluster_detection_from_the_environment():
  # What srun sets in each task it starts (seen on the test cluster).
  slurm = {"SLURM_JOB_ID": "7", "SLURM_PROCID": "0", "SLURM_STEP_NODELIST": "n1", "SLURM_LOCALID": "0"}
  assert parallel.detect_cluster({**slurm, "SLURM_NTASKS": "2", "SLURM_STEP_NUM_TASKS": "2"}) == "slurm"
  # One array task is one process: no coordinator; nor is a one-task srun step in a larger allocation.
  assert parallel.detect_cluster({"SLURM_JOB_ID": "7", "SLURM_PROCID": "0", "SLURM_NTASKS": "1"}) is None
  assert parallel.detect_cluster({**slurm, "SLURM_NTASKS": "1", "SLURM_STEP_NUM_TASKS": "1"}) is None
  # One python started straight in a 2-task allocation (the batch shell has no SLURM_STEP_*): one line.
  with pytest.raises(UserError, match="allocation of 2 tasks but was not started by srun: .*srun python -m"):
    parallel.detect_cluster({"SLURM_JOB_ID": "7", "SLURM_PROCID": "0", "SLURM_NTASKS": "2"})
  assert parallel.detect_cluster({"TPU_WORKER_HOSTNAMES": "a,b"}) == "tpu"
  if not os.path.exists("/dev/accel0"):
    assert parallel.detect_cluster({}) is None
    assert parallel.initialize_distributed(env={}) is False
    assert not jax.distributed.is_initialized()


def test_slurm_tasks_get_their_own_gpus_in_every_layout():
  task = lambda local, per_node, **more: {"SLURM_LOCALID": str(local), "SLURM_NODEID": "0",  # noqa: E731
                                          "SLURM_STEP_TASKS_PER_NODE": per_node, **more}
  ids = parallel.slurm_local_device_ids
  # --gpus-per-task=1: each task sees one GPU (index 0), whatever its SLURM_LOCALID.
  assert ids(task(3, "4", SLURM_GPUS_PER_TASK="1"), n_gpus=1) == [0]
  # --ntasks-per-node=1 --gpus-per-node=4: the one task uses all four (jax's default: GPU 0 only).
  assert ids(task(0, "1"), n_gpus=4) == [0, 1, 2, 3]
  # 2 tasks sharing a node's 4 GPUs: two each, by SLURM_LOCALID; node 1 of "2(x2),1" runs 2 tasks.
  assert ids(task(1, "2"), n_gpus=4) == [2, 3]
  assert ids({**task(1, "2(x2),1"), "SLURM_NODEID": "1"}, n_gpus=4) == [2, 3]
  assert ids({**task(0, "2(x2),1"), "SLURM_NODEID": "2"}, n_gpus=4) == [0, 1, 2, 3]
  assert ids(task(0, "2"), n_gpus=0) is None  # CPU nodes
  with pytest.raises(UserError, match="3 SLURM tasks on this node share 4 GPUs"):
    ids(task(0, "3"), n_gpus=4)
  assert parallel.visible_gpu_count({"CUDA_VISIBLE_DEVICES": "2,5"}) == 2
  assert parallel.visible_gpu_count({"CUDA_VISIBLE_DEVICES": ""}) == 0


def test_four_devices_data_parallel_and_sharded_replicas_equal_one_device():
  proc = run_python(f"""
    import jax
    jax.config.update("jax_num_cpu_devices", 4)
    import json
    import numpy as np
    from jaxdl.train import parallel, train_and_evaluate
    {textwrap.indent(CONFIG, "    ").strip()}
    def train(mesh):
      return train_and_evaluate(CFG, None, data=DATA, echo=lambda s: None, mesh=mesh)
    def max_diff(a, b):
      return max(float(np.max(np.abs(np.asarray(x) - np.asarray(y))))
                 for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)))
    dp_mesh, rp_mesh = parallel.make_mesh(2, 32, replica_axis=1), parallel.make_mesh(2, 32)
    one, dp, rp = train(None), train(dp_mesh), train(rp_mesh)
    # The compiled data-parallel step: each device holds 32 / 4 = 8 rows of a batch and
    # the gradients are all-reduced.
    from jaxdl.train.runner import CompiledReplicas
    compiled = CompiledReplicas(dp.program, 128, dp_mesh)
    hlo = compiled.step.lower(dp.state, dp.hparams, *compiled.place(
        (jax.numpy.asarray(DATA.x_train), jax.numpy.asarray(DATA.y_train)), per_replica=False),
        compiled.permutations(dp.state.data_key, 0)).compile().as_text()
    # Evaluation is data-parallel too: the 32 test examples are one chunk, 8 rows per device.
    eval_hlo = compiled.evaluate.lower(dp.state, dp.hparams, *compiled.place(
        (jax.numpy.asarray(DATA.x_test), jax.numpy.asarray(DATA.y_test)), per_replica=False)).compile().as_text()
    print(json.dumps(dict(
        dp_diff=max_diff(one.state.params, dp.state.params),
        rp_diff=max_diff(one.state.params, rp.state.params),
        acc=[[r["test_acc"] for r in x.replicas] for x in (one, dp, rp)],
        dp_mesh=dict(dp_mesh.shape), rp_mesh=dict(rp_mesh.shape),
        auto=dict(parallel.make_mesh(1, 32).shape), odd=dict(parallel.make_mesh(3, 6).shape),
        odd_text=parallel.describe_mesh(parallel.make_mesh(1, 130)),
        dp_spec_ok=jax.tree_util.tree_leaves(dp.state.params)[0].sharding.spec == parallel.P("replica"),
        rp_devices=len(jax.tree_util.tree_leaves(rp.state.params)[0].sharding.device_set),
        # [K=2, rows, 36 inputs]: 8 rows per device, never the 32 of the whole batch.
        all_reduce="all-reduce" in hlo, local_batch="f32[2,8,36]" in hlo,
        full_batch_in_step="f32[2,32,36]" in hlo,
        # the hidden layer (width 16) of K=2 replicas on 8 of the 32 rows, never on all 32
        eval_local="f32[2,8,16]" in eval_hlo, eval_full="f32[2,32,16]" in eval_hlo,
        eval_all_reduce="all-reduce" in eval_hlo)))
  """)
  out, _ = proc.communicate(timeout=240)
  assert proc.returncode == 0, out
  r = last_json_line(out)
  assert r["dp_mesh"] == {"replica": 1, "data": 4} and r["rp_mesh"] == {"replica": 2, "data": 2}
  assert r["auto"] == {"replica": 1, "data": 4}
  assert r["odd"] == {"replica": 3, "data": 1}  # 3 replicas, batch 6: 3 of the 4 devices
  # batch 130 on 4 devices uses 2: the startup line says so
  assert r["odd_text"].startswith("replica 1, data 2 (mesh axes); 2 of 4 devices idle"), r["odd_text"]
  assert r["dp_spec_ok"] and r["rp_devices"] == 4
  assert r["all_reduce"] and r["local_batch"] and not r["full_batch_in_step"], r
  assert r["eval_local"] and not r["eval_full"] and r["eval_all_reduce"], r
  # Same data order and dropout keys; only float reduction order may differ.
  assert r["dp_diff"] < 1e-5 and r["rp_diff"] < 1e-5, r
  assert r["acc"][1] == pytest.approx(r["acc"][0], abs=1e-6)
  assert r["acc"][2] == pytest.approx(r["acc"][0], abs=1e-6)


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


@pytest.mark.parametrize("runner", ["loop", "scan"])
def test_two_processes_train_one_data_parallel_run_like_one_process(tmp_path, runner):
  """2 processes x 2 CPU devices: each process sends its devices only its rows of each batch, and the run
  equals one process's."""
  port = _free_port()
  code = f"""
    import dataclasses, json, sys
    import jax
    jax.config.update("jax_num_cpu_devices", 2)
    import numpy as np
    from jaxdl.train import parallel, train_and_evaluate
    from jaxdl.train.runner import CompiledReplicas
    parallel.initialize_distributed(bind_address="127.0.0.1:{port}")
    {textwrap.indent(CONFIG, "    ").strip()}
    CFG = dataclasses.replace(CFG, epoch_runner={runner!r})
    result = train_and_evaluate(CFG, sys.argv[1] if len(sys.argv) > 1 else {str(tmp_path / "run")!r},
                                data=DATA, echo=print)
    if jax.process_index() == 0:
      np.savez({str(tmp_path / "params.npz")!r}, *[np.asarray(x) for x in jax.tree_util.tree_leaves(result.state.params)])
    # A batch as the run feeds it: which rows of it this process's devices hold, and whether they are
    # the right examples.
    compiled = CompiledReplicas(result.program, 128, parallel.make_mesh(2, 32))
    idx = np.random.default_rng(0).permutation(128)[:64].reshape(2, 32)
    batch = compiled.feed_rows(DATA.x_train, idx)
    held = sorted((s.index[1].start, s.index[1].stop) for s in batch.addressable_shards)
    right = all(np.array_equal(np.asarray(s.data), DATA.x_train[idx[s.index[:2]]]) for s in batch.addressable_shards)
    print(json.dumps(dict(process=jax.process_index(), count=jax.process_count(), feed=compiled.feed,
                          mesh=dict(parallel.make_mesh(2, 32).shape), held=held, right=right,
                          acc=[r["test_acc"] for r in result.replicas])))
  """
  procs = [run_python(code, {"JAX_COORDINATOR_ADDRESS": f"127.0.0.1:{port}", "JAX_NUM_PROCESSES": "2",
                             "JAX_PROCESS_ID": str(i)}) for i in range(2)]
  outs = []
  for p in procs:
    try:
      outs.append(p.communicate(timeout=240)[0])
    finally:
      p.kill()
  assert all(p.returncode == 0 for p in procs), "\n\n".join(outs)
  results = [last_json_line(o) for o in outs]
  assert sorted(r["process"] for r in results) == [0, 1] and all(r["count"] == 2 for r in results)
  assert results[0]["mesh"] == {"replica": 1, "data": 4}
  # 32 rows a batch over 4 devices: process 0's two devices hold rows 0-15, process 1's rows 16-31.
  held = {r["process"]: r["held"] for r in results}
  assert held == {0: [[0, 8], [8, 16]], 1: [[16, 24], [24, 32]]}, held
  assert all(r["right"] and r["feed"] == "process" for r in results), results
  # Each process logs its index at startup; the progress log comes from process 0 alone.
  assert "process 0/2" in outs[0] and "process 1/2" in outs[1]
  assert "each process feeds its rows of each batch" in outs[0]
  assert "epoch 1/" in outs[0] and "epoch 1/" not in outs[1]

  from jaxdl.train import train_and_evaluate
  ns: dict = {}
  exec(CONFIG, ns)
  single = train_and_evaluate(ns["CFG"], None, data=ns["DATA"], echo=lambda s: None, mesh=None)
  two = np.load(tmp_path / "params.npz")
  for i, leaf in enumerate(jax.tree_util.tree_leaves(single.state.params)):
    np.testing.assert_allclose(two[f"arr_{i}"], np.asarray(leaf), rtol=1e-5, atol=1e-6)
  assert results[0]["acc"] == pytest.approx([r["test_acc"] for r in single.replicas], abs=1e-6)
  # Process 0 alone wrote the run directory; Orbax wrote the checkpoint of both.
  written = json.loads((tmp_path / "run" / "status.json").read_text())
  assert written["status"] == "done"
  assert any((tmp_path / "run" / "checkpoints").iterdir())
