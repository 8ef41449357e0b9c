"""``gradkit export moodle``: fill one grade column of a Moodle grade export."""

from __future__ import annotations

from pathlib import Path

from . import export_to_lms

__all__ = ["DEFAULT_MOODLE_FILE", "main"]

DEFAULT_MOODLE_FILE = "moodle-import.csv"
"""The import file's name in the grading folder when ``--out`` is not given."""


def main(*, grades_template: Path, column: str, grading_dir: Path, out_csv: Path | None = None, match_on: str = "name",
         name_columns: str | None = None, id_column: str | None = None, wait: float = 0):
    """Write the Moodle import file (:func:`instructor.lms.moodle.export_moodle`, through
    :func:`instructor.outputs.export_lms`) and print its report.

    Args:
        grades_template: a Moodle grade export (CSV) of the course.
        column: the grade column to fill, e.g. ``"Assignment: Autograd Basics (Real)"``.
        grading_dir: the grading output folder.
        out_csv: the import file (None: ``grading_dir/moodle-import.csv``).
        match_on: name orders that may match (:data:`instructor.lms.moodle.MATCH_ON`).
        name_columns: ``"FIRST,LAST"`` column names (None: recognised ones).
        id_column: the column Moodle's import maps users by (None: recognised ones).
        wait: seconds to wait when another command writes ``grading_dir``.

    Returns:
        instructor.lms.export_report.ExportReport: what matched what.

    Raises:
        CommandUsageError: the export cannot be made (names the file and what is wrong).
        CommandFailed: another command is writing ``grading_dir``.
    """
    return export_to_lms("moodle", source=grades_template, column=column, grading_dir=grading_dir,
                         out_csv=out_csv or Path(grading_dir) / DEFAULT_MOODLE_FILE, wait=wait, match_on=match_on,
                         name_columns=name_columns, id_column=id_column)
