"""``gradkit remove``: take submissions out of a grading folder (recorded in its history)."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from . import CommandFailed, CommandUsageError, gradebook_lock

__all__ = ["main"]

log = logging.getLogger(__name__)


def main(*, out_dir: Path, labels: tuple[str, ...] | list[str], note: str = "", wait: float = 0):
    """Delete the gradebook rows of ``labels`` (:func:`instructor.remove.remove_submissions`)
    and print what remains.

    Args:
        out_dir: a grading output folder holding ``gradebook.sqlite``.
        labels: the submissions' labels (the ``file`` column of grades.csv).
        note: why, kept in the gradebook's history with each removal.
        wait: seconds to wait when another command writes ``out_dir``.

    Returns:
        instructor.outputs.Rebuilt: the remaining rows and the files rewritten.

    Raises:
        CommandUsageError: no gradebook, or an unknown label.
        CommandFailed: another command is writing ``out_dir``.
    """
    from instructor.lock import FolderBusy
    from instructor.remove import RemoveError, remove_submissions

    log.info("removing %s from %s", ", ".join(labels), out_dir)
    try:
        with gradebook_lock(out_dir, wait):
            rebuilt = remove_submissions(out_dir, list(labels), note=note)
    except RemoveError as error:
        raise CommandUsageError(str(error)) from None
    except FolderBusy as error:
        raise CommandFailed(str(error)) from None
    click.echo(f"removed {len(set(labels))}: {', '.join(dict.fromkeys(labels))}; {len(rebuilt.rows)} submissions remain in {out_dir}")
    for note_line in rebuilt.notes:
        click.echo(note_line)
    return rebuilt
