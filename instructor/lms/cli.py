"""``gradkit export``: grade import files for Canvas and Moodle from a grading output folder."""

from __future__ import annotations

from pathlib import Path

import click

from ..lock import FolderBusy
from .common import ExportError
from .moodle import MATCH_ON

__all__ = ["export"]

_GRADING_DIR = click.Path(exists=True, file_okay=False, path_type=Path)
_INPUT_CSV = click.Path(exists=True, dir_okay=False, path_type=Path)
_OUT_CSV = click.Path(dir_okay=False, path_type=Path)


@click.group()
def export() -> None:
    """Write an LMS grade import file from a grading output folder.

    With a gradebook in DIR, every output is first rebuilt from it (the import holds every
    submission), and the export is remembered: later `gradkit grade`, `review`, `report`
    and `remove` runs write the import file again.
    """


def _run(platform: str, source: Path, column: str, grading_dir: Path, out_csv: Path, match_on: str, wait: float,
         **moodle: str | None) -> None:
    import contextlib

    from ..gradebook import GRADEBOOK_FILE
    from ..lock import output_lock
    from ..outputs import export_lms

    try:
        with output_lock(grading_dir, wait=wait) if (grading_dir / GRADEBOOK_FILE).is_file() else contextlib.nullcontext():
            report = export_lms(platform, source=source, column=column, grading_dir=grading_dir, out_csv=out_csv, match_on=match_on,
                                **moodle)
    except ExportError as error:
        raise click.UsageError(str(error)) from None
    except FolderBusy as error:
        raise click.ClickException(str(error)) from None
    click.echo(report.to_text())


_WAIT = click.option("--wait", type=click.FloatRange(min=0), default=0, show_default=True,
                     help="Seconds to wait when another gradkit command is writing DIR (else refuse at once).")


@export.command()
@click.option("--gradebook", "gradebook_csv", required=True, type=_INPUT_CSV, help="The course's Canvas gradebook export (CSV).")
@click.option("--column", required=True, help='The assignment column to fill, e.g. "Autograd Basics (12345)".')
@click.option("--out", "out_csv", type=_OUT_CSV, default=None, help="Import file to write [default: DIR/canvas-import.csv].")
@_WAIT
@click.argument("grading_dir", metavar="DIR", type=_GRADING_DIR)
def canvas(gradebook_csv: Path, column: str, out_csv: Path | None, grading_dir: Path, wait: float) -> None:
    """Fill one assignment column of a Canvas gradebook export from DIR/grades.csv.

    Students are matched by the Canvas user id in the "Download Submissions" file names;
    the latest attempt counts. Writes the import file (student columns, every row, the one
    assignment column, Points Possible) and a .report.json beside it, and prints the
    report. Exits non-zero only on usage errors.
    """
    _run("canvas", gradebook_csv, column, grading_dir, out_csv or grading_dir / "canvas-import.csv", "name", wait)


@export.command()
@click.option("--grades-template", "grades_template", required=True, type=_INPUT_CSV, help="A Moodle grade export (CSV) of the course.")
@click.option("--column", required=True, help='The grade column to fill, e.g. "Assignment: Autograd Basics (Real)".')
@click.option("--out", "out_csv", type=_OUT_CSV, default=None, help="Import file to write [default: DIR/moodle-import.csv].")
@click.option("--match-on", type=click.Choice(list(MATCH_ON)), default="name", show_default=True,
              help="Name orders that may match: both, First+Last only, or Last+First only.")
@click.option("--name-columns", default=None, metavar="FIRST,LAST",
              help='The first-name and last-name columns, e.g. "Nombre,Apellido(s)" [default: recognised in English, '
                   'Spanish, French, German, Portuguese, Italian, Dutch, or Forename,Surname].')
@click.option("--id-column", default=None, metavar="COLUMN",
              help="The column Moodle's import maps users by (email or ID number) [default: the recognised ones].")
@_WAIT
@click.argument("grading_dir", metavar="DIR", type=_GRADING_DIR)
def moodle(grades_template: Path, column: str, out_csv: Path | None, match_on: str, name_columns: str | None,
           id_column: str | None, grading_dir: Path, wait: float) -> None:
    """Fill one grade column of a Moodle grade export from DIR/grades.csv.

    Moodle exports carry no participant id, so students are matched by the full name in
    the "Download all submissions" names (case and accents ignored; ambiguous names are
    reported, never guessed). Writes the import file and a .report.json beside it, and
    prints the report. Exits non-zero only on usage errors.
    """
    _run("moodle", grades_template, column, grading_dir, out_csv or grading_dir / "moodle-import.csv", match_on, wait,
         name_columns=name_columns, id_column=id_column)
