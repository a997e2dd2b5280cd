"""One directory per run: config.json, metrics.jsonl, status.json, results, tables, events.

Rules that protect earlier results:
- a directory that holds a run with a different config is refused, not
  overwritten (use a new --workdir);
- nothing is written before the run has validated its inputs (the caller
  creates the RunDir only after data and model were built);
- metrics.jsonl is rewritten only to drop lines past the checkpoint a run
  resumes from, which that run then writes again, identically;
- a directory with run files but no readable config.json is refused: its
  config is what says whose checkpoints they are;
- one writer at a time: a training run holds the directory's lock file until it
  has written its outputs (the kernel releases it if the process dies), and records
  its host, PID and a heartbeat in status.json, so a reader tells a dead run
  from a live one without taking the lock;
- a filesystem error (permission, not a directory, disk full) is one line
  naming the path (`RunDirUnwritable`), and status.json says `failed`.
"""
from __future__ import annotations

import calendar
import contextlib
import errno
import fcntl
import json
import math
import os
import re
import socket
import tempfile
import threading
import time
from typing import Any, Iterator

import numpy as np

from jaxdl.errors import UserError


PROVENANCE = "provenance"  # the config.json key that is not part of a run's identity
LOCK = "writer.lock"       # flock-ed by the writing process; holds its host and PID
RUN_FILES = ("checkpoints", "metrics.jsonl", "results.json")  # what a config.json must own
HEARTBEAT_S = 60.0  # a running writer rewrites status.json at least this often (and per epoch)
STALE_S = 600.0     # a heartbeat this old, written on another host, means the run is dead
HOST = socket.gethostname()

_held_locks: dict[str, int] = {}  # run directory -> this process's locked descriptor, until `release`


class RunDirConflict(UserError):
  """The work directory holds a different run, or run files whose config is lost."""


class RunDirBusy(UserError):
  """Another live process writes the work directory."""


class RunDirUnwritable(UserError):
  """The filesystem refused a write (permission, not a directory, disk full)."""


def _umask() -> int:
  try:
    with open("/proc/self/status") as f:  # reads it without the set-and-restore race of os.umask
      return next(int(line.split()[1], 8) for line in f if line.startswith("Umask:"))
  except (OSError, StopIteration):
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _os_error(e: BaseException) -> OSError | None:
  """The OSError behind `e`: itself, or one that tensorstore (Orbax's checkpoint I/O) raised as a
  ValueError ending in "[os_error_code='28']"."""
  if isinstance(e, OSError):
    return e
  code = re.search(r"\[os_error_code='(\d+)'\]", str(e)) if isinstance(e, ValueError) else None
  if code is None:
    return None
  named = re.search(r'"(/[^"]+)"', str(e))
  return OSError(int(code[1]), os.strerror(int(code[1])), named[1] if named else None)


def _is_filesystem_error(e: OSError | None, path: str) -> bool:
  """An OSError about `path` or below, or one that says the disk is full or read-only."""
  if e is None:
    return False
  names = [os.path.abspath(os.fsdecode(n)) for n in (e.filename, e.filename2) if n]
  return (any(n == path or n.startswith(path + os.sep) for n in names)
          or e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS))


def _unwritable(e: OSError, path: str) -> RunDirUnwritable:
  where = os.fsdecode(e.filename) if e.filename else path
  return RunDirUnwritable(f"cannot use the run directory: {where}: {e.strerror or e}")


def _jsonable(value: Any) -> Any:
  if isinstance(value, dict):
    return {str(k): _jsonable(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [_jsonable(v) for v in value]
  if isinstance(value, np.ndarray):
    return _jsonable(value.tolist())
  if isinstance(value, (np.floating, float)):
    v = float(value)
    return v if math.isfinite(v) else str(v)  # JSON has no NaN/inf: "nan", "inf"
  if isinstance(value, (np.integer,)):
    return int(value)
  if isinstance(value, np.bool_):
    return bool(value)
  return value


def from_jsonable(value: Any) -> Any:
  """The inverse of the writer's encoding: the strings "nan", "inf", "-inf" back to floats."""
  if isinstance(value, dict):
    return {k: from_jsonable(v) for k, v in value.items()}
  if isinstance(value, list):
    return [from_jsonable(v) for v in value]
  if value in ("nan", "inf", "-inf"):
    return float(value)
  return value


def write_atomic(path: str, text: str) -> None:
  """Writes via a temporary file and a rename, so a crash leaves old or new, never half."""
  directory = os.path.dirname(os.path.abspath(path))
  fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
  try:
    with os.fdopen(fd, "w") as f:
      f.write(text)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600: let the group read results
    os.replace(tmp, path)
  except BaseException:
    with contextlib.suppress(OSError):
      os.remove(tmp)
    raise


def write_json(path: str, value: Any) -> None:
  write_atomic(path, json.dumps(_jsonable(value), indent=2, sort_keys=True) + "\n")


def _now() -> str:
  return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _take_lock(path: str) -> None:
  """Holds `path`'s writer lock until `_release_lock` or this process's end (the kernel drops
  it); a holder elsewhere is a RunDirBusy."""
  if path in _held_locks:
    return
  fd = os.open(os.path.join(path, LOCK), os.O_RDWR | os.O_CREAT, 0o666)
  deadline = time.monotonic() + 1.0  # a reader's probe (see lock_held) holds it for microseconds
  while True:
    try:
      fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
      break
    except BlockingIOError:
      if time.monotonic() > deadline:
        holder = os.pread(fd, 4096, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise RunDirBusy(f"{path} is being written by another process ({holder}); wait for it to end, "
                         f"or use a new --workdir") from None
      time.sleep(0.05)
  os.ftruncate(fd, 0)
  os.pwrite(fd, f"host {HOST} pid {os.getpid()} since {_now()}\n".encode(), 0)
  _held_locks[path] = fd


def _release_lock(path: str) -> None:
  fd = _held_locks.pop(path, None)
  if fd is not None:
    os.close(fd)  # drops the flock


def lock_held(path: str) -> bool | None:
  """Whether a process holds `path`'s writer lock; None when there is no lock file.

  Probes with a shared non-blocking flock, released at once: a reader never
  waits for, nor keeps, the writer's lock.
  """
  try:
    fd = os.open(os.path.join(path, LOCK), os.O_RDONLY)
  except OSError:
    return None
  try:
    fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    return False
  except BlockingIOError:
    return True
  finally:
    os.close(fd)  # also drops the probe's shared lock


def _pid_alive(pid: int) -> bool:
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:  # alive, another user's
    pass
  return True


def dead_run(path: str, status: dict[str, Any]) -> str | None:
  """Why a run whose status.json says running is dead ("last heartbeat ..."), or None.

  On this host: its PID is gone, or nobody holds its lock file (a reused PID).
  From another host only the heartbeat tells: older than STALE_S is dead.
  A status without host and PID (an older run) is taken at its word.
  """
  if status.get("status") != "running" or "pid" not in status:
    return None
  beat = status.get("heartbeat")
  try:
    age = time.time() - calendar.timegm(time.strptime(beat, "%Y-%m-%dT%H:%M:%SZ"))
  except (TypeError, ValueError):
    age = math.inf
  last = f"last heartbeat {beat} on {status.get('host')}, pid {status['pid']}"
  if status.get("host") == HOST:
    return last if not _pid_alive(int(status["pid"])) or lock_held(path) is False else None
  return f"{last}: over {STALE_S:.0f} s ago" if age > STALE_S else None


class RunDir:
  """The files of one run under `path`.

  config.json holds the run's config and, under "provenance", where the run
  that created it came from (command, commit, versions, devices); two configs
  are the same run when they agree on everything but the provenance. Every
  start of the run, resumes included, appends its provenance to
  provenance.jsonl.

  `exclusive`: this process is the directory's only writer (a training run),
  so it takes the lock first. A study's own directory is shared by its cells'
  processes and is not locked; readers (`is_writer=False`) never lock.
  """

  def __init__(self, path: str, config: dict[str, Any], is_writer: bool = True,
               provenance: dict[str, Any] | None = None, exclusive: bool = False):
    self.path = os.path.abspath(path)
    self.is_writer = is_writer
    self._status: dict[str, Any] = {}
    self._status_lock = threading.Lock()  # the heartbeat thread rewrites status.json too
    self._beating = threading.Event()
    config = _jsonable(config)
    config_path = os.path.join(self.path, "config.json")
    with self.writing():
      if is_writer and exclusive:
        os.makedirs(self.path, exist_ok=True)
        _take_lock(self.path)
      existing = self._saved_config(config_path)
      if existing is not None:
        existing.pop(PROVENANCE, None)
        if existing != config:
          diff = sorted(k for k in set(existing) | set(config) if existing.get(k) != config.get(k))
          raise RunDirConflict(
              f"{self.path} already holds a run with a different config (differs in: "
              f"{', '.join(diff)}); nothing was changed there. Use a new --workdir, or the "
              f"same flags to resume that run.")
      elif is_writer:
        os.makedirs(self.path, exist_ok=True)
        write_json(config_path, {**config, **({PROVENANCE: provenance} if provenance else {})})
      if provenance and is_writer:
        with open(self.file("provenance.jsonl"), "a") as f:
          f.write(json.dumps(_jsonable(provenance), sort_keys=True) + "\n")

  def _saved_config(self, config_path: str) -> dict[str, Any] | None:
    """The saved config; None for a new directory. Run files without a readable one are refused."""
    try:
      with open(config_path) as f:
        existing = json.load(f)
      if isinstance(existing, dict):
        return existing
      problem = "is not a JSON object"
    except FileNotFoundError:
      orphans = [n for n in RUN_FILES if os.path.exists(self.file(n))
                 and (not os.path.isdir(self.file(n)) or os.listdir(self.file(n)))]
      if not orphans:
        return None
      problem = f"is missing, but the directory holds {', '.join(orphans)}"
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
      problem = f"is empty or not JSON ({e})"
    raise RunDirConflict(f"{config_path} {problem}: nothing says whose run this is, so nothing was "
                         f"changed there. Restore config.json, or use a new --workdir")

  @contextlib.contextmanager
  def writing(self) -> Iterator[None]:
    """The filesystem errors of a RunDir's own file operations become a one-line RunDirUnwritable."""
    try:
      yield
    except OSError as e:
      raise _unwritable(e, self.path) from e

  def failed(self, error: BaseException) -> BaseException:
    """Records why the run stopped; returns the error to raise (a filesystem one as one line).

    An interrupt (KeyboardInterrupt) leaves the run `incomplete`, anything else
    `failed`. On a full disk status.json is overwritten in place, reusing its
    own blocks, since a temporary copy has no room.
    """
    if _is_filesystem_error(_os_error(error), self.path):
      error = _unwritable(_os_error(error), self.path)
    if self.is_writer:
      status = "failed" if isinstance(error, Exception) else "incomplete"
      message = str(error).splitlines()[0] if str(error) else type(error).__name__
      with self._status_lock:
        self._status = {**self._record(status), "error": message}
        self._beating.clear()
        try:
          write_json(self.file("status.json"), self._status)
        except OSError:
          with contextlib.suppress(OSError), open(self.file("status.json"), "w") as f:
            f.write(json.dumps(self._status, sort_keys=True) + "\n")
    return error

  def release(self) -> None:
    """Gives up the writer lock once the run has written its outputs: a process that trains many
    runs in turn (a study, a notebook) holds one descriptor at a time, not one per run."""
    self._beating.clear()
    _release_lock(self.path)

  def file(self, name: str) -> str:
    return os.path.join(self.path, name)

  def status(self) -> dict[str, Any] | None:
    try:
      with open(self.file("status.json")) as f:
        return json.load(f)
    except FileNotFoundError:
      return None

  def _record(self, status: str, **details: Any) -> dict[str, Any]:
    return {"status": status, **details, "host": HOST, "pid": os.getpid(), "heartbeat": _now()}

  def set_status(self, status: str, **details: Any) -> None:
    """Writes status.json; while it says running, a daemon thread refreshes its heartbeat."""
    if not self.is_writer:
      return
    with self._status_lock, self.writing():
      self._status = self._record(status, **details)
      write_json(self.file("status.json"), self._status)
    if status != "running":
      self._beating.clear()
    elif not self._beating.is_set():
      self._beating.set()
      threading.Thread(target=self._beat_in_background, daemon=True, name="jaxdl-heartbeat").start()

  def heartbeat(self) -> None:
    """Refreshes status.json's heartbeat while it says running (the loop calls it per epoch)."""
    with self._status_lock, self.writing():
      if self.is_writer and self._beating.is_set():
        self._status["heartbeat"] = _now()
        write_json(self.file("status.json"), self._status)

  def _beat_in_background(self) -> None:
    """Keeps a long epoch's run visibly alive; the loop reports filesystem errors, not this."""
    while self._beating.is_set():
      time.sleep(HEARTBEAT_S)
      with contextlib.suppress(RunDirUnwritable):
        self.heartbeat()

  def metrics(self) -> list[dict[str, Any]]:
    return self.read_metrics(self.path)

  @staticmethod
  def read_metrics(run_path: str) -> list[dict[str, Any]]:
    """The logged records. A torn last line (killed mid-append) is dropped: a resume rewrites it."""
    path = os.path.join(run_path, "metrics.jsonl")
    try:
      with open(path) as f:
        lines = [line for line in f if line.strip()]
    except FileNotFoundError:
      return []
    records = []
    for i, line in enumerate(lines):
      try:
        records.append(json.loads(line))
      except json.JSONDecodeError as e:
        if i == len(lines) - 1 and not line.endswith("\n"):
          break
        raise UserError(f"{path} line {i + 1} is not JSON ({e}): the file was altered; fix or "
                        f"delete that line, or use a new --workdir") from None
    return records

  def truncate_metrics(self, last_step: int) -> list[dict[str, Any]]:
    """Drops metric lines past `last_step` (a resume replays them); returns the records kept."""
    kept = [m for m in self.metrics() if m["step"] <= last_step]
    if self.is_writer:
      with self.writing():
        write_atomic(self.file("metrics.jsonl"), "".join(json.dumps(_jsonable(m)) + "\n" for m in kept))
    return kept

  def log_metrics(self, record: dict[str, Any]) -> None:
    if self.is_writer:
      with self.writing(), open(self.file("metrics.jsonl"), "a") as f:
        f.write(json.dumps(_jsonable(record)) + "\n")

  def write_json(self, name: str, value: Any) -> None:
    if self.is_writer:
      with self.writing():
        write_json(self.file(name), value)

  def write_text(self, name: str, text: str) -> None:
    if self.is_writer:
      with self.writing():
        write_atomic(self.file(name), text)
