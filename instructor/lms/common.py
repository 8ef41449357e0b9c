"""What the Canvas and Moodle exports share: the graded submissions of a grading folder
(:func:`read_grading_dir`: from its gradebook's rows, :func:`graded_run`), reading and
writing the instructor's CSV files without changing a value, atomic writes, point formatting.

CSV files are handled with the :mod:`csv` module, not pandas: every cell stays the exact
string the LMS wrote (pandas would turn IDs into floats, drop leading zeros of SIS ids,
read ``EX`` or ``N/A`` as missing and reformat numbers). The byte-order mark, delimiter
and line ending of the instructor's file are kept in the file written back.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from autograder.grade_table import POINTS_POSSIBLE_LABEL
from autograder.manual_questions import MANUAL_PENDING_COLUMN, parse_pending
from autograder.points import points_possible
from autograder.status import COMPLETED

from ..atomic_files import OutputWriteError, write_text_atomic as _write_text_atomic
from ..gradebook import GRADEBOOK_FILE, Gradebook, GradebookRow
from ..gradescope import StudentKey
from .names import SubmissionIdentity, parse_submission_name

__all__ = [
    "COMPLETED", "ExportError", "GRADES_CSV", "GradedSubmission", "GradingRun", "POINTS_POSSIBLE_LABEL",
    "CsvTable", "check_output_path", "format_points", "graded_run", "read_csv_table", "read_grading_dir", "write_csv_atomic",
    "write_text_atomic",
]

GRADES_CSV = "grades.csv"
"""The grade table ``gradkit grade`` writes in its output folder (otter's final_grades.csv layout)."""
_BOM = "\ufeff"


class ExportError(Exception):
    """An export cannot be made from the given files; ``str(error)`` names the file and
    what is wrong (a missing column, an unreadable CSV, a missing ``grades.csv``...)."""


@dataclass(frozen=True)
class GradedSubmission:
    """One graded submission, as its row of ``grades.csv`` shows it.

    Attributes:
        label: the ``file`` column (see :mod:`instructor.lms.names`).
        points: ``total_points_earned``, float, points.
        status: ``grading_status`` text (for messages; never read back).
        identity: the LMS identity parsed from the label.
        row: the record's position in grades.csv (header = 1).
        manual_pending: manually graded questions not scored yet (grades.csv's
            ``manual_pending`` column); while any is, ``points`` is not the final grade.
        completed: every test ran and the score stands
            (:attr:`autograder.status.GradingStatus.completed`).
        hand_set: questions whose points the instructor set by hand
            (:attr:`instructor.gradebook.GradebookRow.hand_set`).
        changed_overrides: questions with an override on a changed submission
            (:attr:`instructor.gradebook.GradebookRow.changed_overrides`).
        student_key: its Gradescope submitters (:attr:`instructor.gradebook.GradebookRow.student_key`),
            None for other submissions and for a grades.csv without a gradebook.
    """

    label: str
    points: float
    status: str
    identity: SubmissionIdentity
    row: int
    manual_pending: tuple[str, ...] = ()
    completed: bool = False
    hand_set: tuple[str, ...] = ()
    changed_overrides: tuple[str, ...] = ()
    student_key: StudentKey | None = None


@dataclass(frozen=True)
class GradingRun:
    """The content of a grading output folder's ``grades.csv``.

    Attributes:
        grades_csv: path of the file read.
        points_possible: ``total_points_earned`` of the ``points-per-question`` row (float, points).
        submissions: every other row, in file order.
    """

    grades_csv: Path
    points_possible: float
    submissions: tuple[GradedSubmission, ...]


@dataclass
class CsvTable:
    """A CSV file as exact strings.

    Attributes:
        path: the file read.
        header: the first record's cells.
        rows: every later record (a blank line is ``[]``), cells unchanged.
        delimiter: ``","``, ``";"`` or ``"\\t"``.
        newline: ``"\\r\\n"`` or ``"\\n"``, as the file used.
        bom: the file started with a UTF-8 byte-order mark.
    """

    path: Path
    header: list[str]
    rows: list[list[str]]
    delimiter: str = ","
    newline: str = "\r\n"
    bom: bool = False


def read_csv_table(path: Path, what: str) -> CsvTable:
    """Read a UTF-8 CSV file (with or without BOM) into exact strings.

    The delimiter is the one of ``,`` ``;`` TAB that occurs most in the first line (Moodle
    lets the exporter choose; spreadsheet programs in some locales write ``;``).

    Args:
        path: the file.
        what: what the file should be, for messages (``"Canvas gradebook export"``).

    Returns:
        CsvTable

    Raises:
        ExportError: unreadable, not UTF-8, empty, or malformed CSV, or a row with more
            fields than the header (names the file and line).
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ExportError(f"{path}: cannot read the {what}: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ExportError(
            f"{path}: the {what} is not UTF-8 text (byte {error.start}); Canvas and Moodle export UTF-8 — "
            "if a spreadsheet program re-saved it, save it again as 'CSV UTF-8'"
        ) from None
    bom = text.startswith(_BOM)
    text = text.removeprefix(_BOM)
    if not text.strip():
        raise ExportError(f"{path}: the {what} is empty")
    first_line = text.splitlines()[0]
    delimiter = max(",;\t", key=first_line.count) if any(d in first_line for d in ",;\t") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records = []
    ended = 0  # the line the previous record ended on
    try:
        for record in reader:
            start, ended = ended + 1, reader.line_num
            if records and len(record) > len(records[0]):  # cells would shift under the wrong columns
                extra = ", ".join(repr(c) for c in record[len(records[0]):])
                raise ExportError(
                    f"{path}, line {start}: the {what}'s row has {len(record)} fields but its header has "
                    f"{len(records[0])} (extra: {extra}); a value with a '{delimiter}' must be quoted — fix the row, nothing was written")
            records.append(record)
    except csv.Error as error:
        raise ExportError(f"{path}, line {reader.line_num}: the {what} is not well-formed CSV: {error}") from None
    return CsvTable(
        path=path, header=records[0], rows=records[1:], delimiter=delimiter,
        newline="\r\n" if "\r\n" in text else "\n", bom=bom,
    )


def write_text_atomic(path: Path, text: str) -> None:
    """:func:`instructor.atomic_files.write_text_atomic` for the LMS exports.

    Raises:
        ExportError: the folder cannot be created or the file cannot be written (names it).
    """
    try:
        _write_text_atomic(path, text)
    except OutputWriteError as error:
        raise ExportError(str(error)) from None


def write_csv_atomic(path: Path, header: list[str], rows: list[list[str]], *, like: CsvTable) -> None:
    """Write a CSV atomically with the BOM, delimiter and line ending of ``like``.

    Cells are written as given (quoted only where the CSV syntax needs it).
    """
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=like.delimiter, lineterminator=like.newline, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    write_text_atomic(path, (_BOM if like.bom else "") + buffer.getvalue())


def check_output_path(out_csv: Path, *inputs: Path) -> Path:
    """Refuse to overwrite an input file with the export.

    Returns:
        Path: ``out_csv``.

    Raises:
        ExportError: ``out_csv`` is one of ``inputs`` or an existing folder.
    """
    out_csv = Path(out_csv)
    if out_csv.is_dir():
        raise ExportError(f"{out_csv}: is a folder; give the output CSV file's path")
    for given in inputs:
        if Path(given).exists() and out_csv.exists() and out_csv.resolve() == Path(given).resolve():
            raise ExportError(f"{out_csv}: the output would overwrite an input file; choose another --out")
    return out_csv


def format_points(points: float) -> str:
    """Points as an LMS import cell: ``10``, ``7.5``, ``2.3333`` (at most 4 decimals, no
    trailing zeros; a decimal point, as both Canvas and Moodle CSV imports read it)."""
    text = f"{round(float(points), 4):.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def graded_run(rows: list[GradebookRow], points: dict[str, float], manual: dict[str, float], grades_csv: Path) -> GradingRun:
    """The submissions of a grading folder from its gradebook rows: what grades.csv shows
    (:func:`instructor.outputs.write_exports` writes it from the same rows, in the same order).

    Args:
        rows: every gradebook row, in output order (:meth:`instructor.gradebook.Gradebook.rows`).
        points: autograded question -> points possible; ``manual``: manual question -> points possible.
        grades_csv: the folder's grades.csv (named in reports; not read).

    Returns:
        GradingRun: points possible (:func:`autograder.points.points_possible`) and one
        :class:`GradedSubmission` per row, ``row`` its position in grades.csv.
    """
    submissions = tuple(
        GradedSubmission(label=r.label, points=round(r.total, 5), status=r.status, identity=parse_submission_name(r.label),
                         row=number, manual_pending=tuple(r.manual_pending), completed=r.completed,
                         hand_set=tuple(r.hand_set), changed_overrides=tuple(r.changed_overrides), student_key=r.student_key)
        for number, r in enumerate(rows, start=3))  # header, points-per-question, then the rows
    return GradingRun(grades_csv=Path(grades_csv), points_possible=points_possible(points, manual), submissions=submissions)


def read_grading_dir(grading_dir: Path) -> GradingRun:
    """The graded submissions of a grading output folder.

    With a gradebook (every folder ``gradkit grade`` writes), its rows through
    :func:`graded_run`: the same rows, statuses and totals grades.csv was written from,
    with the structured fields (completed, hand-set questions) nothing has to read back
    from text. A folder with only a grade table (no gradebook: a ``grades.csv`` written
    elsewhere, in otter's ``final_grades.csv`` layout) is read from that file; see
    :func:`_read_grades_csv`.

    Args:
        grading_dir: the grading output folder.

    Returns:
        GradingRun: points possible and one :class:`GradedSubmission` per submission.

    Raises:
        ExportError: the folder is missing; without a gradebook, see :func:`_read_grades_csv`.
    """
    grading_dir = Path(grading_dir)
    if not grading_dir.is_dir():
        raise ExportError(f"{grading_dir}: no such grading output folder")
    if (grading_dir / GRADEBOOK_FILE).is_file():
        with Gradebook(grading_dir) as book:
            return graded_run(book.rows(), book.points(), book.manual_questions(), grading_dir / GRADES_CSV)
    return _read_grades_csv(grading_dir)


def _read_grades_csv(grading_dir: Path) -> GradingRun:
    """Read a folder's ``grades.csv`` that has no gradebook beside it.

    Only the columns ``file``, ``total_points_earned``, ``grading_status`` and, when the
    assignment has manual questions, ``manual_pending`` are used (other columns, such as
    per-question points, are ignored). Such a table is outside input, so its
    ``grading_status`` is all there is to go by: a submission is completed when it says
    ``Completed`` (otter's word; gradkit's notes may follow after ``"; "``); no question
    counts as set by hand (overrides live in a gradebook).

    Raises:
        ExportError: grades.csv is missing, a needed column is missing, the
            ``points-per-question`` row is missing, or a points cell is not a number.
    """
    path = grading_dir / GRADES_CSV
    if not path.is_file():
        raise ExportError(f"{path}: no grades.csv in the grading output folder; run `gradkit grade --out {grading_dir} ...` first")
    table = read_csv_table(path, "grade table")
    header = [h.strip() for h in table.header]
    missing = [c for c in ("file", "total_points_earned", "grading_status") if c not in header]
    if missing:
        raise ExportError(f"{path}: not a gradkit grade table: no {', '.join(repr(c) for c in missing)} column (header: {', '.join(header)})")
    i_file, i_total, i_status = (header.index(c) for c in ("file", "total_points_earned", "grading_status"))
    i_pending = header.index(MANUAL_PENDING_COLUMN) if MANUAL_PENDING_COLUMN in header else None
    possible: float | None = None
    submissions = []
    for number, record in enumerate(table.rows, start=2):
        if not record:
            continue
        cells = record + [""] * (len(header) - len(record))
        label = cells[i_file]
        try:
            points = float(cells[i_total])
        except ValueError:
            raise ExportError(f"{path}, row {number} ({label!r}): total_points_earned {cells[i_total]!r} is not a number") from None
        if label == POINTS_POSSIBLE_LABEL:
            possible = points
        else:
            pending = parse_pending(cells[i_pending]) if i_pending is not None else ()
            status = cells[i_status]
            submissions.append(GradedSubmission(label, points, status, parse_submission_name(label), number, pending,
                                                completed=status == COMPLETED or status.startswith(COMPLETED + "; ")))
    if possible is None:
        raise ExportError(f"{path}: no {POINTS_POSSIBLE_LABEL!r} row, so the points possible are unknown")
    return GradingRun(grades_csv=path, points_possible=possible, submissions=tuple(submissions))
