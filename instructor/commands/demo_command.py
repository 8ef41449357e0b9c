"""``gradkit demo``: build the assignments and grade their bundled sample submissions."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from . import CommandFailed, assignment_dirs as find_assignment_dirs
from .build_command import DEFAULT_OUT

__all__ = ["main"]

log = logging.getLogger(__name__)


def main(*, assignment_dirs: tuple[Path, ...] | list[Path] = (), out_dir: Path = DEFAULT_OUT, jobs: int | None = None,
         progress: bool = True):
    """Build, write the samples as notebooks, grade them (:func:`instructor.demo.run_demo`),
    and print one row per sample.

    Args:
        assignment_dirs: assignment folders (default: every folder in ``./assignments/``).
        out_dir: output root.
        jobs: submissions graded at once (None: CPU cores).
        progress: progress bars on stderr.

    Returns:
        pandas.DataFrame: the table of :func:`instructor.demo.run_demo`.

    Raises:
        CommandUsageError: no assignment folder.
        CommandFailed: a build or a sample file failed, no assignment has samples, or a
            sample did not earn exactly its expected points.
    """
    from instructor.build import BuildError
    from instructor.demo import run_demo
    from instructor.samples import SampleError

    from autograder.engines import engine_here

    folders = find_assignment_dirs(assignment_dirs)
    log.info("demo of %s into %s", ", ".join(map(str, folders)), out_dir)
    engine, note = engine_here()
    if note:
        click.echo(f"note: {note}", err=True)
    try:
        table = run_demo(folders, out_dir, jobs=jobs, progress=progress, engine=engine)
    except (BuildError, SampleError) as error:
        raise CommandFailed(str(error)) from None
    if table.empty:
        raise CommandFailed("no assignment with a samples/ folder found")
    click.echo(table.drop(columns=["status"]).to_string(index=False))
    bad = table[~table["as_expected"]]
    if not bad.empty:
        raise CommandFailed(f"{len(bad)} sample(s) did not earn their expected points: {', '.join(bad['sample'])}")
    click.echo(f"\nall {len(table)} samples earned exactly their expected points")
    for name in table["assignment"].unique():
        click.echo(f"{name}: sample notebooks in {Path(out_dir) / name / 'samples'}/, grading output (grades.csv, report.html) in {Path(out_dir) / name / 'grading'}/")
    return table
