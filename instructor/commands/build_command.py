"""``gradkit build``: student notebooks and autograder zips from master notebooks."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from . import CommandUsageError, assignment_dirs as find_assignment_dirs

__all__ = ["DEFAULT_OUT", "main"]

DEFAULT_OUT = Path("dist")
"""Output root of ``gradkit build`` and ``gradkit demo``."""

log = logging.getLogger(__name__)


def main(*, assignment_dirs: tuple[Path, ...] | list[Path] = (), out_dir: Path = DEFAULT_OUT, no_verify: bool = False) -> int:
    """Build every assignment folder (default: every folder in ``./assignments/``).

    Prints, per assignment, its points and the two files to hand out and upload; a folder
    that fails to build prints ``Error: ...`` on stderr and the others are still built.

    Args:
        assignment_dirs: assignment folders, each holding one master notebook.
        out_dir: output root (``out_dir/<name>/student/`` and ``.../autograder/``).
        no_verify: skip grading the solution and the blank student notebook.

    Returns:
        int: the exit code, 0 if every assignment built, else 1.

    Raises:
        CommandUsageError: no assignment folder, or a folder without its master notebook
            (checked for every folder before any build).
    """
    from instructor.build import BuildError, build_assignment, find_master_notebook

    folders = find_assignment_dirs(assignment_dirs)
    log.info("building %d assignment(s) into %s: %s", len(folders), out_dir, ", ".join(map(str, folders)))
    for folder in folders:  # a folder without its master notebook is a usage error, before any build
        try:
            find_master_notebook(folder)
        except BuildError as error:
            raise CommandUsageError(str(error)) from None
    failed = []
    for folder in folders:  # one broken assignment does not stop the others
        try:
            built = build_assignment(folder, out_dir, verify=not no_verify)
        except BuildError as error:
            log.info("%s: build failed", folder)
            click.echo(f"Error: {error}", err=True)
            failed.append(folder)
            continue
        manual = f" + {sum(built.manual_points.values()):g} graded by hand ({', '.join(built.manual_points)})" if built.manual_points else ""
        click.echo(f"{built.name}: {sum(built.points.values()):g} points{manual}")
        if built.verification_note:
            click.echo(f"  note: {built.verification_note}")
        click.echo(f"  student notebook: {built.student_notebook}")
        click.echo(f"  autograder zip:   {built.autograder_zip}")
    if failed:
        if len(folders) > 1:
            click.echo(f"{len(failed)} of {len(folders)} assignments failed to build: {', '.join(str(f) for f in failed)}", err=True)
        return 1
    return 0
