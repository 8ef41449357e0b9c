"""Every output of a grading folder, rebuilt from every row of its gradebook: the exports module.

:func:`write_exports` writes grades.csv, students.csv, results/, feedback/
(:mod:`instructor.feedback`) and the report (:mod:`instructor.report`) from the gradebook's
rows (:meth:`instructor.gradebook.Gradebook.rows`, statuses rendered by
:mod:`autograder.status`); the Canvas and Moodle exports read the same rows through
:func:`instructor.lms.common.read_grading_dir`, not by re-reading grades.csv.

One rule for all outputs: ``grades.csv``, ``students.csv``, ``results/``, ``feedback/``,
``report.html`` and the Canvas/Moodle import files always show every submission in
``gradebook.sqlite``, whichever command wrote them last. :func:`rebuild_outputs` is the
one function that writes them; ``gradkit grade``, ``review``, ``report``, ``export`` and
``remove`` all call it, under the folder's writer lock (:mod:`instructor.lock`). A
submission leaves the outputs only when its row leaves the gradebook (``gradkit remove``,
recorded in the gradebook's history); its results and feedback files are then deleted.

The LMS import files are rebuilt too: ``gradkit export`` records what it was given
(platform, the course's CSV, the column, the file written) in the gradebook, and each
rebuild writes that file again. When the course's CSV can no longer be read, the stale
import file (and its report) is deleted rather than left with old grades, and the
rebuild says so.
"""

from __future__ import annotations

import json
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from autograder.grade_table import grades_table
from autograder.manual_questions import MANUAL_PENDING_COLUMN, manual_entries, pending_text, question_order
from autograder.outcome import GradingOutcome
from autograder.shipped import VISIBILITY, file_name

from .gradebook import GRADEBOOK_FILE, Gradebook, GradebookRow, float_scores, output_names, safe_name
from .atomic_files import write_text_atomic, write_text_if_changed
from .lms.common import GRADES_CSV, ExportError, GradingRun, graded_run
from .lock import output_lock

__all__ = [
    "GRADES_CSV", "LMS_EXPORTS_META", "RESULTS_DIR", "Rebuilt", "STUDENTS_CSV", "export_lms", "feedback_shows_hidden",
    "rebuild_outputs", "results_file_name", "students_table", "write_exports", "zip_hidden_results",
]

STUDENTS_CSV = "students.csv"
RESULTS_DIR = "results"
LMS_EXPORTS_META = "lms_exports"
"""Gradebook meta key: the LMS exports made from this folder, re-run by every rebuild."""
SHOW_HIDDEN_META = "feedback_show_hidden"
"""Gradebook meta key: the instructor's ``--show-hidden``/``--hide-hidden`` choice (absent: follow the zip)."""
HIDDEN_RESULTS_META = "hidden_results"
"""Gradebook meta key: the autograder zip's ``gradkit: hidden_results`` setting."""


def results_file_name(label: str) -> str:
    """File name of a submission's results.json under ``results/``: ``safe_name(label) + ".json"``
    (unless another label of the folder sanitises alike: see :func:`instructor.gradebook.output_names`)."""
    return safe_name(label) + ".json"


def zip_hidden_results(autograder_zip: Path) -> str:
    """The ``gradkit: hidden_results`` setting an autograder zip was built with.

    Read from what ``gradkit build`` put in the zip: Otter's ``show_hidden`` in
    ``otter_config.json`` (false: ``"hidden"``) and the visibility step it adds to
    ``run_autograder`` for ``"after_due_date"``; otherwise ``"after_published"``.

    A zip without ``otter_config.json`` (not built by ``gradkit build``) gives
    ``"after_published"``, Otter's Gradescope behaviour with ``show_hidden``.

    Raises:
        zipfile.BadZipFile: not a zip.
    """
    with zipfile.ZipFile(autograder_zip) as archive:
        names = set(archive.namelist())
        try:
            config = json.loads(archive.read("otter_config.json")) if "otter_config.json" in names else {"show_hidden": True}
        except ValueError:
            config = {"show_hidden": True}
        run = archive.read("run_autograder").decode("utf-8", "replace") if "run_autograder" in names else ""
    if not config.get("show_hidden", False):
        return "hidden"
    return "after_due_date" if file_name(VISIBILITY) in run and "after_due_date" in run else "after_published"


def feedback_shows_hidden(book: Gradebook) -> bool:
    """Whether the feedback files show the hidden tests' details.

    Local feedback files are what the instructor hands out after grading, so they count as
    published: hidden tests' messages are shown unless the assignment's
    ``hidden_results`` is ``hidden`` (as Gradescope would show them after publication or
    the due date). An explicit ``--show-hidden``/``--hide-hidden`` (kept in the gradebook)
    overrides it.
    """
    chosen = book.meta(SHOW_HIDDEN_META)
    if chosen is not None:
        return bool(chosen)
    return book.meta(HIDDEN_RESULTS_META, "after_published") != "hidden"


@dataclass
class Rebuilt:
    """What :func:`rebuild_outputs` wrote.

    Attributes:
        table: the grade table of grades.csv (first row: points possible), every submission.
        rows: the gradebook rows, by label.
        graded: the same rows as the LMS exports read them (:func:`instructor.lms.common.graded_run`).
        lms_files: LMS import files written again.
        notes: one line per thing the instructor should know (an LMS import file that
            could not be rebuilt and was deleted).
        phases: where the time went, part -> wall-clock seconds (float), for profiling:
            ``rows`` (the gradebook read), then :func:`write_exports`'s parts
            (``imports``, ``grades.csv``, ``students.csv``, ``results``, ``feedback``,
            ``report``), then ``lms`` (the LMS import files).
    """

    table: pd.DataFrame
    rows: list[GradebookRow]
    graded: GradingRun
    lms_files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)


def rebuild_outputs(out_dir: Path, *, show_hidden: bool | None = None, skip_lms: Path | None = None) -> Rebuilt:
    """Write every output of ``out_dir`` from every row of its gradebook, under its lock.

    Args:
        out_dir: a grading output folder holding ``gradebook.sqlite``.
        show_hidden: record the instructor's choice for hidden test details in feedback
            (None: keep the recorded choice, or follow the zip; see :func:`feedback_shows_hidden`).
        skip_lms: an LMS import file not to rebuild (the one ``gradkit export`` is writing).

    Returns:
        Rebuilt: the table, rows, LMS files written and notes.

    Raises:
        FileNotFoundError: no gradebook in ``out_dir``.
        instructor.lock.FolderBusy: another process is writing ``out_dir``.
    """
    out_dir = Path(out_dir)
    if not (out_dir / GRADEBOOK_FILE).is_file():
        raise FileNotFoundError(f"{out_dir}: no {GRADEBOOK_FILE} here; run `gradkit grade --out {out_dir} ...` first")
    phases: dict[str, float] = {}
    with output_lock(out_dir), Gradebook(out_dir) as book:
        clock = time.monotonic()
        if show_hidden is not None:
            book.set_meta(SHOW_HIDDEN_META, bool(show_hidden))
        rows = book.rows()
        points = book.points()
        manual = book.manual_questions()
        phases["rows"] = time.monotonic() - clock
        table = write_exports(rows, points, out_dir, show_hidden=feedback_shows_hidden(book),
                              startup=book.meta("engine_startup"), manual=manual, phases=phases)
        clock = time.monotonic()
        exports = book.meta(LMS_EXPORTS_META, []) or []
        rebuilt = Rebuilt(table=table, rows=rows, graded=graded_run(rows, points, manual, out_dir / GRADES_CSV), phases=phases)
        for spec in exports:
            target = Path(spec["out_csv"])
            if skip_lms is not None and target.resolve() == Path(skip_lms).resolve():
                continue
            try:
                _run_export(spec, out_dir, rebuilt.graded)
                rebuilt.lms_files.append(target)
            except ExportError as error:
                from .lms.export_report import report_json_path

                for stale in (target, report_json_path(target)):
                    stale.unlink(missing_ok=True)
                rebuilt.notes.append(f"{target}: deleted, as it could not be rebuilt with every submission ({error}); "
                                     f"run `gradkit export {spec['platform']} ...` again")
        if rebuilt.notes:
            book.set_meta(LMS_EXPORTS_META, [s for s in exports if Path(s["out_csv"]).exists() or
                                             (skip_lms is not None and Path(s["out_csv"]).resolve() == Path(skip_lms).resolve())])
        phases["lms"] = time.monotonic() - clock
    return rebuilt


def _run_export(spec: dict, grading_dir: Path, run: GradingRun | None = None):
    """Write the LMS import file ``spec`` records (see :func:`export_lms`) from ``run``
    (None: read from ``grading_dir``)."""
    from .lms.canvas import export_canvas
    from .lms.moodle import export_moodle

    if spec["platform"] == "canvas":
        return export_canvas(gradebook_csv=Path(spec["source"]), column=spec["column"], grading_dir=grading_dir,
                             out_csv=Path(spec["out_csv"]), run=run)
    return export_moodle(grades_template=Path(spec["source"]), column=spec["column"], grading_dir=grading_dir,
                         out_csv=Path(spec["out_csv"]), match_on=spec.get("match_on", "name"),
                         name_columns=spec.get("name_columns"), id_column=spec.get("id_column"), run=run)


def export_lms(platform: str, *, source: Path, column: str, grading_dir: Path, out_csv: Path, match_on: str = "name",
               name_columns: str | None = None, id_column: str | None = None):
    """Write an LMS import file from a grading folder and remember it for later rebuilds.

    With a gradebook in ``grading_dir``, every output is rebuilt from it first (so the
    import holds every submission) and the export is recorded, so that later ``grade``,
    ``review``, ``remove`` and ``report`` runs write it again. A folder with only a
    ``grades.csv`` (no gradebook) is exported from that file as it is.

    Args:
        platform: ``"canvas"`` or ``"moodle"``.
        source: the course's gradebook export (Canvas) or grade export template (Moodle).
        column: the assignment column to fill.
        grading_dir: the grading output folder.
        out_csv: the import file to write.
        match_on: Moodle only, see :data:`instructor.lms.moodle.MATCH_ON`.
        name_columns, id_column: Moodle only, see :func:`instructor.lms.moodle.export_moodle`
            (kept with the export, so rebuilds use them too).

    Returns:
        instructor.lms.export_report.ExportReport: what matched what.

    Raises:
        instructor.lms.common.ExportError: see :func:`instructor.lms.canvas.export_canvas`
            and :func:`instructor.lms.moodle.export_moodle`.
        instructor.lock.FolderBusy: another process is writing ``grading_dir``.
    """
    grading_dir = Path(grading_dir)
    spec = {"platform": platform, "source": str(Path(source).resolve()), "column": column,
            "out_csv": str(Path(out_csv).resolve()), "match_on": match_on}
    if name_columns is not None:
        spec["name_columns"] = name_columns
    if id_column is not None:
        spec["id_column"] = id_column
    if not (grading_dir / GRADEBOOK_FILE).is_file():
        return _run_export(spec, grading_dir)
    with output_lock(grading_dir):
        rebuilt = rebuild_outputs(grading_dir, skip_lms=Path(out_csv))
        report = _run_export(spec, grading_dir, rebuilt.graded)
        with Gradebook(grading_dir) as book:
            kept = [s for s in book.meta(LMS_EXPORTS_META, []) or [] if Path(s["out_csv"]).resolve() != Path(out_csv).resolve()]
            book.set_meta(LMS_EXPORTS_META, kept + [spec])
    return report


def write_exports(rows: list[GradebookRow], points: dict[str, float], out_dir: Path, *, show_hidden: bool = False,
                  startup: dict | None = None, manual: dict[str, float] | None = None,
                  phases: dict[str, float] | None = None) -> pd.DataFrame:
    """Write grades.csv, students.csv, results/, feedback/ and report.html from gradebook rows.

    Results and feedback files of labels not in ``rows`` are deleted. Prefer
    :func:`rebuild_outputs`, which passes every row of the gradebook.

    Args:
        rows: the submissions, in output order.
        points: question -> points possible.
        out_dir: the grading output folder.
        show_hidden: include hidden test details in the feedback files.
        startup: the grading engine's start-up times (gradebook meta ``engine_startup``), for the report.
        manual: the manually graded questions (question -> points possible); each row's
            ``manual_scores`` says which are scored. They show as "not scored yet" in every
            output (see :mod:`autograder.manual_questions`), never as 0.
        phases: if given, filled with the wall-clock seconds (float) of each part:
            ``imports`` (the report's and feedback's modules, the first time),
            ``grades.csv``, ``students.csv``, ``results``, ``feedback``, ``report``.

    Returns:
        pandas.DataFrame: the grade table written to grades.csv.
    """
    phases = {} if phases is None else phases
    clock = time.monotonic()
    from .feedback import write_feedback
    from .report_html import write_report  # imports matplotlib: seconds, once per process

    phases["imports"] = time.monotonic() - clock
    clock = time.monotonic()

    def done(part: str) -> None:
        nonlocal clock
        now = time.monotonic()
        phases[part] = now - clock
        clock = now

    manual = dict(manual or {})
    outcomes = [GradingOutcome(r.label, _counted_scores(r), r.status, r.results, r.seconds) for r in rows]
    table = grades_table(outcomes, points, manual)
    write_text_atomic(out_dir / GRADES_CSV, table.to_csv(index=False))
    done("grades.csv")
    write_text_atomic(out_dir / STUDENTS_CSV, students_table(rows, points, manual).to_csv(index=False))
    done("students.csv")
    (out_dir / RESULTS_DIR).mkdir(parents=True, exist_ok=True)
    names = output_names(row.label for row in rows)  # distinct even where two labels sanitise alike
    current = {names[row.label] + ".json" for row in rows}
    for stale in (out_dir / RESULTS_DIR).glob("*.json"):  # of submissions no longer in the gradebook
        if stale.name not in current:
            stale.unlink()
    for row in rows:
        write_text_if_changed(out_dir / RESULTS_DIR / (names[row.label] + ".json"),
                          json.dumps(float_scores(_results_with_manual(row, manual)), indent=2))
    done("results")
    write_feedback(rows, points, out_dir, show_hidden=show_hidden, manual=manual)
    done("feedback")
    write_report(rows, points, out_dir, startup=startup, manual=manual)
    done("report")
    return table


def _counted_scores(row: GradebookRow) -> dict[str, float]:
    """The row's autograded scores plus its scored manual questions (a pending one is absent)."""
    return {**row.scores, **{q: s for q, s in row.manual_scores.items() if s is not None}}


def _results_with_manual(row: GradebookRow, manual: dict[str, float]) -> dict:
    """The row's results.json with one visible entry per manual question appended (no
    ``score`` while it is not scored). A top-level ``score``, when the engine wrote one
    (otherwise Gradescope sums the tests' scores), is raised by the scored ones."""
    if not manual:
        return row.results
    results = dict(row.results)
    tests = results.get("tests", [])
    # an override on a manual question (instructor.override_rule) added an entry named as the
    # question: its text (set by hand, the comment) moves into the manual entry, counted once
    by_hand = {t.get("name"): t for t in tests if isinstance(t, dict) and t.get("name") in manual}
    if isinstance(results.get("score"), (int, float)):
        results["score"] = float(row.total)
    entries = manual_entries(manual, row.manual_scores)
    for q, entry in zip(manual, entries):
        said = str(by_hand.get(q, {}).get("output", "")).strip()
        if said:
            entry["output"] = f"{said}\n\n{entry['output']}"
    results["tests"] = [*(t for t in tests if not (isinstance(t, dict) and t.get("name") in manual)), *entries]
    return results


def students_table(rows: list[GradebookRow], points: dict[str, float], manual: dict[str, float] | None = None) -> pd.DataFrame:
    """One row per student: the attempt that counts, and every attempt recorded.

    A Gradescope group submission (two or more submitters, :mod:`instructor.gradescope`)
    gives each member a row with the group's score; the gradebook keeps one row per
    submission. Which attempt counts for a student:

    the latest by :func:`instructor.lms.attempts.attempt_key`, the rule the Canvas and
    Moodle exports use too:

    * Gradescope: the latest ``:created_at``, so a member's later solo submission
      supersedes the group's for that member only (the other members keep the group's);
      attempts without a time count before those with one;
    * then Canvas's resubmission number (``-1``, ``-2``... appended to a resubmission's
      original file name, lms.md) and attachment id, then the label in natural order.

    Submissions without a known student are their own "student" (their label).

    Returns:
        pandas.DataFrame: ``student``, ``file`` (the counted label), one column per
        question, ``total_points_earned``, ``grading_status``, ``attempts`` (count),
        ``all_files`` (labels, ``;``-separated, oldest first) and ``group`` (the counted
        submission's submitters, ``;``-separated, for a group submission; else empty). With
        ``manual`` questions, as in grades.csv: their cells are empty until scored, the total
        adds up the scored questions, and ``manual_pending`` (after ``grading_status``) lists
        the ones awaiting a score.
    """
    from .lms.attempts import latest_last

    groups: dict[str, list[tuple[GradebookRow, object]]] = {}
    for row in rows:
        key = row.student_key
        for student in row.students:
            groups.setdefault(student, []).append((row, key))
    manual = dict(manual or {})
    columns = question_order(points, manual)
    records = []
    for student, attempts in groups.items():
        attempts = latest_last(attempts, lambda a: (a[0].label, a[1].created_at if a[1] else None))
        last, last_key = attempts[-1]
        record = {
            "student": student,
            "file": last.label,
            **{q: (last.manual_scores.get(q) if q in manual else float(last.scores.get(q, 0.0))) for q in columns},
            "total_points_earned": last.total,
            "grading_status": last.status,
        }
        if manual:
            record[MANUAL_PENDING_COLUMN] = pending_text([q for q in manual if last.manual_scores.get(q) is None])
        records.append({**record, "attempts": len(attempts), "all_files": ";".join(r.label for r, _ in attempts),
                        "group": ";".join(m.student for m in last_key.members) if last_key and last_key.is_group else ""})
    extra = [MANUAL_PENDING_COLUMN] if manual else []
    return pd.DataFrame(records, columns=["student", "file", *columns, "total_points_earned", "grading_status", *extra,
                                          "attempts", "all_files", "group"])
