"""The studies' results for a reader: one HTML file, and a markdown page per study.

  python -m experiments.report --workdir=runs/all/quick                     # runs/all/quick/index.html
  python -m experiments.report --workdir=runs/all/quick --pages=docs/studies --readme=README.md
  python -m experiments.report --check_pages=docs/studies --readme=README.md  # they match their report.json

--workdir is a study's directory or a directory of them (run_all's <root>/<variant>); every
study in it that has made its report (report.json) is taken, in run_all's order. `index.html`
is self-contained (figures embedded), one section per study. `--pages=DIR` copies each
study's report.json and figures to DIR/<study>/ and writes DIR/<study>.md from them, and
DIR/README.md (one row per claim of every study), and with `--readme` the README's table of
the studies (between its markers); `--check_pages=DIR` regenerates those pages from the
report.json files in DIR and fails if any page would change. run_all writes the HTML report
at its end.
"""
from __future__ import annotations

import os
import shutil
import sys

from absl import app, flags

from experiments import STUDIES
from experiments.common import parse_flags, run_cleanly
from jaxdl.errors import UserError
from jaxdl.report import html, pages
from jaxdl.report.rundir import write_atomic
from jaxdl.study.records import read_json
from jaxdl.study.report import REPORT_JSON

INDEX = "README.md"
HTML = "index.html"

flags.DEFINE_string("workdir", None, "A study's directory, or a directory of studies (e.g. runs/all/quick).")
flags.DEFINE_string("html", None, "Where to write the HTML report (default: <workdir>/index.html; '' = none).")
flags.DEFINE_string("pages", None, "Also write the markdown pages (and copy report.json and figures) here.")
flags.DEFINE_string("check_pages", None, "Regenerate the pages in this directory from their report.json "
                    "and fail if any would change (writes nothing).")
flags.DEFINE_string("readme", None, "With --pages or --check_pages: also the README whose results-at-a-glance "
                    "table (between its markers) comes from those pages.")
FLAGS = flags.FLAGS


def read_doc(path: str) -> dict:
  remake = "remake it with the study's --report_only"
  return read_json(path, missing=remake, invalid=remake)


def studies(workdir: str) -> list[tuple[str, dict]]:
  """(directory, report.json) of every study that made its report in `workdir` or directly under it,
  in the main job's order."""
  if not os.path.isdir(workdir):
    raise UserError(f"--workdir={workdir}: no such directory")
  candidates = [workdir] + [os.path.join(workdir, d) for d in sorted(os.listdir(workdir))]
  found = [(d, read_doc(os.path.join(d, REPORT_JSON))) for d in candidates
           if os.path.isfile(os.path.join(d, REPORT_JSON))]
  if not found:
    raise UserError(f"no study in {workdir} has made its report ({REPORT_JSON}); run a study into it "
                    f"(python -m experiments.<study> --workdir=...) or its --report_only first")
  return sorted(found, key=lambda item: _order(item[1]["study"]))


def write_html(found: list[tuple[str, dict]], path: str, title: str) -> None:
  docs = [doc for _, doc in found]
  write_atomic(path, html.report_page(docs, {doc["study"]: d for d, doc in found}, title))
  print(f"HTML report: {path} ({len(docs)} studies)")


def render_pages(pages_dir: str, readme: str | None = None) -> dict[str, str]:
  """{path: text} of every page that the report.json files in `pages_dir`/<study>/ give, and of
  `readme` with its results-at-a-glance table from them."""
  docs = [doc for _, doc in studies(pages_dir)]
  out = {os.path.join(pages_dir, f"{doc['study']}.md"): pages.study_page(doc, figure_dir=doc["study"])
         for doc in docs}
  out[os.path.join(pages_dir, INDEX)] = pages.glance_page(docs, {doc["study"]: f"{doc['study']}.md" for doc in docs})
  if readme:
    relative = os.path.relpath(pages_dir, os.path.dirname(os.path.abspath(readme)))
    table = pages.readme_table(docs, {doc["study"]: f"{relative}/{doc['study']}.md" for doc in docs})
    with open(readme) as f:
      try:
        out[readme] = pages.with_readme_table(f.read(), table)
      except ValueError as e:
        raise UserError(f"{readme}: {e}") from None
  return out


def publish(found: list[tuple[str, dict]], pages_dir: str, readme: str | None = None) -> None:
  """Copies each study's report.json and figures to `pages_dir`/<study>/ and writes the pages."""
  for d, doc in found:
    target = os.path.join(pages_dir, doc["study"])
    shutil.rmtree(target, ignore_errors=True)  # figures a newer report no longer draws go too
    os.makedirs(target)
    for name in [REPORT_JSON, *doc["figures"]]:
      shutil.copy2(os.path.join(d, name), os.path.join(target, name))
  for path, text in render_pages(pages_dir, readme).items():
    write_atomic(path, text)
  print(f"pages: {pages_dir}/ ({len(found)} studies, {INDEX} at a glance)")


def stale_pages(pages_dir: str, readme: str | None = None) -> list[str]:
  """The pages in `pages_dir` (and `readme`) that differ from what their report.json gives (missing ones too)."""
  stale = []
  for path, text in render_pages(pages_dir, readme).items():
    try:
      with open(path) as f:
        if f.read() == text:
          continue
    except FileNotFoundError:
      pass
    stale.append(path)
  return stale


def main(argv: list[str]) -> int:
  if len(argv) > 1:
    raise UserError(f"unexpected arguments {argv[1:]}")
  if FLAGS.check_pages:
    stale = stale_pages(FLAGS.check_pages, FLAGS.readme)
    if stale:
      print(f"error: {len(stale)} page(s) differ from their report.json: {', '.join(stale)}; regenerate "
            f"with --pages", file=sys.stderr)
      return 1
    print(f"{FLAGS.check_pages}: every page matches its report.json")
    if not FLAGS.workdir:
      return 0
  if not FLAGS.workdir:
    raise UserError("give --workdir (a study's directory or a directory of studies) or --check_pages")
  found = studies(FLAGS.workdir)
  html_path = os.path.join(FLAGS.workdir, HTML) if FLAGS.html is None else FLAGS.html
  if html_path:
    write_html(found, html_path, f"jaxdl results: {os.path.normpath(FLAGS.workdir)}")
  if FLAGS.pages:
    publish(found, FLAGS.pages, FLAGS.readme)
  return 0


def _order(study: str) -> tuple[int, str]:
  """The main job's order; studies it does not run follow, by name."""
  return (STUDIES.index(study) if study in STUDIES else len(STUDIES), study)


if __name__ == "__main__":
  app.run(lambda argv: sys.exit(run_cleanly(lambda: main(argv))), flags_parser=parse_flags)
