"""``gradkit report``: rebuild report.html, and every other output, from the gradebook."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from . import CommandFailed, CommandUsageError, gradebook_lock

__all__ = ["main"]

log = logging.getLogger(__name__)


def main(*, out_dir: Path, show_hidden: bool | None = None, wait: float = 0):
    """Rewrite every output of ``out_dir`` from its gradebook
    (:func:`instructor.outputs.rebuild_outputs`) and print what was written.

    Args:
        out_dir: a grading output folder holding ``gradebook.sqlite``.
        show_hidden: hidden tests' messages in the feedback files (None: keep the choice).
        wait: seconds to wait when another command writes ``out_dir``.

    Returns:
        instructor.outputs.Rebuilt: the rows and files written.

    Raises:
        CommandUsageError: no gradebook in ``out_dir``.
        CommandFailed: another command is writing ``out_dir``.
    """
    from instructor.lock import FolderBusy
    from instructor.outputs import rebuild_outputs
    from instructor.report_html import REPORT_FILE

    log.info("rebuilding every output of %s from its gradebook", out_dir)
    try:
        with gradebook_lock(out_dir, wait):
            rebuilt = rebuild_outputs(out_dir, show_hidden=show_hidden)
    except FileNotFoundError as error:
        raise CommandUsageError(str(error)) from None
    except FolderBusy as error:
        raise CommandFailed(str(error)) from None
    log.info("%s: wrote %s, grades.csv, students.csv, results/, feedback/ for %d submissions; LMS files: %s",
             out_dir, REPORT_FILE, len(rebuilt.rows), ", ".join(map(str, rebuilt.lms_files)) or "none")
    lms = "".join(f", {p.name}" for p in rebuilt.lms_files)
    click.echo(f"wrote {Path(out_dir) / REPORT_FILE} (and grades.csv, students.csv, results/, feedback/{lms}): "
               f"{len(rebuilt.rows)} submissions, every one in the gradebook")
    for line in rebuilt.notes:
        click.echo(line)
    return rebuilt
