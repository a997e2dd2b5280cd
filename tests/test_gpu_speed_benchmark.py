"""benchmarks/gpu_speed.py runs (on CPU, tiny sizes) and prints its table; the models' compute dtype."""
import importlib.util
import math
import re

import jax
import jax.numpy as jnp
import pytest

from jaxdl.errors import UserError
from jaxdl.models import MODELS, build_model
from conftest import run_module

HAS_TORCH = importlib.util.find_spec("torch") is not None
# One step an epoch, two epochs (the steady state is the second): compilation is most of the time.
TINY = ("--images=8", "--batch=8", "--epochs=2", "--cnn_data=synthetic")


def _table(stdout: str) -> dict[str, list[str]]:
  """The markdown table's rows by case: [case, seeds, dtype, compile, first, s/epoch, images/s,
  PyTorch images/s, PyTorch warm-up, ratio]."""
  rows = [line.strip("|").split("|") for line in stdout.splitlines() if line.startswith("| ")]
  assert rows and rows[0][0].strip() == "case", stdout
  return {cells[0].strip(): [c.strip() for c in cells] for cells in rows[1:]}


def _number(cell: str) -> float:
  return float(cell.replace(",", "").rstrip("x"))


def _check(proc, cases: list[str], torch: bool) -> dict[str, list[str]]:
  assert proc.returncode == 0, proc.stdout + proc.stderr
  table = _table(proc.stdout)
  assert sorted(table) == sorted(cases), proc.stdout
  for case, cells in table.items():
    compile_s, images_per_s = _number(cells[3]), _number(cells[6])
    assert math.isfinite(images_per_s) and images_per_s > 0, cells
    assert math.isfinite(compile_s) and compile_s > 0, cells
    if torch:
      assert _number(cells[7]) > 0 and _number(cells[9]) > 0, cells
      # Both systems train the same architecture: the parameter counts agree.
      jax_params = re.search(rf"^{case}: jaxdl .*?([\d,]+) params", proc.stdout, re.M).group(1)
      torch_params = re.search(rf"^{case}: PyTorch .*?([\d,]+) params", proc.stdout, re.M).group(1)
      assert jax_params == torch_params, proc.stdout
    else:
      assert cells[7:] == ["-", "-", "-"], cells
  if not torch:
    assert "PyTorch: skipped (--torch=false)" in proc.stdout
  return table


def test_cnn_single_and_vmapped_bf16_seeds_on_cpu():
  """The small CNN alone and 2 vmapped seeds in bf16; PyTorch too where it is installed."""
  proc = run_module("benchmarks.gpu_speed", *TINY, "--cases=cnn,cnn_seeds2_bf16", f"--torch={HAS_TORCH}")
  table = _check(proc, ["cnn", "cnn_seeds2_bf16"], HAS_TORCH)
  assert table["cnn_seeds2_bf16"][1:3] == ["2", "bf16 / fp32 params"]
  if HAS_TORCH:
    assert "cnn_seeds2_bf16: PyTorch (2 of 2 seeds one after another, bf16 autocast" in proc.stdout


def test_resnet_without_torch_says_so():
  """A ResNet (depth 8 here: the same code as 20 and 56, at a fraction of the compile time),
  with the PyTorch part switched off: the skip is said and its columns are empty."""
  proc = run_module("benchmarks.gpu_speed", *TINY[:3], "--batch=4", "--images=4", "--cases=resnet8",
                    "--torch=false")
  _check(proc, ["resnet8"], torch=False)


def _shapes(model_name: str, options: dict, input_shape: tuple[int, ...]):
  """Parameters, logits and the first tagged pre-activation, as shapes and dtypes only."""
  model = build_model(model_name, 10, options)
  x = jax.ShapeDtypeStruct((2, *input_shape), jnp.float32)
  variables = jax.eval_shape(model.init, jax.random.PRNGKey(0), x)
  logits, state = jax.eval_shape(
      lambda v, xs: model.apply(v, xs, train=False, mutable=["intermediates"]), variables, x)
  # "perturbations" (diagnostics' zeros, added to the pre-activations) take the compute dtype.
  kept = {k: v for k, v in variables.items() if k in ("params", "batch_stats")}
  return kept, logits, state["intermediates"]["pre0"][0]


@pytest.mark.parametrize("model_name,options,input_shape", [
    ("cnn", {}, (28, 28, 1)), ("cnn", {"batch_norm": True}, (28, 28, 1)),
    ("resnet", {"depth": 8}, (32, 32, 3))])
def test_bfloat16_compute_keeps_float32_params_and_logits(model_name, options, input_shape):
  variables, logits, pre0 = _shapes(model_name, {**options, "dtype": "bfloat16"}, input_shape)
  assert {leaf.dtype for leaf in jax.tree_util.tree_leaves(variables)} == {jnp.dtype(jnp.float32)}
  assert logits.dtype == jnp.float32 and logits.shape == (2, 10)
  assert pre0.dtype == jnp.bfloat16  # the compute itself is bf16


@pytest.mark.parametrize("model_name,input_shape", [("cnn", (28, 28, 1)), ("resnet", (32, 32, 3))])
def test_default_compute_dtype_is_float32(model_name, input_shape):
  assert MODELS.defaults(model_name)["dtype"] == "float32"
  variables, logits, pre0 = _shapes(model_name, {"depth": 8} if model_name == "resnet" else {}, input_shape)
  assert {leaf.dtype for leaf in jax.tree_util.tree_leaves(variables)} == {jnp.dtype(jnp.float32)}
  assert logits.dtype == pre0.dtype == jnp.float32


def test_an_unknown_compute_dtype_is_a_user_error():
  with pytest.raises(UserError, match="valid: float32, bfloat16"):
    _shapes("cnn", {"dtype": "int8"}, (28, 28, 1))
