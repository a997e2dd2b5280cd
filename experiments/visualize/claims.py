"""The study's claims, decided over the seeds (each seed a trained CNN) beyond the seed noise, or NOT TESTED."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from jaxdl.report.claims import Claim
from jaxdl.report.verdicts import beyond, exceeds

# Ours, fixed before the run: a map "differs" from the randomized model's when their mean Spearman rank
# correlation is below 0.5, and "stays similar" above it.
SIMILAR = 0.5
ADEBAYO = "Adebayo et al. 2018, Sanity checks for saliency maps (model randomization test)"
# Adebayo et al.'s findings: the gradient map changes with the weights; guided back-propagation's barely does.
EXPECTED_TO_CHANGE = {"gradient": True, "guided": False, "occlusion": True}
# A class probability this close to 1 in both arms leaves nothing to compare (added after the first quick
# run, where both arms scored 100.0%: BUILD_NOTES, "Seeing inside a trained CNN").
CEILING = 0.99
METHOD_LABELS = {"gradient": "the gradient (saliency) map", "guided": "guided back-propagation",
                 "occlusion": "occlusion sensitivity"}


def sanity_claims(replicas: Sequence[Mapping[str, Any]], dataset: str) -> list[Claim]:
  out = []
  for method, changes in EXPECTED_TO_CHANGE.items():
    values = [r["spearman_vs_randomized"][method] for r in replicas]
    verb = "changes" if changes else "stays similar"
    source = ADEBAYO + (" (passes)" if changes else " (guided back-propagation fails: its maps barely depend "
                                                      "on the weights)")
    out.append(Claim(source, f"on {dataset}, {METHOD_LABELS[method]} {verb} when the weights are randomized",
                     *beyond(values, SIMILAR, above=not changes, name="mean Spearman correlation, trained vs "
                                                                       "randomized", digits=3),
                     criterion=f"correlation {'<' if changes else '>'} {SIMILAR:g} beyond the seed std (ours, fixed "
                               "before the run; the paper's figures show the direction)"))
  return out


def deletion_claim(replicas: Sequence[Mapping[str, Any]], fractions: Sequence[float], dataset: str) -> Claim:
  """At the second fraction (10% in quick): random minus salient deletion's true-class probability."""
  i = min(1, len(fractions) - 1)
  salient = [r["deletion"]["salient"][i] for r in replicas]
  random = [r["deletion"]["random"][i] for r in replicas]
  return Claim("Simonyan et al. 2014 (the gradient map marks the pixels the class score depends on); the deletion "
               "test of Samek et al. 2017", f"on {dataset}, removing the most salient {100 * fractions[i]:g}% of the "
               "pixels lowers the true-class probability more than removing as many random pixels",
               *exceeds(random, salient, names=("probability after random deletion", "after salient deletion"),
                        scale=100, digits=1, unit="%"),
               criterion="random - salient mean true-class probability > the larger seed std")


def maximization_claim(replicas: Sequence[Mapping[str, Any]], noise_std: float, dataset: str) -> Claim:
  reg = [r["maximized_noisy_probability"]["regularized"] for r in replicas]
  plain = [r["maximized_noisy_probability"]["plain"] for r in replicas]
  held, measured = exceeds(reg, plain, names=("regularized", "plain"), scale=100, digits=1, unit="%")
  if min(np.mean(reg), np.mean(plain)) > CEILING:  # a probability at its ceiling cannot rank the two
    held, measured = None, measured + f"; both arms above {100 * CEILING:g}%: at the ceiling, NOT TESTED"
  return Claim("Yosinski et al. 2015 (regularized activation maximization gives more natural, robust images)",
               f"on {dataset}, class images maximized with the regularizers keep a higher class probability under "
               f"input noise (std {noise_std:g}) than those maximized without",
               held, measured,
               criterion="regularized - plain mean class probability under noise > the larger seed std (our test of "
                         f"robustness; the paper judges interpretability by eye); NOT TESTED when both exceed "
                         f"{100 * CEILING:g}%")


def all_claims(measured: Mapping[str, Sequence[Mapping[str, Any]]], fractions: Sequence[float],
               noise_std: float) -> list[Claim]:
  out = []
  for dataset, replicas in measured.items():
    out += sanity_claims(replicas, dataset)
    out.append(deletion_claim(replicas, fractions, dataset))
    out.append(maximization_claim(replicas, noise_std, dataset))
  return out
