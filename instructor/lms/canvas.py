"""Canvas: fill one assignment column of the instructor's gradebook export from grades.csv.

Canvas facts used (``shared/brief/lms.md``, "Canvas gradebook import"):

* the export's header is ``Student``, ``ID``, then optionally ``SIS User ID``,
  ``SIS Login ID`` (and ``Integration ID``), with ``Section`` as the last student column,
  then one column per assignment titled ``Assignment Name (assignment id)``, and score
  columns (Current/Final Score...) that the import ignores;
* a row whose first cell is ``Points Possible`` (Canvas writes it indented by spaces) sets
  the points; exports may also hold a ``Muted`` / ``Manual Posting`` row; both have an
  empty ``ID``;
* on import, rows are matched to students by Canvas ``ID`` first;
* "Download Submissions" names files ``lastnamefirstname_[LATE_]<user id>_<attachment
  id>_<original file name>``, a resubmission's original name getting ``-1``, ``-2`` ...
"""

from __future__ import annotations

from pathlib import Path

from ._match import Claim, Roster, fill, pending_reasons, settle
from .attempts import attempt_key
from .common import (
    GRADES_CSV, CsvTable, ExportError, GradedSubmission, GradingRun, check_output_path, format_points, read_csv_table, read_grading_dir,
    write_csv_atomic,
)
from .gradescope_match import GRADESCOPE_MATCH_RULE, gradescope_claims, group_entries, student_keys, value_lookup
from .moodle_headers import NAME_HEADER_PAIRS
from .names import CANVAS, MOODLE
from .export_report import ExportReport, SubmissionNote

__all__ = ["CANVAS_MATCH_RULE", "STUDENT_COLUMNS", "export_canvas"]

STUDENT_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Root Account", "Student Number", "Section")
"""Header names of Canvas's student columns (``Root Account`` appears in some exports,
``Student Number`` in those of institutions that show it)."""

FINAL_WARNING = (
    "the column {column!r} contains 'Final': instructors report that Canvas's gradebook importer skips such columns "
    "(it takes them for its own read-only Final Score / Final Grade columns), so the grades may not be imported. "
    "Check the assignment in Canvas after the import; if it stayed empty, rename the assignment in Canvas "
    "(e.g. 'Last project' for 'Final project'), export the gradebook again and re-run the export, or enter the grades another way"
)
"""Warning for an assignment column whose title contains "Final" (issue 12, item 7)."""
POINTS_POSSIBLE = "Points Possible"
_GRADESCOPE_ID_COLUMNS = ("SIS Login ID", "SIS User ID", "Integration ID", "Student Number")
"""Student columns a Gradescope submitter's email or student id is compared with (Gradescope
courses linked to Canvas take the email and the SIS user id from it)."""

CANVAS_MATCH_RULE = (
    "the Canvas user id in each download name (lastnamefirstname_[LATE_]<user id>_<attachment id>_<file>) "
    "must equal exactly one roster row's ID; when one user id has several files, the latest attempt counts: "
    "the highest resubmission number (-N Canvas appends to the original file name's stem; none = 0), "
    "ties broken by the higher attachment id (Canvas numbers uploads in increasing order), then by the label "
    "in natural order (digits compared as numbers)"
)


def _student_columns(table: CsvTable) -> int:
    """Number of leading student columns: up to ``Section`` or the last known identity column."""
    header = [h.strip() for h in table.header]
    moodle_names = next(((a, b) for a, b, _ in NAME_HEADER_PAIRS
                         if a.casefold() in map(str.casefold, header) and b.casefold() in map(str.casefold, header)), None)
    if moodle_names and header[:2] != ["Student", "ID"]:
        raise ExportError(f"{table.path}: this is a Moodle grade export (it has {moodle_names[0]!r} and {moodle_names[1]!r} columns), "
                          "not a Canvas gradebook export; use `gradkit export moodle --grades-template` with it")
    if len(header) < 2 or header[0] != "Student" or header[1] != "ID":
        found = ", ".join(repr(h) for h in table.header[:4])
        hint = " (the file looks ';'-separated; Canvas exports use ',')" if table.delimiter == ";" else ""
        raise ExportError(
            f"{table.path}: not a Canvas gradebook export: its header must begin with 'Student', 'ID'{hint}; found {found}"
        )
    if "Section" in header:
        return header.index("Section") + 1
    count = 0
    while count < len(header) and header[count] in STUDENT_COLUMNS:
        count += 1
    return count


def _find_column(table: CsvTable, column: str, first_assignment: int) -> int:
    """Index of the assignment column named ``column`` (exact, or equal once trimmed)."""
    header = table.header
    for candidates in ([i for i, h in enumerate(header) if h == column], [i for i, h in enumerate(header) if h.strip() == column.strip()]):
        if len(candidates) > 1:
            raise ExportError(f"{table.path}: the header has {len(candidates)} columns named {column!r}; rename the extra ones")
        if candidates:
            if candidates[0] < first_assignment:
                raise ExportError(f"{table.path}: {column!r} is a student column, not an assignment column")
            return candidates[0]
    assignments = header[first_assignment:]
    like = [h for h in assignments if h.strip().casefold().startswith(column.strip().casefold())]
    hint = f"; did you mean {', '.join(repr(h) for h in like)}?" if like else ""
    listed = ", ".join(repr(h) for h in assignments) or "none"
    raise ExportError(f"{table.path}: no column {column!r} in the header{hint} (assignment columns: {listed})")


def export_canvas(*, gradebook_csv: Path, column: str, grading_dir: Path, out_csv: Path,
                  run: GradingRun | None = None) -> ExportReport:
    """Write a Canvas gradebook import file with one assignment column filled from grades.csv.

    The file written has the instructor's student columns (``Student`` ... ``Section``)
    and every row of the export, unchanged and in the same order, plus the one assignment
    column ``column``. Other assignment and score columns are dropped on purpose: Canvas
    imports every assignment column it is given, so re-importing stale copies of other
    assignments could overwrite grades entered since the export (lms.md: "write a file
    with the same student columns and one filled assignment column"); Canvas ignores
    missing columns.

    * Student rows (non-empty ``ID``): the cell gets ``total_points_earned`` of the
      matched submission (``10``, ``7.5``); a row with no usable submission keeps its
      exported value (blank for an ungraded assignment; an ``EX`` stays ``EX``) and is
      reported. A matched row's non-blank previous value is replaced and reported.
    * Rows with an empty ``ID`` (``Points Possible``, ``Muted``/``Manual Posting``) are
      kept unchanged, except that the ``Points Possible`` cell of the column is set to the
      assignment's points possible; without such a row, nothing is added (Canvas keeps the
      assignment's points) and the report says so.
    * Matching: :data:`CANVAS_MATCH_RULE`; a Gradescope export's submissions (graded
      into a folder with a gradebook) by their submitters' email / student id, each
      member of a group getting the group's score (:mod:`.gradescope_match`). A
      submission without a Canvas download name,
      or whose user id is in no row or several rows, is reported and fills nothing.
      Superseded attempts are reported. An assignment column whose title contains
      "Final" gets a warning (Canvas's importer is reported to skip such columns). A used
      submission whose ``grading_status`` is not
      ``Completed`` has its score (0) written and is flagged in ``not_completed``.

    Both files are written atomically: ``out_csv`` (UTF-8, the export's BOM, delimiter and
    line endings kept) and the JSON report beside it (``<out stem>.report.json``).

    Args:
        gradebook_csv: the instructor's Canvas gradebook export (Grades > Export > CSV).
        column: the assignment column header, e.g. ``"Autograd Basics (12345)"``.
        grading_dir: a ``gradkit grade`` output folder holding ``grades.csv``.
        out_csv: the import file to write; must not be ``gradebook_csv``.
        run: the folder's graded submissions when the caller has just read its gradebook
            (:func:`.common.graded_run`); None: read them (:func:`.common.read_grading_dir`).

    Returns:
        ExportReport: what matched what; ``platform == "canvas"``.

    Raises:
        ExportError: the gradebook is unreadable or not a Canvas export (names the file),
            ``column`` is not an assignment column of its header, grades.csv is missing
            or malformed, or ``out_csv`` would overwrite an input.
    """
    gradebook_csv, grading_dir = Path(gradebook_csv), Path(grading_dir)
    out_csv = check_output_path(Path(out_csv), gradebook_csv, grading_dir / GRADES_CSV)
    table = read_csv_table(gradebook_csv, "Canvas gradebook export")
    n_student = _student_columns(table)
    col = _find_column(table, column, n_student)
    run = run if run is not None else read_grading_dir(grading_dir)

    student_rows: dict[int, int] = {}
    names: dict[int, str] = {}
    keys: dict[int, str] = {}
    by_id: dict[str, list[int]] = {}
    points_rows: list[int] = []
    for index, record in enumerate(table.rows):
        row = index + 2
        cells = record + [""] * (2 - len(record))
        if cells[1].strip():
            student_rows[row], names[row], keys[row] = index, cells[0], f"ID {cells[1].strip()}"
            by_id.setdefault(cells[1].strip(), []).append(row)
        elif cells[0].strip().casefold() == POINTS_POSSIBLE.casefold():
            points_rows.append(index)
    roster = Roster(table=table, student_rows=student_rows, names=names, keys=keys)

    report = ExportReport(
        platform=CANVAS, source_csv=str(gradebook_csv), grades_csv=str(run.grades_csv), out_csv=str(out_csv),
        column=table.header[col], points_possible=run.points_possible, match_rule=CANVAS_MATCH_RULE,
    )
    if "final" in table.header[col].casefold():
        report.warnings.append(FINAL_WARNING.format(column=table.header[col]))
    header = [h.strip() for h in table.header]
    id_cols = [(header.index(c), c) for c in _GRADESCOPE_ID_COLUMNS if c in header[:n_student]]
    gs_keys = student_keys(run)
    report.groups = group_entries(run, gs_keys)  # each group submission listed once, with its members' outcomes
    gs_claims, gs_labels = gradescope_claims(
        run, gs_keys,
        value_lookup({row: table.rows[index] for row, index in student_rows.items()}, id_cols))
    if gs_claims:
        report.match_rule += "; " + GRADESCOPE_MATCH_RULE.format(columns=" or ".join(repr(c) for _, c in id_cols) or "SIS id column")
    groups: dict[str, list[GradedSubmission]] = {}
    for sub in run.submissions:
        ident = sub.identity
        if sub.label in gs_labels:
            continue
        if ident.platform == CANVAS:
            groups.setdefault(ident.lms_id, []).append(sub)
        elif ident.platform == MOODLE:
            report.unmatched.append(SubmissionNote(sub.label, "a Moodle download name, not a Canvas one: it carries no Canvas user id (use `gradkit export moodle`)"))
        else:
            report.unmatched.append(SubmissionNote(
                sub.label, "not a Canvas download name (lastnamefirstname_[LATE_]<user id>_<attachment id>_<file>), so it carries no Canvas user id"))

    claims = list(gs_claims)
    for uid, subs in groups.items():
        ordered = sorted(subs, key=lambda s: attempt_key(s.label), reverse=True)  # the latest-attempt rule, one for every output
        kept = ordered[0]

        def attempt(s: GradedSubmission) -> str:
            return f"resubmission {s.identity.attempt}, attachment {s.identity.attachment_id}"

        others = [(s, f"an earlier attempt ({attempt(s)}) of Canvas user id {uid}; the latest, {kept.label} ({attempt(kept)}), counts")
                  for s in ordered[1:]]
        claims.append(Claim(
            who=f"Canvas user id {uid}", kept=kept, others=others, rows=by_id.get(uid, []),
            matched_on=f"Canvas user id {uid} = ID column",
            no_row_reason=f"Canvas user id {uid} ({kept.identity.name}) is in no roster row's ID column "
                          "(dropped the course, a test student, or a download from another course?)",
        ))
    assigned = settle(claims, roster, report)
    keep = list(range(n_student)) + [col]
    rows = fill(roster, assigned, col, keep, report, pending_reasons(report))

    possible = format_points(run.points_possible)
    if not points_rows:
        report.notes.append(f"{gradebook_csv} has no 'Points Possible' row, so none was written; Canvas keeps the points the assignment has")
    for index in points_rows:
        previous = table.rows[index][col] if col < len(table.rows[index]) else ""
        if previous.strip() and previous.strip() != possible:
            try:
                same = float(previous) == run.points_possible
            except ValueError:
                same = False
            if not same:
                report.notes.append(f"Points Possible changed from {previous!r} to {possible} (the autograder's total)")
        rows[index][-1] = possible
    write_csv_atomic(out_csv, [table.header[i] for i in keep], rows, like=table)
    report.write_json()
    return report
