"""``gradkit grade``: grade submissions into a grading output folder (resumable)."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from autograder.engines import DEFAULT_ENGINE, Limits

from . import CommandFailed, CommandUsageError

__all__ = ["DEFAULT_GRADING_OUT", "main"]

DEFAULT_GRADING_OUT = Path("grading-output")
"""The grading output folder of ``gradkit grade`` when ``--out`` is not given."""

log = logging.getLogger(__name__)


def main(*, autograder_zip: Path, submissions: tuple[Path, ...] | list[Path], out_dir: Path = DEFAULT_GRADING_OUT,
         jobs: int | None = None, timeout: float = Limits.timeout, cell_timeout: float = Limits.cell_timeout,
         memory_mb: int = Limits.memory_mb, output_bytes: int = Limits.output_bytes, engine: str = DEFAULT_ENGINE,
         regrade: bool = False, show_hidden: bool | None = None, wait: float = 0, progress: bool = True):
    """Grade ``submissions`` with :func:`instructor.batch.grade_batch` and print the grade
    table and a summary.

    Args:
        autograder_zip: the zip from ``gradkit build``.
        submissions: .ipynb files, otter export zips, folders, LMS bulk downloads.
        out_dir: the grading output folder (resumed if it exists).
        jobs: submissions graded at once (None: the number of CPU cores).
        timeout: wall-clock seconds per submission.
        cell_timeout: seconds per cell before it is interrupted.
        memory_mb: memory cap per grading process, MiB.
        output_bytes: captured output kept per submission, bytes.
        engine: a registered grading engine (:func:`autograder.engines.available_engines`).
        regrade: grade every submission again, even if the gradebook has it.
        show_hidden: hidden tests' messages in the feedback files (None: the folder's
            earlier choice, else the zip's ``hidden_results``).
        wait: seconds to wait when another command writes ``out_dir``.
        progress: the progress bar on stderr.

    Returns:
        instructor.batch.BatchSummary: what was graded and the grade table.

    Raises:
        CommandUsageError: not an autograder zip, no submissions, ``out_dir`` a file, an
            engine that cannot run here (:func:`instructor.batch.grade_batch`).
        CommandFailed: another command is writing ``out_dir``.
    """
    from autograder.autograder_zip import AutograderZipError
    from instructor.batch import grade_batch
    from instructor.lock import FolderBusy

    limits = Limits(timeout=timeout, cell_timeout=cell_timeout, memory_mb=memory_mb, output_bytes=output_bytes)
    log.info("grading %d path(s) with %s into %s (engine %s, %s)", len(submissions), autograder_zip, out_dir, engine, limits)
    try:
        summary = grade_batch(autograder_zip=autograder_zip, submissions=list(submissions), out_dir=out_dir, jobs=jobs,
                              limits=limits, engine=engine, regrade=regrade, show_hidden=show_hidden, progress=progress, wait=wait)
    except (AutograderZipError, ValueError) as error:
        raise CommandUsageError(str(error)) from None
    except FolderBusy as error:
        raise CommandFailed(str(error)) from None
    click.echo(summary.table.to_string(index=False, na_rep="pending"))  # a manual question not graded yet
    click.echo("\n" + summary.text())
    return summary
