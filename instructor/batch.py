"""Grading a class: every submission in its own limited process, into a gradebook that
survives interruption, with the exports written from it.

Output folder (``DIR``)::

    DIR/gradebook.sqlite        every result, written one submission at a time
    DIR/grades.csv              otter's final_grades.csv layout, one row per submission
    DIR/students.csv            one row per student: the attempt that counts (the latest)
    DIR/results/<label>.json    Gradescope-format results.json of each submission
    DIR/feedback/<label>.md     feedback for the student (see instructor.feedback)
    DIR/report.html             the instructor's report (see instructor.report)

Re-running the same command resumes: submissions already in the gradebook with the same
file hash, autograder hash and engine are not graded again (``regrade=True`` forces it).
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import psutil
from tqdm import tqdm

from autograder.autograder_zip import question_points
from autograder.engines import DEFAULT_ENGINE, get_engine
from autograder.grade_table import grades_table
from autograder.limits import Limits
from autograder.outcome import GradingOutcome, is_completed
from autograder.review import NEEDS_REVIEW, REJECTED_STATUS, engine_status
from autograder.submissions import Submission, SubmissionError

from .discovery import discover_submissions
from .gradebook import Gradebook, GradebookRow, safe_name, sha256_bytes, sha256_file
from .lms.common import write_text_atomic
from .lms.names import parse_submission_name

__all__ = ["BatchSummary", "GRADES_CSV", "RESULTS_DIR", "STUDENTS_CSV", "grade_batch", "results_file_name", "safe_name", "students_table", "write_exports"]

GRADES_CSV = "grades.csv"
STUDENTS_CSV = "students.csv"
RESULTS_DIR = "results"


def results_file_name(label: str) -> str:
    """File name of a submission's results.json under ``results/``: ``safe_name(label) + ".json"``."""
    return safe_name(label) + ".json"


@dataclass
class BatchSummary:
    """What one ``grade_batch`` run did.

    Attributes:
        table: the grade table as written to grades.csv (first row: points possible).
        graded: labels graded in this run.
        reused: labels taken from the gradebook unchanged.
        out_dir: the output folder.
        skipped: files in the given folders that are not submissions (not notebooks or
            zips, and not named by an LMS download).
    """

    table: pd.DataFrame
    graded: list[str]
    reused: list[str]
    out_dir: Path
    skipped: list[Path]

    def text(self) -> str:
        """A closing summary for the terminal."""
        rows = self.table.iloc[1:]
        statuses = rows["grading_status"].astype(str)
        done = statuses.map(lambda s: is_completed(engine_status(s)))
        possible = self.table.iloc[0]["total_points_earned"]
        lines = [
            f"{len(rows)} submissions: {len(self.graded)} graded now, {len(self.reused)} already in the gradebook",
            f"{int(done.sum())} completed, {int((~done).sum())} could not be fully graded (see grading_status)",
        ]
        pending = int(statuses.str.startswith(NEEDS_REVIEW).sum())
        rejected = int(statuses.str.startswith(REJECTED_STATUS).sum())
        if pending:
            lines.append(f"{pending} need review (suspicious code; 0 points until decided): gradkit review {self.out_dir}")
        if rejected:
            lines.append(f"{rejected} rejected after review (0 points)")
        if len(rows):
            lines.append(f"mean {rows['total_points_earned'].mean():.2f} / {possible:g} points, median {rows['total_points_earned'].median():.2f}")
        if self.skipped:
            lines.append(f"{len(self.skipped)} files in the given folders are not submissions and were skipped: "
                         + ", ".join(p.name for p in self.skipped[:10]) + (" ..." if len(self.skipped) > 10 else ""))
        lines.append(f"outputs in {self.out_dir}/ (grades.csv, students.csv, report.html, results/, feedback/)")
        return "\n".join(lines)


def grade_batch(
    *,
    autograder_zip: Path,
    submissions: list[Path],
    out_dir: Path,
    jobs: int | None = None,
    limits: Limits = Limits(),
    engine: str = DEFAULT_ENGINE,
    regrade: bool = False,
    show_hidden: bool = False,
    progress: bool = True,
) -> BatchSummary:
    """Grade every submission (resuming from the gradebook) and write the exports.

    Args:
        autograder_zip: the zip from ``gradkit build``.
        submissions: files and folders as an instructor got them (see
            :mod:`instructor.discovery`).
        out_dir: the grading output folder (created if missing).
        jobs: submissions graded at once (default: the number of CPU cores).
        limits: per-submission time (seconds), memory (MiB) and output (bytes) limits.
        engine: name of a registered grading engine.
        regrade: grade every submission again, even if the gradebook has it.
        show_hidden: put hidden test details in the students' feedback files.
        progress: show a progress bar with ETA on stderr.

    Returns:
        BatchSummary: the grade table and what was graded or reused.

    Raises:
        FileNotFoundError: a submission path does not exist.
        autograder.autograder_zip.AutograderZipError: the zip is not an autograder zip.
        KeyError: unknown engine.
        ValueError: no submissions among ``submissions``, an unreadable Gradescope
            ``submission_metadata.yml``, or an engine that cannot run here or with this zip
            (the fork engine without Linux Landlock).
    """
    autograder_zip = Path(autograder_zip).resolve()
    points = question_points(autograder_zip)
    ag_hash = sha256_file(autograder_zip)
    grader = get_engine(engine)
    grader.prepare(autograder_zip)
    skipped: list[Path] = []
    found = discover_submissions([Path(p) for p in submissions], skipped)
    if not found:
        raise ValueError(f"no submissions found in {', '.join(map(str, submissions))}")
    out_dir = Path(out_dir)
    (out_dir / RESULTS_DIR).mkdir(parents=True, exist_ok=True)
    jobs = max(1, jobs or os.cpu_count() or 1)
    _become_subreaper()
    before = {p.pid for p in psutil.Process().children(recursive=True)}

    graded, reused = [], []
    with Gradebook(out_dir) as book:
        book.set_points(points)
        book.set_meta("show_hidden", show_hidden)
        todo = []
        for sub in found:
            file_hash = _hash(sub)
            if not regrade and book.is_current(sub.label, file_hash, ag_hash, engine):
                reused.append(sub.label)
            else:
                todo.append((sub, file_hash))
        try:
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                futures = {pool.submit(grader.grade, sub, autograder_zip, limits=limits): (sub, h) for sub, h in todo}
                bar = tqdm(total=len(todo), desc="grading", unit="submission", disable=not progress or not todo,
                           mininterval=0.5 if sys.stderr.isatty() else 10.0)
                for future in as_completed(futures):
                    sub, file_hash = futures[future]
                    try:
                        outcome = future.result()
                    except Exception as error:  # noqa: BLE001 - an engine bug must not lose the batch
                        outcome = GradingOutcome.failure(sub.label, f"grading failed: {type(error).__name__}: {error}")
                    book.record(outcome, path=str(sub.path), member=sub.member, student=sub.student,
                                file_sha256=file_hash, autograder_sha256=ag_hash, engine=engine)
                    graded.append(sub.label)
                    bar.update()
                bar.close()
        finally:
            grader.close()
            _reap_descendants(before)
        rows = book.rows([s.label for s in found])
    table = write_exports(rows, points, out_dir, show_hidden=show_hidden)
    return BatchSummary(table=table, graded=graded, reused=reused, out_dir=out_dir, skipped=skipped)


def write_exports(rows: list[GradebookRow], points: dict[str, float], out_dir: Path, *, show_hidden: bool = False) -> pd.DataFrame:
    """Write grades.csv, students.csv, results/, feedback/ and report.html from gradebook rows.

    Args:
        rows: the submissions of this batch, in output order.
        points: question -> points possible.
        out_dir: the grading output folder.
        show_hidden: include hidden test details in the feedback files.

    Returns:
        pandas.DataFrame: the grade table written to grades.csv.
    """
    from .feedback import write_feedback
    from .report import write_report

    outcomes = [GradingOutcome(r.label, r.scores, r.status, r.results, r.seconds) for r in rows]
    table = grades_table(outcomes, points)
    write_text_atomic(out_dir / GRADES_CSV, table.to_csv(index=False))
    write_text_atomic(out_dir / STUDENTS_CSV, students_table(rows, points).to_csv(index=False))
    current = {results_file_name(row.label) for row in rows}
    for stale in (out_dir / RESULTS_DIR).glob("*.json"):  # from an earlier run's submissions
        if stale.name not in current:
            stale.unlink()
    for row in rows:
        write_text_atomic(out_dir / RESULTS_DIR / results_file_name(row.label), json.dumps(row.results, indent=2))
    write_feedback(rows, points, out_dir, show_hidden=show_hidden)
    write_report(rows, points, out_dir)
    return table


def students_table(rows: list[GradebookRow], points: dict[str, float]) -> pd.DataFrame:
    """One row per student: the attempt that counts, and every attempt recorded.

    The latest attempt counts, by the same rule as the Canvas export
    (:mod:`instructor.lms.canvas`): Canvas appends ``-1``, ``-2``... to a resubmission's
    original file name (lms.md), so a higher number is later; ties go to the higher
    attachment id, then the label. Submissions without a known student are their own "student" (their label).

    Returns:
        pandas.DataFrame: ``student``, ``file`` (the counted label), one column per
        question, ``total_points_earned``, ``grading_status``, ``attempts`` (count) and
        ``all_files`` (labels, ``;``-separated, oldest first).
    """
    groups: dict[str, list[GradebookRow]] = {}
    for row in rows:
        groups.setdefault(row.student or row.label, []).append(row)
    records = []
    for student, attempts in groups.items():
        attempts.sort(key=lambda r: (*parse_submission_name(r.label).attempt_order, r.label))
        last = attempts[-1]
        records.append({
            "student": student,
            "file": last.label,
            **{q: float(last.scores.get(q, 0.0)) for q in points},
            "total_points_earned": last.total,
            "grading_status": last.status,
            "attempts": len(attempts),
            "all_files": ";".join(r.label for r in attempts),
        })
    return pd.DataFrame(records, columns=["student", "file", *points, "total_points_earned", "grading_status", "attempts", "all_files"])


def _hash(sub: Submission) -> str:
    try:
        return sha256_bytes(sub.read_bytes())
    except SubmissionError:
        return "unreadable"


def _become_subreaper() -> None:
    """Make this process adopt orphaned descendants (Linux ``PR_SET_CHILD_SUBREAPER``), so a
    process a submission detaches from its kernel can still be found and stopped."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _reap_descendants(keep: set[int]) -> None:
    """Kill every descendant process started since ``keep`` was taken, and reap it."""
    me = psutil.Process()
    for _ in range(3):
        stray = [p for p in me.children(recursive=True) if p.pid not in keep]
        if not stray:
            return
        for p in stray:
            try:
                p.send_signal(signal.SIGKILL)
            except psutil.Error:
                pass
        psutil.wait_procs(stray, timeout=5)
