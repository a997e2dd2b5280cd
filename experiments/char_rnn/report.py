"""The study's report, from the cell records alone: the loss table, the samples, the verdicts, one figure."""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
from ml_collections import ConfigDict

from experiments.char_rnn import claims
from experiments.char_rnn.cells import cell_name, vocab_size
from jaxdl.models.char_rnn import parameter_count
from jaxdl.report import plots, tables
from jaxdl.report.tables import Table
from jaxdl.study import CellRecord, Report

BITS = 1 / np.log(2)  # nats -> bits
LABELS = {"tanh": "tanh RNN", "lstm": "LSTM", "gru": "GRU"}
# Reference points, each in its own setting (same text and 90/10 split; losses in nats per character).
REFERENCES = (
    ("nanoGPT README: 6-layer transformer, 384 wide, 256-character context, about 3 minutes on an A100", 1.4697),
    ("nanoGPT README: its CPU setting (4 layers, 128 wide, 64-character context, 2000 steps, 0.8 M parameters)",
     1.88),
)


def report(config: ConfigDict, records: Mapping[str, CellRecord], out: Report) -> None:
  cells = list(config.models.cells)
  rows = {c: loss_row(records[cell_name(c)]) for c in cells}
  reference = records[cell_name(config.models.reference_cell)].measurements
  out.table(f"Tiny Shakespeare, held-out loss after {rows[cells[0]]['steps']} steps of batch "
            f"{config.train.batch_size} x {config.train.data_options.seq_len} characters "
            f"(Adam {config.train.optim.lr:g}, clip {config.train.optim.clip_norm:g}; mean ± std over seeds)",
            *loss_table(rows))
  out.table("Published character-level losses on the same text and split (their settings, not ours)",
            *reference_table())
  out.table(f"Samples from the LSTM (seed {config.seed_offset}) after {reference['prompt']!r}",
            *sample_table(reference))
  out.table("Repetitiveness of the samples (generated part; mean ± std over seeds)", *diversity_table(reference))
  steps = rows[cells[0]]["steps"]
  out.claims([*claims.gated_claims({c: rows[c]["final_bpc"] for c in cells}, {c: rows[c]["params"] for c in cells},
                                   steps),
              *claims.temperature_claims(reference["replicas"], reference["ngram"])])
  out.figure("heldout_bits_per_char.png", plot_curves, rows)


def loss_row(record: CellRecord) -> dict[str, Any]:
  """The cell's held-out loss curve in bits per character [epochs, seeds], its steps and parameter count."""
  curve = BITS * record.curve("test_loss")
  steps = [h["step"] for h in record.history if "train_loss" in h]
  opts = record.config["model_options"]
  params = parameter_count(vocab_size(), opts["cell"], opts["hidden_size"], opts["layers"], opts["embed_size"])
  return {"curve": curve.tolist(), "steps_at": steps, "steps": steps[-1], "final_bpc": curve[-1].tolist(),
          "train_bpc": (BITS * record.curve("train_loss")[-1]).tolist(), "hidden": opts["hidden_size"],
          "params": params}


def loss_table(rows: Mapping[str, Mapping[str, Any]]) -> Table:
  header = ["cell", "hidden units", "parameters", "held-out bits/char", "held-out nats/char", "train bits/char"]
  body = [[LABELS[c], str(r["hidden"]), f"{r['params']:,}", tables.mean_std_text(r["final_bpc"], digits=3),
           tables.mean_std_text(np.asarray(r["final_bpc"]) / BITS, digits=3),
           tables.mean_std_text(r["train_bpc"], digits=3)] for c, r in rows.items()]
  return header, body


def reference_table() -> Table:
  return (["setting", "held-out nats/char", "bits/char"],
          [[setting, f"{nats}", f"{nats * BITS:.3f}"] for setting, nats in REFERENCES])


def sample_table(measurements: Mapping[str, Any]) -> Table:
  first = measurements["replicas"][0]
  return (["temperature", "sample (first 160 characters; newlines as ⏎)"],
          [[f"{s['temperature']:g}", "`" + s["text"][:160].replace("\n", "⏎").replace("`", "'") + "`"]
           for s in first])


def diversity_table(measurements: Mapping[str, Any]) -> Table:
  reps, n = measurements["replicas"], measurements["ngram"]
  header = ["temperature", f"distinct {n}-grams (%)", "character entropy (bits)"]
  body = []
  for i, s in enumerate(reps[0]):
    body.append([f"{s['temperature']:g}", tables.mean_std_text([r[i]["distinct"] for r in reps], scale=100, digits=1),
                 tables.mean_std_text([r[i]["entropy_bits"] for r in reps], digits=2)])
  return header, body


def plot_curves(path: str, rows: Mapping[str, Mapping[str, Any]]) -> None:
  """Held-out bits per character after each epoch, by step: seed mean, the seeds' range shaded."""
  fig, ax = plots.plt.subplots(figsize=(6.5, 4.2))
  for cell, r in rows.items():
    curve, steps = np.asarray(r["curve"], float), np.asarray(r["steps_at"])
    line, = ax.plot(steps, curve.mean(1), marker="o", ms=3, label=f"{LABELS[cell]} ({r['params']:,} parameters)")
    ax.fill_between(steps, curve.min(1), curve.max(1), color=line.get_color(), alpha=0.15)
  ax.set_xlabel("training step")
  ax.set_ylabel("held-out loss (bits per character)")
  ax.set_title("Tiny Shakespeare: tanh RNN vs LSTM vs GRU at equal parameters", fontsize=10)
  plots.outside_legend(ax, fontsize=8)
  plots.save(fig, path, outside_legends=True)
