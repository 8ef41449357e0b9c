"""``gradkit export canvas``: fill one assignment column of a Canvas gradebook export."""

from __future__ import annotations

from pathlib import Path

from . import export_to_lms

__all__ = ["DEFAULT_CANVAS_FILE", "main"]

DEFAULT_CANVAS_FILE = "canvas-import.csv"
"""The import file's name in the grading folder when ``--out`` is not given."""


def main(*, gradebook_csv: Path, column: str, grading_dir: Path, out_csv: Path | None = None, wait: float = 0):
    """Write the Canvas import file (:func:`instructor.lms.canvas.export_canvas`, through
    :func:`instructor.outputs.export_lms`) and print its report.

    Args:
        gradebook_csv: the course's Canvas gradebook export (CSV).
        column: the assignment column to fill, e.g. ``"Autograd Basics (12345)"``.
        grading_dir: the grading output folder.
        out_csv: the import file (None: ``grading_dir/canvas-import.csv``).
        wait: seconds to wait when another command writes ``grading_dir``.

    Returns:
        instructor.lms.export_report.ExportReport: what matched what.

    Raises:
        CommandUsageError: the export cannot be made (names the file and what is wrong).
        CommandFailed: another command is writing ``grading_dir``.
    """
    return export_to_lms("canvas", source=gradebook_csv, column=column, grading_dir=grading_dir,
                         out_csv=out_csv or Path(grading_dir) / DEFAULT_CANVAS_FILE, wait=wait, match_on="name")
