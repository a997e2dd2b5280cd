"""Tables of mean +/- std over replicas, written as markdown, CSV and JSON.

A row is a dict of plain values. `summarize` groups rows (e.g. replicas with
the same learning rate) and reduces each metric to mean, std and count over
the finite values; a non-finite value (a diverged replica) is counted apart,
never averaged in.
"""
from __future__ import annotations

import csv
import io
import math
from typing import Any, Iterable, Sequence

# A table as the reports pass it around: (header, rows).
Table = tuple[list[str], list[list[Any]]]


def _finite(values: Iterable[Any]) -> list[float]:
  out = []
  for v in values:
    if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
      out.append(float(v))
  return out


def mean_std(values: Iterable[Any]) -> tuple[float, float, int]:
  """Mean, sample std (0 for one value) and count of the finite values."""
  xs = _finite(values)
  if not xs:
    return math.nan, math.nan, 0
  mean = sum(xs) / len(xs)
  std = math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
  return mean, std, len(xs)


def format_mean_std(mean: float, std: float, n: int, scale: float = 1.0, digits: int = 2) -> str:
  if n == 0:
    return "diverged"
  if n == 1:
    return f"{mean * scale:.{digits}f}"
  return f"{mean * scale:.{digits}f} ± {std * scale:.{digits}f}"


def mean_std_text(values: Iterable[Any], scale: float = 1.0, digits: int = 2) -> str:
  """"mean ± std" over the finite values (scaled, e.g. 100 for %); "diverged" if there are none."""
  return format_mean_std(*mean_std(values), scale=scale, digits=digits)


def summarize(rows: Sequence[dict[str, Any]], group_by: Sequence[str],
              metrics: Sequence[str]) -> list[dict[str, Any]]:
  """One dict per group (in first-seen order): the group keys, `n`, and per metric
  `<m>_mean`, `<m>_std`, `<m>_n` over the group's finite values."""
  groups: dict[tuple, list[dict[str, Any]]] = {}
  for row in rows:
    groups.setdefault(tuple(row.get(k) for k in group_by), []).append(row)
  out = []
  for key, members in groups.items():
    summary = dict(zip(group_by, key))
    summary["n"] = len(members)
    for m in metrics:
      mean, std, n = mean_std(r.get(m) for r in members)
      summary.update({f"{m}_mean": mean, f"{m}_std": std, f"{m}_n": n})
    out.append(summary)
  return out


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
  lines = ["| " + " | ".join(map(str, header)) + " |",
           "|" + "|".join("---" for _ in header) + "|"]
  lines += ["| " + " | ".join(map(str, r)) + " |" for r in rows]
  return "\n".join(lines) + "\n"


def csv_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
  buf = io.StringIO()
  writer = csv.writer(buf)
  writer.writerow(header)
  writer.writerows(rows)
  return buf.getvalue()
