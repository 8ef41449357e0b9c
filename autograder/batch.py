"""Grading a batch of submissions into a grading output folder.

Output layout (``DIR``)::

    DIR/grades.csv              otter's final_grades.csv layout, one row per submission
    DIR/results/<label>.json    Gradescope-format results.json of each submission
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from .autograder_zip import question_points
from .engines import DEFAULT_ENGINE, get_engine
from .grade_table import grades_table
from .outcome import GradingOutcome
from .submissions import Submission, discover_submissions

__all__ = ["GRADES_CSV", "RESULTS_DIR", "grade_batch", "results_file_name"]

GRADES_CSV = "grades.csv"
RESULTS_DIR = "results"
DEFAULT_TIMEOUT = 600.0
"""Seconds per submission, as Gradescope's default limit."""


def results_file_name(label: str) -> str:
    """File name of a submission's results.json under ``results/``: its label with every
    character outside ``[A-Za-z0-9._-]`` replaced by ``_``, plus ``.json``."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", label) + ".json"


def grade_batch(
    *,
    autograder_zip: Path,
    submissions: list[Path],
    out_dir: Path,
    jobs: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    engine: str = DEFAULT_ENGINE,
    progress: bool = True,
) -> pd.DataFrame:
    """Grade every submission and write ``grades.csv`` and one results.json each.

    Args:
        autograder_zip: the zip from ``gradkit build``.
        submissions: ``.ipynb`` files, Otter export zips, or folders holding them.
        out_dir: the grading output folder (created if missing).
        jobs: submissions graded at once (default: the number of CPU cores).
        timeout: wall-clock limit per submission, in seconds.
        engine: name of a registered grading engine.
        progress: show a progress bar on stderr.

    Returns:
        pandas.DataFrame: the grade table as written to ``grades.csv`` (first row: points
        possible; then one row per submission, in discovery order).

    Raises:
        FileNotFoundError: a submission path does not exist.
        autograder.autograder_zip.AutograderZipError: the zip is not an autograder zip.
        KeyError: unknown engine.
    """
    autograder_zip = Path(autograder_zip).resolve()
    points = question_points(autograder_zip)
    grader = get_engine(engine)
    found = discover_submissions([Path(p) for p in submissions])
    out_dir = Path(out_dir)
    (out_dir / RESULTS_DIR).mkdir(parents=True, exist_ok=True)
    jobs = max(1, jobs or os.cpu_count() or 1)

    def run(sub: Submission) -> GradingOutcome:
        outcome = grader.grade(sub, autograder_zip, timeout=timeout)
        _write_atomic(out_dir / RESULTS_DIR / results_file_name(sub.label), json.dumps(outcome.results, indent=2))
        return outcome

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        outcomes = list(tqdm(pool.map(run, found), total=len(found), desc="grading", unit="submission", disable=not progress))
    table = grades_table(outcomes, points)
    _write_atomic(out_dir / GRADES_CSV, table.to_csv(index=False))
    return table


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
