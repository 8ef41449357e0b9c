"""The ``gradkit`` command: a thin click layer over the Python API."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from autograder.autograder_zip import AutograderZipError
from autograder.batch import DEFAULT_TIMEOUT, grade_batch
from autograder.engines import DEFAULT_ENGINE, available_engines

DEFAULT_ASSIGNMENTS = Path("assignments")
DEFAULT_OUT = Path("dist")


def _assignment_dirs(given: tuple[Path, ...]) -> list[Path]:
    if given:
        return list(given)
    if not DEFAULT_ASSIGNMENTS.is_dir():
        raise click.UsageError(f"no assignment folders given and no ./{DEFAULT_ASSIGNMENTS}/ here")
    return sorted(p for p in DEFAULT_ASSIGNMENTS.iterdir() if p.is_dir() and not p.name.startswith("."))


@click.group()
def main() -> None:
    """gradkit: auto-graded PyTorch autograd exercises built and graded with otter-grader."""


@main.command()
@click.argument("assignment_dirs", nargs=-1, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out_dir", default=DEFAULT_OUT, show_default=True, type=click.Path(path_type=Path), help="Output root.")
@click.option("--no-verify", is_flag=True, help="Skip grading the solution and the blank notebook.")
def build(assignment_dirs: tuple[Path, ...], out_dir: Path, no_verify: bool) -> None:
    """Build student notebooks and autograder zips (default: every folder in assignments/)."""
    from instructor.build import BuildError, build_assignment

    for folder in _assignment_dirs(assignment_dirs):
        try:
            built = build_assignment(folder, out_dir, verify=not no_verify)
        except BuildError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"{built.name}: {sum(built.points.values()):g} points")
        click.echo(f"  student notebook: {built.student_notebook}")
        click.echo(f"  autograder zip:   {built.autograder_zip}")


@main.command()
@click.option("--autograder", "autograder_zip", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Autograder zip from `gradkit build`.")
@click.option("--out", "out_dir", default=Path("grading-output"), show_default=True, type=click.Path(path_type=Path), help="Grading output folder.")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Submissions graded at once [default: CPU cores].")
@click.option("--timeout", type=click.FloatRange(min=1), default=DEFAULT_TIMEOUT, show_default=True, help="Seconds allowed per submission.")
@click.option("--engine", type=click.Choice(available_engines()), default=DEFAULT_ENGINE, show_default=True, help="Grading engine.")
@click.argument("submissions", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def grade(autograder_zip: Path, out_dir: Path, jobs: int | None, timeout: float, engine: str, submissions: tuple[Path, ...]) -> None:
    """Grade SUBMISSIONS (.ipynb files, otter export zips, or folders of them).

    Writes OUT/grades.csv and OUT/results/<submission>.json. Submissions that cannot be
    graded get a row with the reason; the exit code is non-zero only on usage errors.
    """
    try:
        table = grade_batch(autograder_zip=autograder_zip, submissions=list(submissions), out_dir=out_dir, jobs=jobs, timeout=timeout, engine=engine, progress=sys.stderr.isatty())
    except AutograderZipError as error:
        raise click.UsageError(str(error)) from None
    click.echo(table.to_string(index=False))
    click.echo(f"\nwrote {out_dir / 'grades.csv'} and {len(table) - 1} results files in {out_dir / 'results'}")


@main.command()
@click.argument("assignment_dirs", nargs=-1, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out_dir", default=DEFAULT_OUT, show_default=True, type=click.Path(path_type=Path), help="Output root.")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Submissions graded at once [default: CPU cores].")
def demo(assignment_dirs: tuple[Path, ...], out_dir: Path, jobs: int | None) -> None:
    """Build the assignments and grade their bundled sample submissions.

    Prints one row per sample; exits 1 if a sample did not earn exactly its expected points.
    """
    from instructor.build import BuildError
    from instructor.demo import run_demo
    from instructor.samples import SampleError

    try:
        table = run_demo(_assignment_dirs(assignment_dirs), out_dir, jobs=jobs, progress=sys.stderr.isatty())
    except (BuildError, SampleError) as error:
        raise click.ClickException(str(error)) from None
    if table.empty:
        raise click.ClickException("no assignment with a samples/ folder found")
    click.echo(table.drop(columns=["status"]).to_string(index=False))
    bad = table[~table["as_expected"]]
    if not bad.empty:
        raise click.ClickException(f"{len(bad)} sample(s) did not earn their expected points: {', '.join(bad['sample'])}")
    click.echo(f"\nall {len(table)} samples earned exactly their expected points; outputs in {out_dir}/")
