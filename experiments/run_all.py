"""The main job: every study's config variant in turn, their tables and verdicts collected.

  python -m experiments.run_all --variant=quick
  python -m experiments.run_all --variant=quick --overrides=--config.dataset=fashion_mnist

Each study runs as its own process (`python -m experiments.<name>
--config=experiments/<name>/config.py:<variant> --workdir=<root>/<name>`), so
one study's failure is reported and the others still run; `experiments.train`
runs its preset of the same name. Studies resume from their cell
directories, so running the same command again after a kill continues where
it stopped (finished cells are not trained again). The collected tables and
claim verdicts go to `<root>/SUMMARY.md` and are printed, the HTML report of every
study to `<root>/index.html` (`experiments.report`); the exit code is
non-zero if any study failed. SIGTERM or SIGINT to run_all (e.g. from `timeout`)
is passed on to the running study, which checkpoints and exits; run_all then
exits 3 (interrupted) without starting the next study.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from absl import app, flags

import experiments

from experiments import common
from experiments.common import EXIT_INTERRUPTED, parse_flags, show_in_help
from jaxdl.report import pages

# The single training run first (its preset of the variant's name), then every study.
STUDIES = ["train", *experiments.STUDIES]

flags.DEFINE_enum("variant", "quick", ["smoke", "quick", "full"], "Config variant of every study.")
flags.DEFINE_string("workdir", "runs/all", "Root: each study writes <workdir>/<variant>/<study>.")
flags.DEFINE_list("only", [], f"Run only these studies (default all): {', '.join(STUDIES)}.")
flags.DEFINE_list("overrides", [], "Config overrides for every study (not experiments.train), e.g. "
                  "--config.dataset=fashion_mnist.")
FLAGS = flags.FLAGS


class ChildStopper:
  """Passes SIGTERM and SIGINT on to the running study and remembers that run_all was stopped.

  The study stays in run_all's process group, so that a kill of the group (`timeout -k`,
  a scheduler) ends it too; a signal sent to the group (Ctrl-C, `timeout`) then reaches it
  twice, which the study's handler takes as one.
  """

  def __init__(self):
    self.child: subprocess.Popen | None = None
    self.stopped_by: int | None = None
    for signum in (signal.SIGTERM, signal.SIGINT):
      signal.signal(signum, self._forward)

  def _forward(self, signum: int, frame) -> None:
    del frame
    self.stopped_by = signum
    if self.child is not None and self.child.poll() is None:
      self.child.send_signal(signum)

  def run(self, cmd: list[str]) -> int:
    self.child = subprocess.Popen(cmd, stdout=sys.stdout, stderr=sys.stderr)
    if self.stopped_by is not None:  # stopped while the child was starting
      self.child.send_signal(self.stopped_by)
    try:
      return self.child.wait()
    finally:
      self.child = None


def run_study(name: str, root: str, stopper: ChildStopper) -> tuple[int, float, str]:
  workdir = os.path.join(root, name)
  if name == "train":  # a single run: its preset of the variant's name (smoke is quick's size)
    args = [f"--preset={'quick' if FLAGS.variant == 'smoke' else FLAGS.variant}"]
  else:
    args = [f"--config=experiments/{name}/config.py:{FLAGS.variant}", *FLAGS.overrides]
  if FLAGS["compilation_cache_dir"].present:
    args.append(f"--compilation_cache_dir={FLAGS.compilation_cache_dir}")
  cmd = [sys.executable, "-m", f"experiments.{name}", *args, f"--workdir={workdir}"]
  print(f"\n=== {name}: {' '.join(cmd[1:])}", flush=True)
  start = time.time()
  code = stopper.run(cmd)
  return code, time.time() - start, workdir


def verdict_counts(claims: list[dict]) -> str:
  """e.g. "5 HELD, 1 NOT HELD, 2 NOT TESTED"."""
  return ", ".join(f"{n} {text}" for text, n in pages.verdict_counts(claims).items())


def study_summary(name: str, code: int, seconds: float, workdir: str) -> str:
  lines = [f"## {name} ({'ok' if code == 0 else f'FAILED, exit {code}'}, {seconds:.0f} s)", ""]
  table = os.path.join(workdir, "table.md")
  if os.path.exists(table):
    lines += [open(table).read(), ""]
  claims = os.path.join(workdir, "claims.json")
  if os.path.exists(claims):
    claims = json.load(open(claims))
    lines += [f"Verdicts: {verdict_counts(claims)}", ""]
    for c in claims:
      verdict = pages.verdict(c)
      criterion = f" -- criterion: {c['criterion']}" if c.get("criterion") else ""
      lines.append(f"- {verdict}: {c['text']} [{c['source']}] -- {c['measured']}{criterion}")
  return "\n".join(lines) + "\n"


def main(argv):
  del argv
  unknown = sorted(set(FLAGS.only) - set(STUDIES))
  if unknown:
    print(f"error: unknown --only studies {', '.join(unknown)}; valid: {', '.join(STUDIES)}", file=sys.stderr)
    sys.exit(2)
  root = os.path.join(FLAGS.workdir, FLAGS.variant)
  os.makedirs(root, exist_ok=True)
  stopper = ChildStopper()
  sections, failed = [], []
  for name in FLAGS.only or STUDIES:
    code, seconds, workdir = run_study(name, root, stopper)
    if stopper.stopped_by is not None:
      print(f"run_all: stopped by {signal.Signals(stopper.stopped_by).name}; {name} exited {code}; "
            "run the same command again to resume", file=sys.stderr)
      sys.exit(EXIT_INTERRUPTED)
    sections.append(study_summary(name, code, seconds, workdir))
    if code:
      failed.append(name)
  summary = f"# jaxdl: all studies, variant {FLAGS.variant}\n\n" + "\n".join(sections)
  with open(os.path.join(root, "SUMMARY.md"), "w") as f:
    f.write(summary)
  print("\n" + summary)
  print(f"summary written to {os.path.join(root, 'SUMMARY.md')}")
  # The HTML report of every study that made its report (a failed one is left out, and said so above).
  reported = [name for name in FLAGS.only or STUDIES if name != "train" and name not in failed]
  if reported and subprocess.run(
      [sys.executable, "-m", "experiments.report", f"--workdir={root}"]).returncode:
    failed.append("report")
  if failed:
    sys.exit(f"error: {len(failed)} study(ies) failed: {', '.join(failed)}")


if __name__ == "__main__":
  show_in_help([common])  # --compilation_cache_dir, passed on to every study
  app.run(main, flags_parser=parse_flags)
