"""``gradkit export``: grade import files for Canvas and Moodle from a grading output folder."""

from __future__ import annotations

from pathlib import Path

import click

from .canvas import export_canvas
from .common import ExportError
from .moodle import MATCH_ON, export_moodle

__all__ = ["export"]

_GRADING_DIR = click.Path(exists=True, file_okay=False, path_type=Path)
_INPUT_CSV = click.Path(exists=True, dir_okay=False, path_type=Path)
_OUT_CSV = click.Path(dir_okay=False, path_type=Path)


@click.group()
def export() -> None:
    """Write an LMS grade import file from a grading output folder's grades.csv."""


@export.command()
@click.option("--gradebook", "gradebook_csv", required=True, type=_INPUT_CSV, help="The course's Canvas gradebook export (CSV).")
@click.option("--column", required=True, help='The assignment column to fill, e.g. "Autograd Basics (12345)".')
@click.option("--out", "out_csv", type=_OUT_CSV, default=None, help="Import file to write [default: DIR/canvas-import.csv].")
@click.argument("grading_dir", metavar="DIR", type=_GRADING_DIR)
def canvas(gradebook_csv: Path, column: str, out_csv: Path | None, grading_dir: Path) -> None:
    """Fill one assignment column of a Canvas gradebook export from DIR/grades.csv.

    Students are matched by the Canvas user id in the "Download Submissions" file names;
    the latest attempt counts. Writes the import file (student columns, every row, the one
    assignment column, Points Possible) and a .report.json beside it, and prints the
    report. Exits non-zero only on usage errors.
    """
    try:
        report = export_canvas(gradebook_csv=gradebook_csv, column=column, grading_dir=grading_dir,
                               out_csv=out_csv or grading_dir / "canvas-import.csv")
    except ExportError as error:
        raise click.UsageError(str(error)) from None
    click.echo(report.to_text())


@export.command()
@click.option("--grades-template", "grades_template", required=True, type=_INPUT_CSV, help="A Moodle grade export (CSV) of the course.")
@click.option("--column", required=True, help='The grade column to fill, e.g. "Assignment: Autograd Basics (Real)".')
@click.option("--out", "out_csv", type=_OUT_CSV, default=None, help="Import file to write [default: DIR/moodle-import.csv].")
@click.option("--match-on", type=click.Choice(list(MATCH_ON)), default="name", show_default=True,
              help="Name orders that may match: both, First+Last only, or Last+First only.")
@click.argument("grading_dir", metavar="DIR", type=_GRADING_DIR)
def moodle(grades_template: Path, column: str, out_csv: Path | None, match_on: str, grading_dir: Path) -> None:
    """Fill one grade column of a Moodle grade export from DIR/grades.csv.

    Moodle exports carry no participant id, so students are matched by the full name in
    the "Download all submissions" names (case and accents ignored; ambiguous names are
    reported, never guessed). Writes the import file and a .report.json beside it, and
    prints the report. Exits non-zero only on usage errors.
    """
    try:
        report = export_moodle(grades_template=grades_template, column=column, grading_dir=grading_dir,
                               out_csv=out_csv or grading_dir / "moodle-import.csv", match_on=match_on)
    except ExportError as error:
        raise click.UsageError(str(error)) from None
    click.echo(report.to_text())
