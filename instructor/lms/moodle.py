"""Moodle: fill one activity column of a Moodle grade export from grades.csv, for
Moodle's CSV grade import.

Moodle facts used (``shared/brief/lms.md``, "Moodle grade import"):

* the import reads a CSV like Moodle's own grade export: identity columns
  (``First name``, ``Last name``, ``ID number``, ``Institution``, ``Department``,
  ``Email address``) then one column per grade item (Moodle titles them
  ``Assignment: Name (Real)``; ``Course total``, ``Last downloaded from this course``);
* on import the instructor maps one identity column (email or ID number) to users, and
  the grade column to the assignment;
* "Download all submissions" names files or folders
  ``Full Name_<participant id>_assignsubmission_file_<original file name>``.

The participant id is a per-assignment number that no grade export contains, and a
download name carries no email or ID number, so submissions are matched by **name**
(see :data:`MOODLE_MATCH_RULE`).
"""

from __future__ import annotations

import re
from pathlib import Path

from ._match import Claim, Roster, fill, pending_reasons, settle
from .common import (
    GRADES_CSV, CsvTable, ExportError, GradedSubmission, GradingRun, check_output_path, read_csv_table, read_grading_dir,
    write_csv_atomic,
)
from .gradescope_match import GRADESCOPE_MATCH_RULE, gradescope_claims, group_entries, student_keys, value_lookup
from .moodle_headers import is_identity_header, parse_name_columns, resolve_identity
from .names import CANVAS, MOODLE, normalize_name
from .export_report import ExportReport, SubmissionNote

__all__ = ["IDENTITY_COLUMNS", "MATCH_ON", "MOODLE_MATCH_RULE", "export_moodle"]

IDENTITY_COLUMNS = ("First name", "Last name", "ID number", "Institution", "Department", "Email address")
"""Identity columns of Moodle's grade export (the site may add others, e.g. ``Username``)."""

MATCH_ON = {
    "name": (("First name + Last name", False), ("Last name + First name", True)),
    "first-last": (("First name + Last name", False),),
    "last-first": (("Last name + First name", True),),
}
"""``match_on`` values -> the name orders compared (label, last name first?). ``name``
tries both, for sites whose ``fullnamedisplay`` puts the last name first."""

MOODLE_MATCH_RULE = (
    "Moodle grade exports have no participant id and download names carry no email or ID number, so each "
    "participant's download name ('Full Name_<participant id>_assignsubmission_file_...') is compared with every "
    "roster row's {orders}, ignoring case, accents, punctuation Moodle strips from file names (' \" & : ...) and "
    "extra spaces; it fills a row only if exactly one row has that name and no other participant matches that row "
    "(otherwise it is reported as ambiguous); a participant with several files counts only if they all scored "
    "the same (Moodle names carry no attempt order)"
)
_NO_KEY = "no email or ID number"
_GRADE_ITEM = re.compile(r"\((Real|Percentage|Letter)\)\s*$")


def _is_grade_item(header: str) -> bool:
    """True for headers Moodle gives grade items (``Quiz: Week 1 (Real)``, ``Course total (Real)``)."""
    h = header.strip()
    return bool(": " in h or _GRADE_ITEM.search(h) or h.startswith(("Course total", "Category total"))
                or h == "Last downloaded from this course")


def _identity_columns(table: CsvTable, col: int) -> int:
    """Number of leading identity columns: up to the first grade item or the chosen column."""
    count = 0
    while count < len(table.header) and count != col and not _is_grade_item(table.header[count]):
        count += 1
    return count


def _find_column(table: CsvTable, column: str) -> int:
    header = table.header
    for candidates in ([i for i, h in enumerate(header) if h == column], [i for i, h in enumerate(header) if h.strip() == column.strip()]):
        if len(candidates) > 1:
            raise ExportError(f"{table.path}: the header has {len(candidates)} columns named {column!r}; rename the extra ones")
        if candidates:
            if header[candidates[0]].strip() in IDENTITY_COLUMNS or is_identity_header(header[candidates[0]]):
                raise ExportError(f"{table.path}: {column!r} is an identity column, not a grade column")
            return candidates[0]
    items = [h for h in header if _is_grade_item(h)]
    like = [h for h in header if column.strip().casefold() in h.casefold()]
    hint = f"; did you mean {', '.join(repr(h) for h in like)}?" if like else ""
    raise ExportError(f"{table.path}: no column {column!r} in the header{hint} (grade columns: {', '.join(repr(h) for h in items) or 'none'})")


def export_moodle(*, grades_template: Path, column: str, grading_dir: Path, out_csv: Path, match_on: str = "name",
                  name_columns: str | tuple[str, str] | None = None, id_column: str | None = None,
                  run: GradingRun | None = None) -> ExportReport:
    """Write a Moodle grade import file with one activity column filled from grades.csv.

    The file written has the template's identity columns (every column before the first
    grade item: ``First name`` ... ``Email address``, and any the site adds) and every row,
    unchanged and in the same order, plus the one column ``column``. Other grade items are
    dropped: an import that carries stale copies of other activities could overwrite
    grades entered since the export, and a file with one grade column leaves nothing to
    mis-map on the import screen.

    * Matching: :data:`MOODLE_MATCH_RULE` (a **name** match; every match says which order
      matched). A submission without a Moodle download name, or with a name no row has, is
      reported as unmatched; a name several rows share, or a row several participants
      match, is reported as ambiguous; none of them fills a row. A Gradescope export's
      submissions (graded into a folder with a gradebook) match by their submitters'
      email / student id against the email / ID number column, each member of a group
      getting the group's score (:mod:`.gradescope_match`).
    * A matched row's cell gets ``total_points_earned`` (``10``, ``7.5``); a used
      submission whose ``grading_status`` is not ``Completed`` has its score (0) written
      and is flagged. A row without a usable submission keeps its value and is reported.
    * The report's notes say which identity column to map on import, and list matched
      rows whose ``Email address`` and ``ID number`` are both blank (the import cannot map
      them).

    Writes ``out_csv`` atomically (the template's BOM, delimiter and line endings kept)
    and the JSON report beside it (``<out stem>.report.json``).

    Args:
        grades_template: a Moodle grade export (Grades > Export > Plain text file).
        column: the grade column to fill, e.g. ``"Assignment: Autograd Basics (Real)"``.
        grading_dir: a ``gradkit grade`` output folder holding ``grades.csv``.
        out_csv: the import file to write; must not be ``grades_template``.
        match_on: ``"name"`` (First + Last or Last + First), ``"first-last"`` or
            ``"last-first"``: which name orders may match.
        name_columns: the first-name and last-name headers (``"Nombre,Apellido(s)"`` or a
            pair), for a template whose headers :mod:`.moodle_headers` does not know;
            None: recognise them (English, Spanish, French, German, Portuguese, Italian,
            Dutch, ``Forename``/``Surname``).
        id_column: the header of the column the import maps users by (email or ID
            number); None: every recognised email / ID number column.
        run: the folder's graded submissions when the caller has just read its gradebook
            (:func:`.common.graded_run`); None: read them (:func:`.common.read_grading_dir`).

    Returns:
        ExportReport: what matched what; ``platform == "moodle"``.

    Raises:
        ExportError: the template is unreadable or has no recognised or named first-name
            and last-name columns (the message lists the columns found),
            ``column`` is not in its header, ``match_on`` is unknown, grades.csv is
            missing or malformed, or ``out_csv`` would overwrite an input.
    """
    if match_on not in MATCH_ON:
        raise ExportError(f"match_on={match_on!r}: expected one of {', '.join(MATCH_ON)}")
    orders = MATCH_ON[match_on]
    grades_template, grading_dir = Path(grades_template), Path(grading_dir)
    out_csv = check_output_path(Path(out_csv), grades_template, grading_dir / GRADES_CSV)
    table = read_csv_table(grades_template, "Moodle grade export")
    head = [h.strip() for h in table.header]
    if head[:2] == ["Student", "ID"]:
        raise ExportError(f"{grades_template}: this is a Canvas gradebook export (its header begins 'Student', 'ID'), "
                          "not a Moodle grade export; use `gradkit export canvas --gradebook` with it")
    col = _find_column(table, column)
    n_identity = _identity_columns(table, col)
    if isinstance(name_columns, str):
        name_columns = parse_name_columns(name_columns)
    identity = resolve_identity(table, n_identity, name_columns=name_columns, id_column=id_column)
    i_first, i_last = identity.first, identity.last
    id_columns = identity.ids
    first_h, last_h = identity.first_label.strip(), identity.last_label.strip()
    orders = tuple((label.replace("First name", first_h).replace("Last name", last_h), last_first)
                   for label, last_first in orders)
    run = run if run is not None else read_grading_dir(grading_dir)

    student_rows: dict[int, int] = {}
    names: dict[int, str] = {}
    keys: dict[int, str] = {}
    by_name: dict[str, list[tuple[int, str]]] = {}
    for index, record in enumerate(table.rows):
        row = index + 2
        cells = record + [""] * (n_identity - len(record))
        first, last = cells[i_first], cells[i_last]
        if not (first.strip() or last.strip()):
            continue  # not a student: kept as it is
        student_rows[row], names[row] = index, f"{first} {last}".strip()
        keys[row] = next((f"{c} {cells[i].strip()}" for i, c in id_columns if cells[i].strip()), _NO_KEY)
        for label, last_first in orders:
            key = normalize_name(f"{last} {first}" if last_first else f"{first} {last}")
            by_name.setdefault(key, []).append((row, label))
    roster = Roster(table=table, student_rows=student_rows, names=names, keys=keys)
    report = ExportReport(
        platform=MOODLE, source_csv=str(grades_template), grades_csv=str(run.grades_csv), out_csv=str(out_csv),
        column=table.header[col], points_possible=run.points_possible,
        match_rule=MOODLE_MATCH_RULE.format(orders=" or ".join(label for label, _ in orders)),
    )

    gs_keys = student_keys(run)
    report.groups = group_entries(run, gs_keys)  # each group submission listed once, with its members' outcomes
    gs_claims, gs_labels = gradescope_claims(
        run, gs_keys,
        value_lookup({row: table.rows[index] for row, index in student_rows.items()}, list(id_columns)))
    if gs_claims:
        report.match_rule += "; " + GRADESCOPE_MATCH_RULE.format(
            columns=" or ".join(repr(c) for _, c in id_columns) or "email / ID number column")
    groups: dict[str, list[GradedSubmission]] = {}
    for sub in run.submissions:
        ident = sub.identity
        if sub.label in gs_labels:
            continue
        if ident.platform == MOODLE:
            groups.setdefault(ident.lms_id, []).append(sub)
        elif ident.platform == CANVAS:
            report.unmatched.append(SubmissionNote(sub.label, "a Canvas download name, not a Moodle one (use `gradkit export canvas`)"))
        else:
            report.unmatched.append(SubmissionNote(
                sub.label, "not a Moodle download name (Full Name_<participant id>_assignsubmission_file_<file>), so it carries no name to match"))

    claims = list(gs_claims)
    for pid, subs in groups.items():
        subs = sorted(subs, key=lambda s: s.label)
        who = f"participant {pid}"
        name = subs[0].identity.name or ""
        matches: dict[int, str] = {}
        for row, label in by_name.get(normalize_name(name), []):
            matches.setdefault(row, label)
        claim = Claim(
            who=f"{who} ({name})", kept=subs[0], rows=sorted(matches),
            matched_on=(f"name {name!r} = " + " / ".join(sorted(set(matches.values())))) if matches else "name",
            no_row_reason=f"no roster row is named {name!r} ({' or '.join(label for label, _ in orders)}; case, accents and punctuation ignored)"
            + (" — the download looks blind-marked (names hidden as 'Participant'): reveal identities and download again"
               if normalize_name(name) == "participant" else ""),
        )
        if len({normalize_name(s.identity.name or "") for s in subs}) > 1:
            claim.problem = f"{who}'s files carry different names ({', '.join(sorted({s.identity.name or '' for s in subs}))})"
        elif len({(s.points, s.status, s.manual_pending) for s in subs}) > 1:
            results = "; ".join(f"{s.label}: {s.points:g} points, {s.status}" for s in subs)
            claim.problem = (f"{who} ({name}) has {len(subs)} files with different results ({results}); Moodle download "
                             "names carry no attempt order, so none is used: grade the one that counts alone")
        if claim.problem:
            claim.others = [(s, claim.problem) for s in subs[1:]]
        else:
            claim.others = [(s, f"another file of {who} ({name}) with the same result; {subs[0].label} is the one listed") for s in subs[1:]]
        claims.append(claim)
    assigned = settle(claims, roster, report)
    keep = list(range(n_identity)) + [col]
    rows = fill(roster, assigned, col, keep, report, pending_reasons(report))

    if id_columns:
        report.notes.append(
            f"on import (Grades > Import > CSV file), map {' or '.join(repr(c) for _, c in id_columns)} to the users "
            f"and {table.header[col]!r} to the assignment")
        unmappable = [m for m in report.matched if m.key == _NO_KEY]
        if unmappable:
            report.notes.append(f"matched rows with no {' and no '.join(repr(c) for _, c in id_columns)}, which the import cannot map: "
                                + ", ".join(f"row {m.row} ({m.student})" for m in unmappable))
    else:
        report.notes.append(f"{grades_template} has neither 'Email address' nor 'ID number' (nor a translation of them): "
                            "Moodle's import needs one of them to map rows to users; export the gradebook with them, or "
                            "name the column with --id-column")
    write_csv_atomic(out_csv, [table.header[i] for i in keep], rows, like=table)
    report.write_json()
    return report
