"""Bad input is one line and exit 2, before anything is written; a bug keeps its traceback.

The long list of bad flag values is checked in process (parsing and
`config_from_flags` on a fresh flag set); a few subprocesses check the exit
code and the single stderr line of each entry point's error path.
"""
from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from absl import flags

from conftest import run_module, start_module
from experiments.common import config_from_flags, define_train_flags, run_cleanly
from jaxdl.data import DataFileError, load_dataset, locate
from jaxdl.errors import UserError

MNIST_FILES = ("train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte",
               "train-images-idx3-ubyte", "t10k-images-idx3-ubyte")


def _error(*argv: str) -> str | None:
  """The error that experiments.train's flags give for `argv`, None if they are valid."""
  values = flags.FlagValues()
  define_train_flags(values)
  try:
    values(["train", *argv])
    config_from_flags(values)
  except (flags.Error, UserError) as e:
    return str(e)
  return None


# (argv, what the one-line message must contain: the flag and the valid range)
BAD_FLAGS = [
    (["--lr=nan"], "--lr=nan", "finite number >= 0"),
    (["--lr=inf"], "--lr=inf", "finite number >= 0"),
    (["--lr=-1"], "--lr=-1", "finite number >= 0"),
    (["--momentum=1"], "--momentum=1", "[0, 1)"),
    (["--momentum=-0.5"], "--momentum=-0.5", "[0, 1)"),
    (["--momentum=nan"], "--momentum=nan", "[0, 1)"),
    (["--rmsprop_momentum=2"], "--rmsprop_momentum=2", "[0, 1)"),
    (["--decay_factor=0"], "--decay_factor=0", "finite number > 0"),
    (["--warmup_epochs=-1"], "--warmup_epochs=-1", ">= 0"),
    (["--warmup_epochs=nan"], "--warmup_epochs=nan", ">= 0"),
    (["--weight_decay=-1e-4"], "--weight_decay=-0.0001", ">= 0"),
    (["--l1=nan"], "--l1=nan", ">= 0"),
    (["--clip_norm=-1"], "--clip_norm=-1", ">= 0"),
    (["--max_norm=inf"], "--max_norm=inf", ">= 0"),
    (["--augment_noise=-0.1"], "--augment_noise=-0.1", ">= 0"),
    (["--augment_shift=-1"], "--augment_shift=-1", ">= 0"),
    (["--batch_size=0"], "--batch_size=0", ">= 1"),
    (["--epochs=0"], "--epochs=0", ">= 1"),
    (["--epochs=-3"], "--epochs=-3", ">= 1"),
    (["--seeds=0"], "--seeds=0", ">= 1"),
    (["--seed_offset=-1"], "--seed_offset=-1", ">= 0"),
    (["--val_size=-1"], "--val_size=-1", ">= 0"),
    (["--train_size=-5"], "--train_size=-5", ">= 0"),
    (["--early_stopping_patience=-1"], "--early_stopping_patience=-1", ">= 0"),
    (["--checkpoint_every_steps=-1"], "--checkpoint_every_steps=-1", ">= 0"),
    (["--divergence_loss=nan"], "--divergence_loss=nan", ">= 0"),
    (["--divergence_loss=-1"], "--divergence_loss=-1", ">= 0"),
    (["--decay_epochs=5,x"], "--decay_epochs=", "integers >= 0"),
    (["--decay_epochs=2.5"], "--decay_epochs=", "integers >= 0"),
    (["--decay_epochs=-1"], "--decay_epochs=", "integers >= 0"),
    (["--lr_grid=0.1,x"], "--lr_grid=", "finite numbers >= 0"),
    (["--lr_grid=0.1,nan"], "--lr_grid=", "finite numbers >= 0"),
    (["--lr_grid=-0.1"], "--lr_grid=", "finite numbers >= 0"),
    (["--model_arg=widths=abc"], "--model_arg=widths='abc'", "tuple of integers >= 1"),
    (["--model_arg=widths=(100,0)"], "--model_arg=widths=(100, 0)", "tuple of integers >= 1"),
    (["--model_arg=widths=100"], "--model_arg=widths=100", "tuple of integers >= 1"),
    (["--model_arg=dropout_rate=1.5"], "--model_arg=dropout_rate=1.5", "[0, 1)"),
    (["--model_arg=batch_norm=1"], "--model_arg=batch_norm=1", "True or False"),
    (["--model=cnn", "--model_arg=kernel_size=0"], "--model_arg=kernel_size=0", "integer >= 1"),
    (["--sweep=lr=x"], "--sweep=lr=x", "finite number >= 0"),
    (["--sweep=dropout_rate=0,1"], "--sweep=dropout_rate=", "[0, 1)"),
    (["--epochs=abc"], "--epochs=abc", "int"),
    (["--model=transformer"], "--model=transformer", "mlp"),
]


@pytest.mark.parametrize("argv,flag,valid", BAD_FLAGS, ids=[" ".join(a) for a, _, _ in BAD_FLAGS])
def test_bad_flag_value_is_one_line_naming_the_flag_and_the_valid_range(argv, flag, valid):
  message = _error(*argv)
  assert message is not None, f"{argv} accepted"
  assert "\n" not in message and flag in message and valid in message, message


def test_valid_edge_values_are_accepted():
  assert _error("--lr=1e-6", "--momentum=0", "--divergence_loss=0", "--decay_epochs=5,10",
                "--lr_grid=0.1,0.01", "--model_arg=widths=()", "--sweep=dropout_rate=0,0.5",
                "--epochs=1", "--val_size=0", "--augment_shift=2") is None


def test_exit_2_and_one_line_from_absl_user_and_run_all_errors():
  for module, args, names in [
      ("experiments.train", ["--epochs=abc"], ["--epochs=abc"]),  # absl's own error
      ("experiments.train", ["--model_arg=widths=abc"], ["widths", "integers >= 1"]),  # config_from_flags
      ("experiments.run_all", ["--only=nope"], ["nope", "init_study", "dilated_convs"]),
  ]:
    proc = run_module(module, *args, timeout=120)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, (module, args, proc.returncode, proc.stderr)
    assert lines[0].startswith("error: ") and all(n in lines[0] for n in names), lines[0]


def test_explicit_data_dir_lacking_files_is_an_error_naming_them(tmp_path):
  with pytest.raises(DataFileError, match=f"data_dir {tmp_path / 'absent'} does not exist"):
    load_dataset("mnist", data_dir=str(tmp_path / "absent"))
  empty = tmp_path / "empty"
  empty.mkdir()
  with pytest.raises(DataFileError) as error:
    load_dataset("mnist", data_dir=str(empty))
  assert str(empty) in str(error.value) and all(f in str(error.value) for f in MNIST_FILES)
  partial = tmp_path / "partial"
  (partial / "mnist").mkdir(parents=True)
  for name in MNIST_FILES[:3]:
    (partial / "mnist" / f"{name}.gz").symlink_to(locate.SHARED_DATA_DIR / "mnist" / f"{name}.gz")
  with pytest.raises(DataFileError) as error:
    load_dataset("mnist", data_dir=str(partial))
  message = str(error.value)
  assert "1 of the 4" in message and MNIST_FILES[3] in message and MNIST_FILES[0] not in message


def test_dataset_records_where_each_file_was_read_from(tmp_path):
  (tmp_path / "mnist").mkdir()
  for name in MNIST_FILES:
    (tmp_path / "mnist" / f"{name}.gz").symlink_to(locate.SHARED_DATA_DIR / "mnist" / f"{name}.gz")
  mnist = load_dataset("mnist", data_dir=str(tmp_path), val_size=10000)
  assert mnist.files == {f: str(tmp_path / "mnist" / f"{f}.gz") for f in MNIST_FILES}
  assert f"read from {tmp_path / 'mnist'}" == mnist.origin()
  assert load_dataset("synthetic").files == {}


def test_an_internal_file_not_found_keeps_its_traceback():
  def missing_internal_file():
    open(Path(__file__).parent / "no-such-file-inside-a-library")

  with pytest.raises(FileNotFoundError):
    run_cleanly(missing_internal_file)

  def bad_input():
    raise UserError("bad input")

  assert run_cleanly(bad_input) == 2


def _children(pid: int) -> list[int]:
  with open(f"/proc/{pid}/task/{pid}/children") as f:
    return [int(c) for c in f.read().split()]


def _alive(pid: int) -> bool:
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  with open(f"/proc/{pid}/stat") as f:  # a zombie has ended
    return f.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_run_all_stopped_by_sigterm_stops_its_study(tmp_path):
  proc = start_module("experiments.run_all", "--only=train", "--variant=smoke", f"--workdir={tmp_path}")
  child, output = None, []
  try:
    for line in proc.stdout:  # the study's output comes through run_all's
      output.append(line)
      if line.startswith("jaxdl:"):  # the study is training: its SIGTERM handler is set
        break
    (child,) = _children(proc.pid)
    proc.send_signal(signal.SIGTERM)
    output += proc.communicate(timeout=120)[0]
    assert proc.returncode == 3, "".join(output)
    assert not _alive(child), "the study kept running after run_all was stopped"
    assert "preempted at step" in "".join(output)  # the study checkpointed, then exited
  finally:
    for pid in (proc.pid, child):
      if pid is not None and _alive(pid):
        os.kill(pid, signal.SIGKILL)


def test_a_study_config_override_gets_the_range_check_of_its_flag():
  from experiments.configs import train_config
  from tests.study_fixture.config import get_config
  config = get_config()
  config.train.optim.lr = float("nan")
  with pytest.raises(UserError, match=r"^optim\.lr=nan: must be a finite number >= 0 \(0: no updates, a control\)$"):
    train_config(config.train)
  with pytest.raises(UserError, match=r"^augment_shift=-1: must be an integer >= 0$"):
    train_config(get_config().train, augment_shift=-1)
