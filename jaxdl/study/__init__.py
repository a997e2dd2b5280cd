"""Studies: named cells (trained runs and measurements) in run directories, and their report.

A study is what a researcher launches, resumes, sends to a cluster and reads.
`Study` declares its cells and its report; `run_cells` trains or measures the
cells that are not finished (each in `<workdir>/cells/<name>/`), and
`write_report` makes tables, claims and figures from the cell directories
alone. No flags here: `experiments/scaffold.py` is the command line.
"""
from jaxdl.study.cells import Cell, MeasureCell, TrainCell
from jaxdl.study.records import CellRecord, load_records
from jaxdl.study.report import Report
from jaxdl.study.runner import CellContext, StudyInterrupted, run_cells, select_cells
from jaxdl.study.study import Study

__all__ = ["Cell", "CellContext", "CellRecord", "MeasureCell", "Report", "Study", "StudyInterrupted",
           "TrainCell", "load_records", "run_cells", "select_cells"]
