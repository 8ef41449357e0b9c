"""Grading a class: every submission in its own limited process, into a gradebook that
survives interruption, with the exports written from it.

Output folder (``DIR``)::

    DIR/gradebook.sqlite        every result, written one submission at a time
    DIR/grades.csv              otter's final_grades.csv layout, one row per submission
    DIR/students.csv            one row per student: the attempt that counts (the latest)
    DIR/results/<label>.json    Gradescope-format results.json of each submission
    DIR/feedback/<label>.md     feedback for the student (see instructor.feedback)
    DIR/report.html             the instructor's report (see instructor.report_html)

Re-running the same command resumes: submissions already in the gradebook with the same
file hash, autograder hash and engine are not graded again (``regrade=True`` forces it).
Every output lists every submission of the gradebook, earlier runs' included: they are
written by :func:`instructor.outputs.rebuild_outputs`, under the folder's writer lock
(:mod:`instructor.lock`).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import psutil
from tqdm import tqdm

from autograder.autograder_zip import question_points
from autograder.engines import DEFAULT_ENGINE, Limits, get_engine
from autograder.engines.process import become_subreaper, kill
from autograder.manual_questions import MANUAL_PENDING_COLUMN, marked_questions, read_manual_questions
from autograder.outcome import GradingOutcome
from autograder.points import points_possible
from autograder.status import NEEDS_REVIEW, REJECTED_STATUS
from autograder.submissions import Submission, SubmissionError

from .discovery import discover_submissions, input_note, input_summary
from .gradebook import Gradebook, GradebookRow, safe_name, sha256_bytes, sha256_file
from .lock import output_lock
from .override_rule import CHANGED
from .outputs import (
    GRADES_CSV, HIDDEN_RESULTS_META, RESULTS_DIR, STUDENTS_CSV, rebuild_outputs, results_file_name, students_table, write_exports,
    zip_hidden_results,
)
from .read_ahead import ReadAhead

log = logging.getLogger(__name__)

__all__ = ["BatchSummary", "GRADES_CSV", "PARENT_PHASES", "RESULTS_DIR", "STUDENTS_CSV", "grade_batch", "results_file_name", "safe_name", "students_table", "write_exports"]

PARENT_PHASES = {
    "prepare": "the autograder zip read and hashed, the engine prepared",
    "discover": "the submissions found on disk",
    "hash": "each submission's file hashed (SHA-256)",
    "plan": "the gradebook asked what to grade (resume, relabelling)",
    "grading": "wall-clock of the grading pool: engine start-up and every submission",
    "engine calls": "the engines' grade() calls summed over the threads (reading, screen, run, scoring)",
    "read ahead": "submissions read and screened during the engines' start-up, in a thread of their own (not in engine calls)",
    "gradebook": "each graded submission's row written and committed",
    "exports": "every output rebuilt from the gradebook (its parts: exports: ...)",
}
"""The phases of :attr:`BatchSummary.phases` (name -> what it times). ``exports: <part>``
entries break ``exports`` down (:attr:`instructor.outputs.Rebuilt.phases`)."""


@contextmanager
def _timed(phases: dict[str, float], name: str, lock: threading.Lock | None = None) -> Iterator[None]:
    """Add the wall-clock seconds (``time.monotonic``) of the ``with`` body to ``phases[name]``,
    an exception included; under ``lock`` when grading threads share ``phases``."""
    start = time.monotonic()
    try:
        yield
    finally:
        elapsed = time.monotonic() - start
        with lock or nullcontext():
            phases[name] = phases.get(name, 0.0) + elapsed


@dataclass
class BatchSummary:
    """What one ``grade_batch`` run did.

    Attributes:
        table: the grade table as written to grades.csv (first row: points possible):
            every submission in the gradebook, not only this run's.
        graded: labels graded in this run.
        reused: labels given in this run and taken from the gradebook unchanged.
        out_dir: the output folder.
        skipped: files in the given folders that are not submissions (not notebooks or
            zips, and not named by an LMS download).
        given: labels given in this run (after matching to stored submissions).
        reasons: label graded now -> why: ``"new"``, ``"file changed"``, ``"autograder
            changed"``, ``"engine changed"`` or ``"--regrade"``.
        matched: (new label, stored label) pairs: a file given now that is a submission
            already in the gradebook under another label; the row took the new label.
        notes: lines about the input (Gradescope entries without a notebook, folders
            without known submitters) and the outputs (LMS import files that could not be rebuilt).
        startup_seconds: the engine's start-up time per grading thread (seconds), not
            counted in any submission's time.
        rows: the gradebook rows of ``table`` (:class:`instructor.gradebook.GradebookRow`),
            in its order: what was set by hand is read from them, not from the status text.
        phases: where this process's time went, phase -> wall-clock seconds (float), for
            profiling (see :data:`PARENT_PHASES`). Sums over submissions where a phase is
            per submission; ``engine calls`` sums the grading threads' calls, so it can
            exceed ``grading`` with several jobs.
        outcome_phases: label graded now -> that submission's phases
            (:attr:`autograder.outcome.GradingOutcome.phases`: the engine's, plus
            ``gradebook``, the time its row took to write).
        read_ahead: how many of the submissions graded now were read and screened during
            the engines' start-up (:mod:`instructor.read_ahead`) instead of in their
            grading thread.
    """

    table: pd.DataFrame
    graded: list[str]
    reused: list[str]
    out_dir: Path
    skipped: list[Path]
    given: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)
    matched: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    startup_seconds: list[float] = field(default_factory=list)
    rows: list[GradebookRow] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)
    outcome_phases: dict[str, dict[str, float]] = field(default_factory=dict)
    read_ahead: int = 0

    def text(self) -> str:
        """A closing summary for the terminal."""
        rows = self.table.iloc[1:]
        kinds = Counter(row.kind for row in self.rows)
        possible = self.table.iloc[0]["total_points_earned"]
        given = len(self.given) or len(self.graded) + len(self.reused)
        lines = [
            f"{len(rows)} submissions in the gradebook, {given} given now: "
            f"{len(self.graded)} graded now, {len(self.reused)} already in the gradebook",
        ]
        counts = Counter(self.reasons.values())
        for reason, text in (("autograder changed", "because the autograder changed"), ("file changed", "because the file changed"),
                             ("engine changed", "because the engine changed"), ("--regrade", "because of --regrade")):
            if counts.get(reason):
                lines.append(f"regraded {counts[reason]} {text}")
        for new, old in self.matched:
            lines.append(f"{new}: the same submission as {old} (same file), graded before; its row now has the new label")
        # each row in one count, by its outcome kind (autograder.status): a flagged one under review, not "completed"
        pending, rejected = kinds[NEEDS_REVIEW], kinds[REJECTED_STATUS]
        done = sum(1 for row in self.rows if row.completed)
        lines.append(f"{done} completed, {len(self.rows) - done - pending - rejected} could not be fully graded (see grading_status)")
        if pending:
            lines.append(f"{pending} need review (suspicious code; 0 points until decided): gradkit review {self.out_dir}")
        if rejected:
            lines.append(f"{rejected} rejected after review (0 points)")
        hand = sum(1 for row in self.rows if row.hand_set)
        changed = [row.label for row in self.rows if row.changed_overrides]
        if hand:
            lines.append(f"{hand} with scores set by hand (they count; the autograded scores stay stored beneath)")
        if changed:
            lines.append(f"{len(changed)} with an {CHANGED} (the hand-set points still count until confirmed or unset: "
                         f"gradkit review {self.out_dir} --confirm LABEL Q | --unset LABEL Q): "
                         + ", ".join(changed[:10]) + (" ..." if len(changed) > 10 else ""))
        if MANUAL_PENDING_COLUMN in rows:
            waiting = int(rows[MANUAL_PENDING_COLUMN].fillna("").astype(str).str.strip().ne("").sum())
            manual = ", ".join(marked_questions(str(self.table.iloc[0][MANUAL_PENDING_COLUMN])))
            lines.append(f"{waiting} submission{'s' if waiting != 1 else ''} await{'s' if waiting == 1 else ''} a manual score ({manual} graded by hand; totals count the questions scored so far)")
        if len(rows):
            lines.append(f"mean {rows['total_points_earned'].mean():.2f} / {possible:g} points, median {rows['total_points_earned'].median():.2f}")
        if self.startup_seconds:
            lines.append(f"engine start-up: {sum(self.startup_seconds):.1f} s ({len(self.startup_seconds)} worker(s)), "
                         "not counted in any submission's time")
        if self.skipped:
            lines.append(f"{len(self.skipped)} files in the given folders are not submissions and were skipped: "
                         + ", ".join(p.name for p in self.skipped[:10]) + (" ..." if len(self.skipped) > 10 else ""))
        lines += self.notes
        lines.append(f"outputs in {self.out_dir}/ (grades.csv, students.csv, report.html, results/, feedback/), every submission of the gradebook")
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
    show_hidden: bool | None = None,
    progress: bool = True,
    wait: float = 0.0,
    read_ahead: bool = True,
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
        show_hidden: put hidden test details in the students' feedback files (True) or not
            (False); None keeps the folder's earlier choice, else follows the zip's
            ``gradkit: hidden_results`` (see :func:`instructor.outputs.feedback_shows_hidden`).
        progress: show a progress bar with ETA on stderr.
        wait: seconds to wait for another command writing ``out_dir`` (see :mod:`instructor.lock`).
        read_ahead: read and screen submissions in a background thread while the engines
            start (:mod:`instructor.read_ahead`); False: each in its grading thread only.
            The outputs are the same either way.

    The gradebook keeps one row per submission. A file given under a new label that is a
    submission already stored under another one (same student key or none, same content,
    same file name; see :meth:`instructor.gradebook.Gradebook.same_submission`) takes over
    that row instead of adding a second. A row that is not graded again still follows the
    current input: its student key (a changed ``submission_metadata.yml``: a member added,
    ``:created_at`` corrected) and its input notes are updated, recorded as a
    ``reattributed`` event in the gradebook's history
    (:meth:`instructor.gradebook.Gradebook.update_student`). A Gradescope entry without
    a notebook becomes a 0-point row whose status says so, without running an engine.
    Every output is then rebuilt from every row
    (:func:`instructor.outputs.rebuild_outputs`), not only this run's.

    Returns:
        BatchSummary: the grade table and what was graded or reused.

    Raises:
        FileNotFoundError: a submission path does not exist.
        autograder.autograder_zip.AutograderZipError: the zip is not an autograder zip.
        KeyError: unknown engine.
        ValueError: no submissions among ``submissions``, an unreadable Gradescope
            ``submission_metadata.yml``, ``out_dir`` is a file, or an engine that cannot run
            here or with this zip (the fork engine without Linux Landlock).
        instructor.lock.FolderBusy: another command is writing ``out_dir``.
    """
    phases: dict[str, float] = dict.fromkeys(PARENT_PHASES, 0.0)
    outcome_phases: dict[str, dict[str, float]] = {}
    with _timed(phases, "prepare"):
        autograder_zip = Path(autograder_zip).resolve()
        out_dir = Path(out_dir)
        if out_dir.exists() and not out_dir.is_dir():
            raise ValueError(f"{out_dir}: --out is a file, not a folder; give a grading output folder")
        points = question_points(autograder_zip)
        manual = read_manual_questions(autograder_zip)
        hidden_results = zip_hidden_results(autograder_zip)
        ag_hash = sha256_file(autograder_zip)
        log.info("%s: %d questions (%g points), %d graded by hand, hidden results %s", autograder_zip.name, len(points),
                 points_possible(points), len(manual), hidden_results)
        grader = get_engine(engine)
        grader.prepare(autograder_zip)
        log.info("engine %s ready for %s", engine, autograder_zip.name)
    skipped: list[Path] = []
    with _timed(phases, "discover"):
        found = discover_submissions([Path(p) for p in submissions], skipped)
    if not found:
        raise ValueError(f"no submissions found in {', '.join(map(str, submissions))}")
    jobs = max(1, jobs or os.cpu_count() or 1)

    graded, reused, matched, reasons = [], [], [], {}
    startup: list[float] = []
    with output_lock(out_dir, wait=wait):
        (out_dir / RESULTS_DIR).mkdir(parents=True, exist_ok=True)
        become_subreaper()
        before = {p.pid for p in psutil.Process().children(recursive=True)}
        with Gradebook(out_dir) as book:
            book.set_points(points)
            book.set_manual_questions(manual)
            book.set_meta(HIDDEN_RESULTS_META, hidden_results)
            given = {sub.label for sub in found}
            todo = []
            with _timed(phases, "plan"):
                for sub in found:
                    with _timed(phases, "hash"):
                        file_hash = _hash(sub)
                    stored = book.row_key(sub.label)
                    if stored is None:
                        same = book.same_submission(sub.label, file_hash, sub.student, exclude=given)
                        if same is not None:
                            book.relabel(same, sub.label, path=str(sub.path), member=sub.member)
                            matched.append((sub.label, same))
                            stored = book.row_key(sub.label)
                    if not regrade and stored == (file_hash, ag_hash, engine):
                        log.info("%s: in the gradebook already (same file, autograder and engine), not graded again", sub.label)
                        reused.append(sub.label)  # not graded again, but who submitted it follows the current input
                        book.update_student(sub.label, sub.student, input_note=input_note(sub))
                        continue
                    if regrade and stored is not None:
                        reasons[sub.label] = "--regrade"
                    elif stored is None:
                        reasons[sub.label] = "new"
                    elif stored[0] != file_hash:
                        reasons[sub.label] = "file changed"
                    elif stored[1] != ag_hash:
                        reasons[sub.label] = "autograder changed"
                    else:
                        reasons[sub.label] = "engine changed"
                    log.debug("%s: to grade (%s)", sub.label, reasons[sub.label])
                    if getattr(sub, "problem", None):  # nothing to run (a Gradescope entry without its notebook)
                        log.info("%s: nothing to run: %s", sub.label, sub.problem)
                        book.record(GradingOutcome.failure(sub.label, sub.problem), input_note=input_note(sub), path=str(sub.path), member=sub.member,
                                    student=sub.student, file_sha256=file_hash, autograder_sha256=ag_hash, engine=engine)
                        graded.append(sub.label)
                        continue
                    todo.append((sub, file_hash))
            phases["plan"] -= phases["hash"]  # the loop's own work: hashing is a phase of its own
            lock = threading.Lock()

            workers = min(jobs, max(1, len(todo)))
            ahead = ReadAhead(grader, autograder_zip, [sub for sub, _ in todo], threads=workers, enabled=read_ahead)

            def warm_up() -> None:  # engine start-up, per grading thread, timed apart from submissions
                start = time.monotonic()
                try:
                    grader.warm_up()
                except Exception as error:  # noqa: BLE001 - grading that thread's submissions reports the failure
                    log.info("engine %s did not start: %s: %s", engine, type(error).__name__, error)
                    return
                finally:
                    ahead.warm_up_ended()
                with lock:
                    startup.append(time.monotonic() - start)
                log.info("engine %s started in %.1f s (not counted in any submission's time)", engine, startup[-1])

            log.info("grading %d submission(s), %d at once; %d taken from the gradebook", len(todo), workers, len(reused))
            grader.expect(len(todo))

            def timed_grade(sub: Submission) -> GradingOutcome:
                prepared = ahead.take(sub)  # read during the start-up, or None: read now
                with _timed(phases, "engine calls", lock):
                    return grader.grade(sub, autograder_zip, limits=limits, prepared=prepared)

            with _timed(phases, "grading"):
                try:
                    ahead.start()
                    with ThreadPoolExecutor(max_workers=workers, initializer=warm_up) as pool:
                        futures = {pool.submit(timed_grade, sub): (sub, h) for sub, h in todo}
                        bar = tqdm(total=len(todo), desc="grading", unit="submission", disable=not progress or not todo,
                                   mininterval=0.5 if sys.stderr.isatty() else 10.0)
                        for future in as_completed(futures):
                            sub, file_hash = futures[future]
                            try:
                                outcome = future.result()
                            except Exception as error:  # noqa: BLE001 - an engine bug must not lose the batch
                                log.info("%s: the engine raised %s: %s", sub.label, type(error).__name__, error, exc_info=True)
                                outcome = GradingOutcome.failure(sub.label, f"grading failed: {type(error).__name__}: {error}")
                            log.info("graded %s in %.2f s (%s): %g points; %s", sub.label, outcome.seconds, reasons[sub.label],
                                     outcome.total, outcome.status)
                            with _timed(outcome.phases, "gradebook"):
                                book.record(outcome, input_note=input_note(sub), path=str(sub.path), member=sub.member, student=sub.student,
                                            file_sha256=file_hash, autograder_sha256=ag_hash, engine=engine)
                            phases["gradebook"] += outcome.phases["gradebook"]
                            outcome_phases[sub.label] = dict(outcome.phases)
                            graded.append(sub.label)
                            bar.update()
                        bar.close()
                finally:
                    ahead.close()
                    grader.close()
                    _reap_descendants(before)
            phases["read ahead"] = ahead.seconds
            if todo:
                book.set_meta("engine_startup", {"engine": engine, "seconds": [round(s, 3) for s in startup]})
        log.info("%s: writing every output from the gradebook", out_dir)
        with _timed(phases, "exports"):
            rebuilt = rebuild_outputs(out_dir, show_hidden=show_hidden)
        phases.update({f"exports: {part}": seconds for part, seconds in rebuilt.phases.items()})
        log.info("%s: wrote grades.csv, students.csv, results/, feedback/, report.html (%d submissions)%s", out_dir, len(rebuilt.rows),
                 "".join(f", {p}" for p in rebuilt.lms_files))
    return BatchSummary(table=rebuilt.table, graded=graded, reused=reused, out_dir=out_dir, skipped=skipped,
                        given=[s.label for s in found], reasons={k: v for k, v in reasons.items() if k in graded},
                        matched=matched, notes=input_summary(found) + rebuilt.notes, startup_seconds=startup, rows=rebuilt.rows,
                        phases=phases, outcome_phases=outcome_phases, read_ahead=ahead.prepared)


def _hash(sub: Submission) -> str:
    try:
        return sha256_bytes(sub.read_bytes())
    except SubmissionError:
        return "unreadable"


def _reap_descendants(keep: set[int]) -> None:
    """Kill every descendant process started since ``keep`` was taken, and reap it."""
    me = psutil.Process()
    for _ in range(3):
        stray = [p for p in me.children(recursive=True) if p.pid not in keep]
        if not stray:
            return
        for p in stray:
            kill(p.pid)
        psutil.wait_procs(stray, timeout=5)
