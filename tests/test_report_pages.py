"""The results a reader sees: report.json, the per-study pages regenerated from it, the HTML report
(loaded in a real headless Chromium where one is installed)."""
from __future__ import annotations

import json
import os

import pytest

from conftest import REPO, run_module
from experiments import report as report_cli
from jaxdl.report import html, pages

STUDY = "tests.study_fixture"
CONFIG = "--config=tests/study_fixture/config.py:smoke"
CHECKED_IN = os.path.join(REPO, "docs", "studies")


@pytest.fixture(scope="module")
def study_run(tmp_path_factory):
  """The fixture study, run into <root>/study_fixture as run_all lays studies out."""
  root = tmp_path_factory.mktemp("report")
  workdir = root / "study_fixture"
  run_module(STUDY, CONFIG, f"--workdir={workdir}", check=True)
  return str(root), str(workdir)


def test_report_json_holds_results_settings_provenance_and_time(study_run):
  _, workdir = study_run
  doc = json.load(open(os.path.join(workdir, "report.json")))
  assert doc["study"] == "study_fixture" and doc["variant"] == "smoke"
  assert [c["text"] for c in doc["claims"]] == ["the larger lr reaches a higher test accuracy"]
  assert doc["tables"][0]["title"] == "test accuracy" and doc["tables"][0]["rows"][0][0] == "lr_small"
  assert doc["figures"] == ["accuracies.png"] and os.path.isfile(os.path.join(workdir, "accuracies.png"))
  assert doc["config"]["lr"] > 0
  assert doc["run"]["host"]["cores"] >= 1
  assert "tests.study_fixture" in doc["run"]["command"]
  cells = doc["cells"]
  assert [c["name"] for c in cells["by_cell"]] == ["lr_small", "lr_large", "accuracies"]
  assert cells["timed"] == 3 and cells["seconds"] > 0 and all(c["runs"] == 1 for c in cells["by_cell"])
  assert cells["seconds"] == pytest.approx(sum(c["seconds"] for c in cells["by_cell"]), abs=0.01)
  assert doc["report"]["report_only"] is False


def test_report_only_keeps_the_run_and_says_it_remade_the_report(study_run):
  _, workdir = study_run
  before = json.load(open(os.path.join(workdir, "report.json")))
  run_module(STUDY, "--report_only", f"--workdir={workdir}", check=True)
  after = json.load(open(os.path.join(workdir, "report.json")))
  assert after["report"]["report_only"] is True
  assert after["run"] == before["run"] and after["cells"] == before["cells"] and after["claims"] == before["claims"]


def test_pages_are_written_and_regenerate_unchanged(study_run, tmp_path):
  root, _ = study_run
  out = tmp_path / "pages"
  run_module("experiments.report", f"--workdir={root}", f"--pages={out}", check=True)
  page = (out / "study_fixture.md").read_text()
  assert "| 1 | **HELD** | the larger lr reaches a higher test accuracy |" in page
  assert "![accuracies.png](study_fixture/accuracies.png)" in page
  assert (out / "study_fixture" / "accuracies.png").is_file() and (out / "study_fixture" / "report.json").is_file()
  assert "| [study_fixture](study_fixture.md) | 1 / 0 / 0 |" in (out / "README.md").read_text()
  assert (tmp_path / "pages").exists() and os.path.isfile(os.path.join(root, "index.html"))
  assert run_module("experiments.report", f"--check_pages={out}").returncode == 0
  # A page edited by hand (or made by older code) no longer matches its report.json.
  (out / "study_fixture.md").write_text(page.replace("HELD", "NOT HELD"))
  stale = run_module("experiments.report", f"--check_pages={out}")
  assert stale.returncode == 1 and "study_fixture.md" in stale.stderr


def test_report_of_an_empty_directory_is_a_clear_error(tmp_path):
  proc = run_module("experiments.report", f"--workdir={tmp_path}")
  assert proc.returncode == 2 and "has made its report (report.json)" in proc.stderr


def test_checked_in_pages_match_their_saved_results():
  """docs/studies/<study>.md, docs/studies/README.md and the README's table are what the saved
  report.json files give, and every figure a page shows is there."""
  assert report_cli.stale_pages(CHECKED_IN, readme=os.path.join(REPO, "README.md")) == []
  for directory, doc in report_cli.studies(CHECKED_IN):
    for name in doc["figures"]:
      assert os.path.isfile(os.path.join(directory, name)), f"{doc['study']}: figure {name} is missing"


def test_page_renders_missing_timing_and_escapes_pipes():
  doc = {"study": "s", "title": "S", "variant": "quick", "config": {"a": 1}, "run": {}, "figures": [],
         "report": {"commit": "abcdef0123", "report_only": True},
         "cells": {"count": 2, "timed": 0, "seconds": None, "compile_seconds": None, "programs": None,
                   "commits": [], "by_cell": [{"name": "c", "seconds": None, "compile_seconds": None,
                                               "programs": None, "runs": None, "commit": None}]},
         "claims": [{"held": None, "text": "a | b", "source": "p", "measured": "x", "criterion": "y"}],
         "tables": [{"title": "t", "header": ["h"], "rows": [["1|2"]]}]}
  page = pages.study_page(doc, "s")
  assert pages.command_text({"command": "python /x/y/experiments/init_study/__main__.py --a=1"}) == (
      "python -m experiments.init_study --a=1")
  assert "2 cells; their time was not recorded" in page and "report remade at `abcdef0`" in page
  assert "a \\| b" in page and "1\\|2" in page and "**NOT TESTED**" in page
  assert "<td class=\"NOT-TESTED\">NOT TESTED</td>" in html.study_section(doc, lambda name: name)
  readme = f"intro\n{pages.README_START}\nold table\n{pages.README_END}\nrest\n"
  assert pages.with_readme_table(readme, "new table\n") == (
      f"intro\n{pages.README_START}\nnew table\n{pages.README_END}\nrest\n")
  with pytest.raises(ValueError, match="markers"):
    pages.with_readme_table("no markers", "table")


def _browser():
  """(chromium, chromedriver) paths, or a reason to skip."""
  for path in ("/usr/bin/chromium", "/usr/bin/chromedriver"):
    if not os.path.exists(path):
      pytest.skip(f"no {path}: install Debian's chromium and chromium-driver (.ci/run does) to load the report")
  pytest.importorskip("selenium", reason="selenium (the test extra) drives the browser")
  return "/usr/bin/chromium", "/usr/bin/chromedriver"


def test_html_report_loads_in_a_headless_browser(tmp_path):
  """The report of every study's checked-in results opens in Chromium with no console error, every
  figure decoded, one section and link per study; a screenshot."""
  chromium, chromedriver = _browser()
  from selenium import webdriver
  from selenium.webdriver.chrome.service import Service
  page = tmp_path / "index.html"
  run_module("experiments.report", f"--workdir={CHECKED_IN}", f"--html={page}", check=True)
  found = report_cli.studies(CHECKED_IN)
  options = webdriver.ChromeOptions()
  options.binary_location = chromium
  for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,1000"):
    options.add_argument(flag)
  options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
  driver = webdriver.Chrome(service=Service(chromedriver), options=options)
  try:
    driver.get(page.as_uri())
    images = driver.execute_script(
        "return Array.from(document.images).map(i => [i.alt, i.complete && i.naturalWidth > 0]);")
    sections = driver.execute_script("return Array.from(document.querySelectorAll('section')).map(s => s.id);")
    links = driver.execute_script("return document.querySelectorAll('nav a').length;")
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    shot = tmp_path / "report.png"
    driver.save_screenshot(str(shot))
  finally:
    driver.quit()
  assert errors == []
  assert sections == [doc["study"] for _, doc in found] and links == len(found)
  expected = sum(len(doc["figures"]) for _, doc in found)
  assert len(images) == expected and all(ok for _, ok in images), [alt for alt, ok in images if not ok]
  assert shot.stat().st_size > 10_000
