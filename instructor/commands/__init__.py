"""The ``gradkit`` commands as Python functions: one module per command, each with a
keyword-only ``main(*, ...)`` whose defaults are the command's defaults (otter-grader's
layout: ``otter.grade.main(*, ...)`` under a thin click layer). :mod:`instructor.cli`
reads every option's default from these signatures, so each default is written once.

==========================  =========================================
``gradkit build``           :mod:`instructor.commands.build_command`
``gradkit grade``           :mod:`instructor.commands.grade_command`
``gradkit report``          :mod:`instructor.commands.report_command`
``gradkit remove``          :mod:`instructor.commands.remove_command`
``gradkit review``          :mod:`instructor.commands.review_command`
``gradkit demo``            :mod:`instructor.commands.demo_command`
``gradkit serve``           :mod:`instructor.commands.serve_command`
``gradkit export canvas``   :mod:`instructor.commands.export_canvas_command`
``gradkit export moodle``   :mod:`instructor.commands.export_moodle_command`
``gradkit check``           :func:`student.check.main` (the student side)
==========================  =========================================

A ``main`` prints what the command prints (``click.echo``), logs each step with the
standard :mod:`logging` module (``gradkit CMD -v``: INFO, ``-vv``: DEBUG), returns the
command's result, and raises :class:`CommandUsageError` (the CLI prints ``Error: ...``
and exits 2) or :class:`CommandFailed` (exits 1). Each module imports only the standard
library and its own small needs at import time; the grading machinery is imported when
``main`` runs, so ``gradkit --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEFAULT_ASSIGNMENTS", "CommandFailed", "CommandUsageError", "assignment_dirs", "export_to_lms", "gradebook_lock"]

DEFAULT_ASSIGNMENTS = Path("assignments")
"""Where ``gradkit build`` and ``gradkit demo`` look for assignment folders when given none."""


class CommandUsageError(ValueError):
    """The command was given something wrong (a path, an option value, a label); the
    message names it. The CLI prints ``Error: <message>`` and exits 2."""


class CommandFailed(RuntimeError):
    """The command ran and failed (a folder busy, a sample off its expected points); the
    message says why. The CLI prints ``Error: <message>`` and exits 1."""


def assignment_dirs(given: tuple[Path, ...] | list[Path]) -> list[Path]:
    """The assignment folders to work on: ``given``, else every folder in ``./assignments/``
    (sorted, hidden ones left out).

    Raises:
        CommandUsageError: none given and no ``./assignments/`` here, or it holds no folder.
    """
    if given:
        return list(given)
    if not DEFAULT_ASSIGNMENTS.is_dir():
        raise CommandUsageError(f"no assignment folders given and no ./{DEFAULT_ASSIGNMENTS}/ here")
    found = sorted(p for p in DEFAULT_ASSIGNMENTS.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not found:
        raise CommandUsageError(f"./{DEFAULT_ASSIGNMENTS}/ holds no assignment folder")
    return found


def gradebook_lock(out_dir: Path, wait: float):
    """The writer lock (:func:`instructor.lock.output_lock`) of a grading folder that must
    hold a gradebook.

    Raises:
        CommandUsageError: no ``gradebook.sqlite`` in ``out_dir``.
    """
    from instructor.gradebook import GRADEBOOK_FILE
    from instructor.lock import output_lock

    if not (Path(out_dir) / GRADEBOOK_FILE).is_file():
        raise CommandUsageError(f"{out_dir}: no {GRADEBOOK_FILE} here; give the --out folder of `gradkit grade`")
    return output_lock(out_dir, wait=wait)


def export_to_lms(platform: str, *, source: Path, column: str, grading_dir: Path, out_csv: Path, wait: float, **options):
    """Write an LMS import file (:func:`instructor.outputs.export_lms`) under the folder's
    writer lock when it holds a gradebook, and print the export's report.

    Returns:
        instructor.lms.export_report.ExportReport: what matched what.

    Raises:
        CommandUsageError: the export cannot be made from the files given (names the file).
        CommandFailed: another command is writing ``grading_dir``.
    """
    import contextlib
    import logging

    import click

    from instructor.atomic_files import OutputWriteError
    from instructor.gradebook import GRADEBOOK_FILE
    from instructor.lms.common import ExportError
    from instructor.lock import FolderBusy, output_lock
    from instructor.outputs import export_lms

    log = logging.getLogger(__name__)
    log.info("exporting %s for %s column %r from %s to %s", platform, source, column, grading_dir, out_csv)
    try:
        with output_lock(grading_dir, wait=wait) if (Path(grading_dir) / GRADEBOOK_FILE).is_file() else contextlib.nullcontext():
            report = export_lms(platform, source=source, column=column, grading_dir=grading_dir, out_csv=out_csv, **options)
    except (ExportError, OutputWriteError) as error:
        raise CommandUsageError(str(error)) from None
    except FolderBusy as error:
        raise CommandFailed(str(error)) from None
    log.info("wrote %s and %s: %d roster rows matched", out_csv, report.json_path, len(report.matched))
    click.echo(report.to_text())
    return report
