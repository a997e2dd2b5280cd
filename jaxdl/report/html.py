"""One self-contained HTML report of every study: verdicts, tables and figures, navigable by study.

Drawn from the same report.json documents as the markdown pages (`jaxdl.report.pages`).
Self-contained: the style is inline and every figure is embedded as a data URI, so the
file can be copied off a cluster, mailed or opened from disk with nothing beside it.
No scripts: the page is static.
"""
from __future__ import annotations

import base64
import html
import mimetypes
import os
from typing import Any, Callable, Mapping, Sequence

from jaxdl.report import pages

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; color: #222; }
nav { position: fixed; top: 0; left: 0; bottom: 0; width: 15rem; overflow-y: auto; padding: 1rem;
      background: #f4f4f6; border-right: 1px solid #ddd; box-sizing: border-box; }
nav a { display: block; margin: 0.3rem 0; color: #124; text-decoration: none; }
nav .counts { color: #666; font-size: 0.8rem; }
main { margin-left: 16rem; padding: 1rem 2rem; max-width: 80rem; }
section { border-bottom: 2px solid #ccc; padding-bottom: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.85rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; vertical-align: top; text-align: left; }
th { background: #f0f0f0; }
td.HELD { background: #dff3e0; font-weight: bold; }
td.NOT-HELD { background: #fbe0e0; font-weight: bold; }
td.NOT-TESTED { background: #eeeeee; font-weight: bold; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 0.8rem; color: #555; }
.run { font-size: 0.85rem; color: #333; }
"""


def data_uri(path: str) -> str:
  """The file as a data: URI (its type from its name)."""
  kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
  with open(path, "rb") as f:
    return f"data:{kind};base64,{base64.b64encode(f.read()).decode('ascii')}"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], cell_class: Callable[[int, str], str] | None = None
           ) -> str:
  head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
  body = "".join(
      "<tr>" + "".join(f"<td{_class(cell_class, j, str(v))}>{html.escape(str(v))}</td>" for j, v in enumerate(row))
      + "</tr>" for row in rows)
  return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _class(cell_class: Callable[[int, str], str] | None, column: int, value: str) -> str:
  name = cell_class(column, value) if cell_class else ""
  return f' class="{name}"' if name else ""


def _verdict_class(column: int, value: str) -> str:
  return value.replace(" ", "-") if column == 1 else ""


def study_section(doc: Mapping[str, Any], figure_path: Callable[[str], str]) -> str:
  """One study's section; `figure_path(name)` is the file of its figure `name`."""
  run, anchor = doc.get("run", {}), html.escape(doc["study"])
  parts = [f'<section id="{anchor}"><h2>{html.escape(doc["title"])}</h2>',
           '<ul class="run">',
           f"<li>variant {html.escape(str(doc.get('variant')))}; command <code>"
           f"{html.escape(pages.command_text(run))}</code></li>",
           f"<li>{html.escape(pages.commits_text(doc).replace('`', ''))}</li>",
           f"<li>hardware: {html.escape(pages.hardware(run))}</li>",
           f"<li>time: {html.escape(pages.time_text(doc['cells']))}</li>",
           f"<li>versions: {html.escape(pages.versions_text(run))}</li></ul>",
           f"<h3>Verdicts: {html.escape(pages.counts_text(doc['claims']))} (HELD / NOT HELD / NOT TESTED)</h3>",
           _table(pages.CLAIM_HEADER, pages.claim_rows(doc["claims"]), _verdict_class)]
  for table in doc["tables"]:
    parts += [f"<h3>{html.escape(table['title'])}</h3>", _table(table["header"], table["rows"])]
  for name in doc["figures"]:
    parts.append(f'<figure><img src="{data_uri(figure_path(name))}" alt="{html.escape(name)}">'
                 f"<figcaption>{html.escape(name)}</figcaption></figure>")
  return "\n".join(parts) + "</section>"


def report_page(docs: Sequence[Mapping[str, Any]], figure_dirs: Mapping[str, str], title: str) -> str:
  """The whole report: a navigation bar, then one section per study (`figure_dirs[study]` holds its figures)."""
  nav = "".join(f'<a href="#{html.escape(d["study"])}">{html.escape(d["title"])}<br>'
                f'<span class="counts">{html.escape(pages.counts_text(d["claims"]))}</span></a>' for d in docs)
  sections = "\n".join(study_section(d, lambda name, d=d: os.path.join(figure_dirs[d["study"]], name))
                       for d in docs)
  return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
          f"<style>{_STYLE}</style></head>\n<body><nav><strong>{html.escape(title)}</strong>"
          f'<p class="counts">verdicts: HELD / NOT HELD / NOT TESTED</p>{nav}</nav>\n<main><h1>'
          f"{html.escape(title)}</h1>\n{sections}\n</main></body></html>\n")
