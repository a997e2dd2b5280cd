"""The study's claims, decided on seed means beyond the seed noise (`jaxdl.report.verdicts`), or NOT TESTED."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from jaxdl.report.claims import Claim
from jaxdl.report.verdicts import exceeds

GATED = "Karpathy 2015, The Unreasonable Effectiveness of Recurrent Neural Networks; the lectures (gated cells " \
        "carry information further back than a tanh RNN)"
TEMPERATURE = "Karpathy 2015 (sampling: a lower temperature gives likelier but more repetitive text, a higher " \
              "one more diverse text with more mistakes)"


def gated_claims(final_bpc: Mapping[str, Sequence[float]], params: Mapping[str, int], steps: int) -> list[Claim]:
  """final_bpc[cell]: per seed, the held-out bits per character after the last epoch."""
  out = []
  for gated, label in (("lstm", "LSTM"), ("gru", "GRU")):
    out.append(Claim(
        GATED, f"at the same parameter count and steps, the {label} reaches a lower held-out loss than the vanilla "
               "(tanh) RNN",
        *exceeds(final_bpc["tanh"], final_bpc[gated], names=("tanh RNN", label), digits=3, unit=" bits/char"),
        criterion=f"tanh - {label} held-out bits/char after {steps} steps > the larger seed std (the direction the "
                  f"source gives; parameters: tanh {params['tanh']:,}, {label} {params[gated]:,})"))
  return out


def temperature_claims(samples: Sequence[Sequence[Mapping[str, Any]]], ngram: int) -> list[Claim]:
  """samples[replica][i]: 'temperature', 'distinct' for each temperature, ascending."""
  temps = [s["temperature"] for s in samples[0]]
  distinct = {t: [rep[i]["distinct"] for rep in samples] for i, t in enumerate(temps)}
  out = []
  for low, high in zip(temps, temps[1:]):
    out.append(Claim(
        TEMPERATURE, f"text sampled at temperature {high:g} is less repetitive than at {low:g}",
        *exceeds(distinct[high], distinct[low], names=(f"distinct {ngram}-grams at T={high:g}", f"T={low:g}"),
                 scale=100, digits=1, unit="%"),
        criterion=f"distinct-{ngram}-gram fraction of the generated text at T={high:g} minus at T={low:g} > the "
                  "larger seed std (one sample per trained LSTM seed; our measure of repetitiveness)"))
  return out
