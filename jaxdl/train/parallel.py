"""Devices and processes: the mesh, shardings, and `jax.distributed` start-up.

One `Mesh` over all devices with two axes:
- `replica`: the leading [K] axis of the train state (seeds, swept
  hyper-parameters) is split over it; replicas never talk to each other, so
  this axis costs no communication;
- `data`: each replica's batch is split over it and its parameters are
  replicated, so the gradient mean becomes an all-reduce (data parallelism).

Everything is `jax.jit` with `NamedSharding`s (no `pmap`). The training data
reaches the devices in one of two ways (`CompiledReplicas`'s `feed`): one
process keeps the whole (small) training set on its devices and each device
gathers its own rows of each batch there (no host-to-device copy per step);
several processes keep it in host memory and each sends its devices only their
rows of each batch (`jax.make_array_from_callback`), so no device holds more
than its share. Evaluation is data-parallel too (each device evaluates its rows
of each chunk), though the evaluation splits are still whole on every device.

Several processes (SLURM tasks, TPU VM workers) join through
`jax.distributed.initialize()`, called by `initialize_distributed` only when a
cluster is detected or a coordinator is given; a plain single host never
starts a coordinator.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Any, Mapping

import jax
import numpy as np
from absl import logging
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from jaxdl import gpus
from jaxdl.errors import UserError

REPLICA_AXIS = "replica"
DATA_AXIS = "data"

# Set on Cloud TPU VMs (GCE and GKE); multi-host slices need jax.distributed.
_TPU_ENV_VARS = ("TPU_WORKER_HOSTNAMES", "TPU_WORKER_ID", "CLOUD_TPU_TASK_ID", "TPU_ACCELERATOR_TYPE")
# jax.distributed.initialize() reads the first of these itself; we read all three.
_COORDINATOR_ENV_VARS = ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID")


def detect_cluster(env: Mapping[str, str] | None = None) -> str | None:
  """"slurm" (a task of an srun step of more than one task), "tpu" (a Cloud TPU VM), or None.

  A single-task SLURM job (one element of a job array) is not a cluster: it
  trains on its own devices and needs no coordinator. A process started
  directly in an allocation of several tasks (sbatch --ntasks=2 --wrap ...,
  inside salloc -n 2) is a UserError: it would wait for partners that srun
  never started.
  """
  env = os.environ if env is None else env
  if "SLURM_JOB_ID" in env:
    step_tasks = env.get("SLURM_STEP_NUM_TASKS")  # set by srun in each task it starts
    if step_tasks is not None:
      if int(step_tasks) > 1:
        return "slurm"
    elif int(env.get("SLURM_NTASKS", "1")) > 1:
      raise UserError(f"this process runs in a SLURM allocation of {env['SLURM_NTASKS']} tasks but was not "
                      "started by srun: start one process per task with `srun python -m ...`, or ask for "
                      "--ntasks=1")
  if any(v in env for v in _TPU_ENV_VARS) or os.path.exists("/dev/accel0"):
    return "tpu"
  return None


def _tasks_on_this_node(env: Mapping[str, str]) -> int:
  """This step's task count on this node, from SLURM_STEP_TASKS_PER_NODE (e.g. "2(x3),1": nodes 0-2
  run 2 tasks, node 3 one) and SLURM_NODEID."""
  counts: list[int] = []
  for part in env.get("SLURM_STEP_TASKS_PER_NODE", env.get("SLURM_TASKS_PER_NODE", "1")).split(","):
    count, _, repeat = part.partition("(x")
    counts += [int(count)] * (int(repeat.rstrip(")")) if repeat else 1)
  node = int(env.get("SLURM_NODEID", "0"))
  return counts[node] if node < len(counts) else counts[-1]


def visible_gpu_count(env: Mapping[str, str] | None = None) -> int:
  """GPUs this process may use: those in $CUDA_VISIBLE_DEVICES when set, else the node's /dev/nvidiaN."""
  return len(gpus.visible_gpu_ids(env))


def slurm_local_device_ids(env: Mapping[str, str], n_gpus: int) -> list[int] | None:
  """The GPUs (indices among the n_gpus it sees) an srun task should use; None: no GPU.

  jax.distributed's own SLURM default gives each task only the device numbered SLURM_LOCALID, which
  is wrong in both common layouts: one GPU per task (--gpus-per-task=1: each task sees one GPU,
  index 0, so task 1 would ask for a device it does not have) and one task per node (--gpus-per-node=N:
  the task would use GPU 0 only). Rule: a task that was given its own GPUs (SLURM_GPUS_PER_TASK set,
  or only one task on the node) uses every GPU it sees; tasks sharing a node's GPUs split them into
  equal blocks by SLURM_LOCALID. $JAX_LOCAL_DEVICE_IDS (read by jax itself) overrides this.
  """
  if n_gpus == 0:
    return None
  tasks = _tasks_on_this_node(env)
  if env.get("SLURM_GPUS_PER_TASK") or tasks == 1:
    return list(range(n_gpus))
  if n_gpus % tasks:
    raise UserError(f"{tasks} SLURM tasks on this node share {n_gpus} GPUs, which do not split evenly: ask "
                    "for --gpus-per-task, or set $JAX_LOCAL_DEVICE_IDS for each task")
  per_task, local = n_gpus // tasks, int(env.get("SLURM_LOCALID", "0"))
  return list(range(local * per_task, (local + 1) * per_task))


def initialize_distributed(coordinator_address: str | None = None, num_processes: int | None = None,
                           process_id: int | None = None, bind_address: str | None = None,
                           env: Mapping[str, str] | None = None) -> bool:
  """Starts `jax.distributed` when this process is one of several; returns whether it did.

  Explicit arguments (or $JAX_COORDINATOR_ADDRESS, $JAX_NUM_PROCESSES,
  $JAX_PROCESS_ID) win; otherwise SLURM's and Cloud TPU's environments are
  detected (by `detect_cluster`, then by jax's own cluster detection). An srun
  task's GPUs are chosen by `slurm_local_device_ids` unless $JAX_LOCAL_DEVICE_IDS
  is set. Must run before any JAX computation. Calling it again is a no-op.
  """
  env = os.environ if env is None else env
  if jax.distributed.is_initialized():
    return True
  coordinator_address = coordinator_address or env.get("JAX_COORDINATOR_ADDRESS")
  if num_processes is None and env.get("JAX_NUM_PROCESSES"):
    num_processes = int(env["JAX_NUM_PROCESSES"])
  if process_id is None and env.get("JAX_PROCESS_ID"):
    process_id = int(env["JAX_PROCESS_ID"])
  cluster = detect_cluster(env)
  if coordinator_address is None and cluster is None:
    return False
  local_device_ids = None
  if cluster == "slurm" and not env.get("JAX_LOCAL_DEVICE_IDS"):
    local_device_ids = slurm_local_device_ids(env, visible_gpu_count(env))
  logging.info("starting jax.distributed (%s; local device ids %s)",
               "coordinator given" if coordinator_address else cluster, local_device_ids)
  jax.distributed.initialize(coordinator_address=coordinator_address, num_processes=num_processes,
                             process_id=process_id, coordinator_bind_address=bind_address,
                             local_device_ids=local_device_ids)
  return True


def describe_processes() -> str:
  """One line: this process's index, the process count, and the devices."""
  local = jax.local_devices()
  return (f"process {jax.process_index()}/{jax.process_count()}, {jax.device_count()} device(s) "
          f"({jax.default_backend()}), local: {', '.join(str(d) for d in local)}")


def _factorizations(n_devices: int, num_replicas: int, batch_size: int) -> list[tuple[int, int]]:
  """(replica, data) axis sizes with replica | K, data | batch and replica * data <= devices."""
  return [(r, d) for r in range(1, n_devices + 1) for d in range(1, n_devices // r + 1)
          if num_replicas % r == 0 and batch_size % d == 0]


def make_mesh(num_replicas: int, batch_size: int, replica_axis: int | None = None,
              devices: list[jax.Device] | None = None) -> Mesh:
  """A ("replica", "data") mesh for K replicas with global batch `batch_size`.

  Single process: uses as many devices as divide evenly, and prefers the
  replica axis (communication-free) over the data axis; `replica_axis` forces
  its size. Several processes: the replica axis is 1 and the data axis spans
  every device of every process (each process reads every replica's state),
  so batch_size must be a multiple of the global device count.
  """
  devices = list(jax.devices() if devices is None else devices)
  n = len(devices)
  if jax.process_count() > 1:
    if replica_axis not in (None, 1) or batch_size % n:
      raise UserError(f"a multi-process run splits each batch over all {n} devices: batch_size "
                      f"{batch_size} must be a multiple of {n}, and replica_axis 1 (got {replica_axis})")
    return Mesh(np.asarray(devices).reshape(1, n), (REPLICA_AXIS, DATA_AXIS))
  options = [(r, d) for r, d in _factorizations(n, num_replicas, batch_size)
             if replica_axis is None or r == replica_axis]
  if not options:
    raise UserError(f"no mesh with a replica axis of {replica_axis} over {n} devices divides "
                    f"{num_replicas} replicas and batch size {batch_size}")
  r, d = max(options, key=lambda rd: (rd[0] * rd[1], rd[0]))
  return Mesh(np.asarray(devices[:r * d]).reshape(r, d), (REPLICA_AXIS, DATA_AXIS))


def auto_mesh(num_replicas: int, batch_size: int) -> Mesh | None:
  """A mesh over all devices when there is more than one, else None (plain jit)."""
  return make_mesh(num_replicas, batch_size) if jax.device_count() > 1 else None


def describe_mesh(mesh: Mesh | None) -> str:
  """e.g. "replica 2, data 2 (mesh axes)"; says so when devices are left idle (a stated choice: the
  replicas and the batch must split evenly, so batch 130 on 4 devices uses 2 of them)."""
  if mesh is None:
    return "one device"
  text = ", ".join(f"{name} {size}" for name, size in mesh.shape.items()) + " (mesh axes)"
  idle = jax.device_count() - mesh.devices.size
  if idle:
    text += (f"; {idle} of {jax.device_count()} devices idle: no larger mesh divides the replicas and the "
             "batch size evenly (make the batch size a multiple of the device count to use them all)")
  return text


def replica_sharding(mesh: Mesh) -> NamedSharding:
  """Leading [K] axis split over "replica", the rest replicated (params over "data")."""
  return NamedSharding(mesh, P(REPLICA_AXIS))


def replicated(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, P())


def batch_sharding(mesh: Mesh) -> NamedSharding:
  """One replica's batch [B, ...]: rows split over "data" (vmap adds "replica")."""
  return NamedSharding(mesh, P(DATA_AXIS))


def put_global(tree: Any, sharding: NamedSharding) -> Any:
  """Global arrays of `tree`'s leaves, whose full value every process holds.

  `make_array_from_process_local_data` with the global shape equal to the
  local one takes each process's addressable shards from its full copy.
  A leaf that already has `sharding` is kept as it is (no host round trip).
  """
  def put(leaf):
    if isinstance(leaf, jax.Array) and leaf.sharding == sharding:
      return leaf
    value = np.asarray(leaf)
    return jax.make_array_from_process_local_data(sharding, value, value.shape)
  return jax.tree_util.tree_map(put, tree)


@dataclasses.dataclass(frozen=True)
class ShardedRows:
  """An on-device table whose gathered rows come out split over the "data" axis.

  The train step selects its batch with `x_all[idx]`; wrapping `x_all` in
  this makes that gather carry the batch sharding, so each device gathers and
  processes only its rows (without it, XLA would replicate the whole step).
  Used inside `jax.vmap(..., spmd_axis_name="replica")`.
  """
  rows: jax.Array
  sharding: NamedSharding

  def __getitem__(self, idx: jax.Array) -> jax.Array:
    return jax.lax.with_sharding_constraint(self.rows[idx], self.sharding)


def wait_for_all_processes(name: str) -> None:
  """Returns when every process has reached this call (a no-op with one process).

  Before a process exits: under `srun --kill-on-bad-exit` the first task to exit with a non-zero
  code (3, stopped) has its partners killed, and process 0 may still be writing the results."""
  if jax.process_count() > 1:
    multihost_utils.sync_global_devices(name)


def any_process(flag: bool) -> bool:
  """True if `flag` is True on any process (all processes must call it together)."""
  if jax.process_count() == 1:
    return flag
  return bool(np.any(multihost_utils.process_allgather(np.asarray(flag))))
