"""The papers' claims, checked on the replica rows (see `rows.replica_rows` and `rows.recipe_rows`).

Every comparison is made on the seed means and decided only beyond the seed noise
(`jaxdl.report.verdicts`): an effect within it is NOT TESTED at that budget.
"""
from __future__ import annotations

from typing import Any

from experiments.dropout_vs_batchnorm.rows import after_dropout, group
from jaxdl.report.claims import Claim
from jaxdl.report.verdicts import Verdict, all_of, beyond, exceeds, own_check
from jaxdl.train import RunStatus

Rows = list[dict[str, Any]]

PCT = dict(scale=100, digits=2, unit="%")


def check(rows: Rows, recipe: Rows, stall_acc: float) -> list[Claim]:
  """Ioffe & Szegedy's MNIST accuracy, speed-up and lr tolerance (with the project's own check that
  the plain nets fail at 30x), Srivastava et al.'s dropout gain and Ioffe & Szegedy's "BN makes
  dropout unneeded" (on the recipe cells), and Li et al.'s variance shift, in that order."""
  nets = list(dict.fromkeys(r["net"] for r in rows))
  gain = dropout_gain(recipe)
  return [bn_accuracy(rows, nets), speed_up(rows, nets), lr_tolerance(rows, nets),
          plain_fails_at_30x(rows, nets, stall_acc), gain, dropout_after_bn(recipe, gain.held),
          variance_shift_claim(rows, nets)]


def _at(rows: Rows, net: str, regularizer: str, lr_mult: float = 1.0) -> Rows:
  return group(rows, net=net, regularizer=regularizer, lr_mult=lr_mult)


def _diverged(members: Rows) -> int:
  return sum(r["status"] == RunStatus.DIVERGED for r in members)


def _test_acc(members: Rows) -> list[float]:
  return [r["test_acc"] for r in members]


def _test_err(members: Rows) -> list[float]:
  return [1.0 - r["test_acc"] for r in members]


def bn_accuracy(rows: Rows, nets: list[str]) -> Claim:
  # Ioffe & Szegedy's own MNIST net is the 3x100 sigmoid MLP; the other nets are ours.
  net = "sigmoid_mlp"
  verdict = (exceeds(_test_acc(_at(rows, net, "bn")), _test_acc(_at(rows, net, "none")),
                     names=(f"{net} bn", "none"), **PCT)
             if net in nets else (None, f"{net} not trained (config.nets)"))
  return Claim(
      "Ioffe & Szegedy 2015, Sec. 4.1, Fig. 1(a) (3x100 sigmoid MLP, 50k steps at batch 60; no number printed)",
      "on MNIST, the batch-normalized net has the higher test accuracy", *verdict,
      criterion="bn - none test acc at the base lr > the larger seed std (the paper's direction)")


def speed_up(rows: Rows, nets: list[str]) -> Claim:
  parts = []
  for net in nets:
    none = [r["steps_to_target"] for r in _at(rows, net, "none")]
    bn5 = [r["steps_to_target"] for r in _at(rows, net, "bn", 5.0)]
    short = sum(s is None for s in bn5)
    if short:  # a BN seed that never reaches the baseline's accuracy is not faster
      parts.append((False, f"{net}: {short}/{len(bn5)} BN@5x seeds never reached the target"))
    else:
      parts.append(exceeds(none, bn5, names=(f"{net} steps: baseline", "BN@5x"), digits=0))
  return Claim(
      "Ioffe & Szegedy 2015, Fig. 3 (BN-x5 reached Inception's 72.2% in 2.1M steps, Inception in 31.0M)",
      "BN with a 5x learning rate reaches the baseline's accuracy in fewer steps",
      *all_of(*parts),
      criterion="baseline steps - BN@5x steps > the larger seed std, every net, to the lowest best val acc "
                "of the baseline seeds, at epoch resolution (the paper's direction; its 14x is Inception's)")


def lr_tolerance(rows: Rows, nets: list[str]) -> Claim:
  parts = []
  for net in nets:
    bn30, none = _at(rows, net, "bn", 30.0), _at(rows, net, "none")
    verdict = exceeds(_test_acc(bn30), _test_acc(none), names=(f"{net} BN@30x", "baseline@1x"), **PCT)
    lost = _diverged(bn30)
    parts.append((False, f"{verdict[1]} ({lost}/{len(bn30)} BN@30x seeds diverged)") if lost else verdict)
  return Claim(
      "Ioffe & Szegedy 2015, Sec. 3.3 and Fig. 3 (BN-x30 reached 74.8%, Inception 72.2%)",
      "BN trains at 30x the learning rate and ends more accurate than the baseline at its own rate",
      *all_of(*parts),
      criterion="BN@30x - baseline@1x test acc > the larger seed std, every net, no BN@30x seed diverged "
                "(the paper's comparison)")


def plain_fails_at_30x(rows: Rows, nets: list[str], stall_acc: float) -> Claim:
  parts = []
  for net in nets:
    plain = _at(rows, net, "none", 30.0)
    # A diverged seed failed: it counts as accuracy 0 rather than dropping out of the mean.
    accs = [0.0 if r["status"] == RunStatus.DIVERGED else r["best_val_acc"] for r in plain]
    parts.append(beyond(accs, stall_acc, above=False, name=f"{net} plain@30x best val acc", **PCT))
  return Claim(
      own_check("the paper trained no plain net at 30x; BN training there shows BN's effect only if "
                "the plain net fails there"),
      "the plain nets stall or diverge at 30x the learning rate", *all_of(*parts),
      criterion=f"best val acc < stall_acc = {100 * stall_acc:g}% beyond the seed std (a diverged seed "
                "counts as 0), every net; stall_acc: far above chance, far below a net that learns "
                "(a stated argument)")


def dropout_gain(recipe: Rows) -> Claim:
  return Claim(
      "Srivastava et al. 2014, Table 9 (784-1024-1024-2048 ReLU with max-norm: 1.35% -> 1.05% test error "
      "with dropout)",
      "dropout (inputs 0.2, hidden 0.5) lowers the test error of the max-norm ReLU MLP",
      *exceeds(_test_err(group(recipe, arm="none")), _test_err(group(recipe, arm="dropout")),
               names=("test error without dropout", "with dropout"), **PCT),
      criterion="no-dropout - dropout test error > the larger seed std (the paper's direction)")


def _seed_gains(recipe: Rows, without: str, with_: str) -> list[float]:
  """Per seed: test error without dropout minus with it (the arms' rows matched by seed)."""
  err = {arm: {r["seed"]: 1.0 - r["test_acc"] for r in group(recipe, arm=arm)} for arm in (without, with_)}
  return [err[without][s] - err[with_][s] for s in sorted(err[without]) if s in err[with_]]


def dropout_after_bn(recipe: Rows, dropout_helps: bool | None) -> Claim:
  plain, bn = _seed_gains(recipe, "none", "dropout"), _seed_gains(recipe, "bn", "both")
  verdict = exceeds(plain, bn, names=("dropout's error reduction without BN", "with BN"), **PCT)
  if dropout_helps is not True:  # no gain beyond the noise without BN: nothing for BN to replace
    verdict = (None, f"{verdict[1]}; NOT TESTED: dropout does not lower the plain net's error beyond "
                     "the seed noise at this budget")
  return Claim(
      "Ioffe & Szegedy 2015, Sec. 3.4 (with BN, dropout 'can be either removed or reduced in strength')",
      "with BN, dropout lowers the recipe net's test error less than it does without BN", *verdict,
      criterion="per-seed (no-dropout - dropout) test error, without BN minus with BN, > the larger seed std; "
                "tested only where dropout lowers the plain net's error beyond its noise (a stated argument: "
                "else there is no gain for BN to take over)")


def _recompute_gains(members: Rows) -> list[float]:
  return [r["test_acc_recomputed_bn"] - r["test_acc"] for r in members if "test_acc_recomputed_bn" in r]


def variance_shift_claim(rows: Rows, nets: list[str]) -> Claim:
  # The control is the same BN layer in the no-dropout `bn` replicas: its running averages lag the
  # weights too (a short run), so only a shift beyond the control's is dropout's variance shift.
  parts: list[Verdict] = []
  for net in nets:
    both = [r for r in _at(rows, net, "both") if "variance_shift" in r]
    control = [r for r in _at(rows, net, "bn") if "variance_shift" in r]
    layers = [layer for layer in (both[0]["variance_shift"] if both else {}) if after_dropout(layer)]
    for layer in layers:
      parts.append(exceeds([r["variance_shift"][layer]["mean_ratio"] for r in both],
                           [r["variance_shift"][layer]["mean_ratio"] for r in control
                            if layer in r["variance_shift"]],
                           names=(f"{net}/{layer} running/test var: dropout", "no dropout"), digits=3))
    if layers:
      parts.append(exceeds(_recompute_gains(both), _recompute_gains(control),
                           names=(f"{net} test acc gain from recomputing BN stats: dropout", "no dropout"), **PCT))
  return Claim(
      "Li et al. 2019, variance shift",
      "with dropout before BN, the running variance exceeds the test-time variance, and recomputing BN "
      "statistics in test mode recovers more accuracy than it does without dropout",
      *(all_of(*parts) if parts else (None, "no BN layer with dropout upstream")),
      criterion="per BN layer after a dropout: its running/test variance ratio, and per net the test acc gain "
                "from recomputing, above the no-dropout replicas' by more than the larger seed std (a stated "
                "argument: the no-dropout replicas measure the running averages' lag, which is not the shift)")
