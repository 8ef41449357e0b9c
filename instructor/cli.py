"""The ``gradkit`` command: a thin click layer over the Python API."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from autograder.autograder_zip import AutograderZipError
from autograder.engines import DEFAULT_ENGINE, Limits, available_engines, engine_here
from instructor.lock import FolderBusy, output_lock

DEFAULT_ASSIGNMENTS = Path("assignments")
DEFAULT_OUT = Path("dist")


def _assignment_dirs(given: tuple[Path, ...]) -> list[Path]:
    if given:
        return list(given)
    if not DEFAULT_ASSIGNMENTS.is_dir():
        raise click.UsageError(f"no assignment folders given and no ./{DEFAULT_ASSIGNMENTS}/ here")
    found = sorted(p for p in DEFAULT_ASSIGNMENTS.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not found:
        raise click.UsageError(f"./{DEFAULT_ASSIGNMENTS}/ holds no assignment folder")
    return found


class _OneLineErrors(click.Group):
    """The ``gradkit`` group: a usage error prints one line, ``Error: <what is wrong>``
    (naming the path or option), and exits 2; other errors print their message and exit 1;
    never a traceback for either."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except getattr(click.exceptions, "NoArgsIsHelpError", ()) as error:  # `gradkit` alone: the help
            error.show()
            sys.exit(error.exit_code)
        except click.UsageError as error:
            click.echo("Error: " + " ".join(error.format_message().split()), err=True)
            sys.exit(error.exit_code)
        except click.ClickException as error:
            click.echo(f"Error: {error.format_message()}", err=True)
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) and not isinstance(result, bool) else 0)


_SHOW_HIDDEN = click.option(
    "--show-hidden/--hide-hidden", default=None,
    help="Show (or hide) hidden tests' messages in the feedback files; kept for later rebuilds "
         "[default: shown unless the assignment's hidden_results is `hidden`].")
_WAIT = click.option("--wait", type=click.FloatRange(min=0), default=0, show_default=True,
                     help="Seconds to wait when another gradkit command is writing the folder (else refuse at once).")


def _locked(out_dir: Path, wait: float):
    """The writer lock of a grading folder that must hold a gradebook (usage error if not)."""
    from instructor.gradebook import GRADEBOOK_FILE

    if not (Path(out_dir) / GRADEBOOK_FILE).is_file():
        raise click.UsageError(f"{out_dir}: no {GRADEBOOK_FILE} here; give the --out folder of `gradkit grade`")
    return output_lock(out_dir, wait=wait)


@click.group(cls=_OneLineErrors)
def main() -> None:
    """gradkit: auto-graded PyTorch autograd exercises built and graded with otter-grader."""


@main.command()
@click.argument("assignment_dirs", nargs=-1, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out_dir", default=DEFAULT_OUT, show_default=True, type=click.Path(file_okay=False, path_type=Path), help="Output root.")
@click.option("--no-verify", is_flag=True, help="Skip grading the solution and the blank notebook.")
def build(assignment_dirs: tuple[Path, ...], out_dir: Path, no_verify: bool) -> None:
    """Build student notebooks and autograder zips (default: every folder in assignments/)."""
    from instructor.build import BuildError, build_assignment, find_master_notebook

    folders = _assignment_dirs(assignment_dirs)
    for folder in folders:  # a folder without its master notebook is a usage error, before any build
        try:
            find_master_notebook(folder)
        except BuildError as error:
            raise click.UsageError(str(error)) from None
    failed = []
    for folder in folders:  # one broken assignment does not stop the others
        try:
            built = build_assignment(folder, out_dir, verify=not no_verify)
        except BuildError as error:
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
        sys.exit(1)


@main.command()
@click.option("--autograder", "autograder_zip", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Autograder zip from `gradkit build`.")
@click.option("--out", "out_dir", default=Path("grading-output"), show_default=True, type=click.Path(file_okay=False, path_type=Path), help="Grading output folder (resumed if it exists).")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Submissions graded at once [default: CPU cores].")
@click.option("--timeout", type=click.FloatRange(min=1), default=Limits.timeout, show_default=True, help="Wall-clock seconds per submission.")
@click.option("--cell-timeout", type=click.FloatRange(min=1), default=Limits.cell_timeout, show_default=True, help="Seconds per cell before it is interrupted.")
@click.option("--memory-mb", type=click.IntRange(min=256), default=Limits.memory_mb, show_default=True, help="Memory cap per grading process, MiB.")
@click.option("--max-output", "output_bytes", type=click.IntRange(min=0), default=Limits.output_bytes, show_default=True, help="Captured output kept per submission, bytes.")
@click.option("--engine", type=click.Choice(available_engines()), default=DEFAULT_ENGINE, show_default=True, help="Grading engine.")
@click.option("--regrade", is_flag=True, help="Grade every submission again, even if the gradebook has it.")
@_SHOW_HIDDEN
@_WAIT
@click.argument("submissions", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def grade(autograder_zip: Path, out_dir: Path, jobs: int | None, timeout: float, cell_timeout: float, memory_mb: int,
          output_bytes: int, engine: str, regrade: bool, show_hidden: bool | None, wait: float, submissions: tuple[Path, ...]) -> None:
    """Grade SUBMISSIONS: .ipynb files, otter export zips, folders, LMS bulk downloads.

    Writes OUT/gradebook.sqlite, OUT/grades.csv, OUT/students.csv, OUT/results/*.json,
    OUT/feedback/*.md and OUT/report.html, each with every submission of the gradebook
    (earlier runs' too). Running it again resumes: submissions already graded with the
    same autograder are not graded again. Submissions that cannot be graded get a row with
    the reason; the exit code is non-zero only on usage errors (2) and when another
    command is writing OUT (1).
    """
    from instructor.batch import grade_batch

    limits = Limits(timeout=timeout, cell_timeout=cell_timeout, memory_mb=memory_mb, output_bytes=output_bytes)
    try:
        summary = grade_batch(autograder_zip=autograder_zip, submissions=list(submissions), out_dir=out_dir, jobs=jobs,
                              limits=limits, engine=engine, regrade=regrade, show_hidden=show_hidden, progress=True, wait=wait)
    except (AutograderZipError, ValueError) as error:
        raise click.UsageError(str(error)) from None
    except FolderBusy as error:
        raise click.ClickException(str(error)) from None
    click.echo(summary.table.to_string(index=False, na_rep="pending"))  # a manual question not graded yet
    click.echo("\n" + summary.text())


@main.command()
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_SHOW_HIDDEN
@_WAIT
def report(out_dir: Path, show_hidden: bool | None, wait: float) -> None:
    """Rebuild OUT_DIR/report.html, and every other output, from the folder's gradebook."""
    from instructor.outputs import rebuild_outputs
    from instructor.report import REPORT_FILE

    try:
        with _locked(out_dir, wait):
            rebuilt = rebuild_outputs(out_dir, show_hidden=show_hidden)
    except FileNotFoundError as error:
        raise click.UsageError(str(error)) from None
    except FolderBusy as error:
        raise click.ClickException(str(error)) from None
    lms = "".join(f", {p.name}" for p in rebuilt.lms_files)
    click.echo(f"wrote {out_dir / REPORT_FILE} (and grades.csv, students.csv, results/, feedback/{lms}): "
               f"{len(rebuilt.rows)} submissions, every one in the gradebook")
    for line in rebuilt.notes:
        click.echo(line)


@main.command("remove")
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("labels", nargs=-1, required=True, metavar="LABEL...")
@click.option("--note", default="", help="Why; kept in the gradebook's history with each removal.")
@_WAIT
def remove_command(out_dir: Path, labels: tuple[str, ...], note: str, wait: float) -> None:
    """Take submissions LABEL... out of OUT_DIR: their gradebook rows are deleted (recorded
    in the gradebook's history) and every output is rebuilt without them.

    LABEL is the `file` column of grades.csv.
    """
    from instructor.remove import RemoveError, remove_submissions

    try:
        with _locked(out_dir, wait):
            rebuilt = remove_submissions(out_dir, list(labels), note=note)
    except RemoveError as error:
        raise click.UsageError(str(error)) from None
    except FolderBusy as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"removed {len(set(labels))}: {', '.join(dict.fromkeys(labels))}; {len(rebuilt.rows)} submissions remain in {out_dir}")
    for note_line in rebuilt.notes:
        click.echo(note_line)


@main.command("review")
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--clear", multiple=True, metavar="LABEL", help="Let the tests' scores count (repeatable).")
@click.option("--reject", multiple=True, metavar="LABEL", help="Keep 0 points (repeatable).")
@click.option("--reopen", multiple=True, metavar="LABEL", help="Back to needs review (repeatable).")
@click.option("--set", "set_", multiple=True, nargs=2, metavar="LABEL Q=POINTS",
              help="Set question Q's points by hand, e.g. --set LABEL q3=4.5 (repeatable).")
@click.option("--unset", multiple=True, nargs=2, metavar="LABEL Q", help="Remove Q's hand-set points (repeatable).")
@click.option("--comment", multiple=True, nargs=3, metavar="LABEL Q TEXT",
              help="The comment for the student on Q, shown in the feedback (\"\" removes it; repeatable).")
@click.option("--confirm", multiple=True, nargs=2, metavar="LABEL Q",
              help="Keep hand-set points on a changed submission (repeatable).")
@click.option("--history", multiple=True, metavar="LABEL", help="Print every decision and grading of LABEL (repeatable).")
@click.option("--note", default="", help="Text kept in the history with the decisions and overrides made now.")
@_WAIT
def review_command(out_dir: Path, clear: tuple[str, ...], reject: tuple[str, ...], reopen: tuple[str, ...],
                   set_: tuple[tuple[str, str], ...], unset: tuple[tuple[str, str], ...], comment: tuple[tuple[str, str, str], ...],
                   confirm: tuple[tuple[str, str], ...], history: tuple[str, ...], note: str, wait: float) -> None:
    """List submissions flagged for review and scores set by hand in OUT_DIR, and decide on them.

    LABEL is the submission's `file` column in grades.csv, Q a question (q3). Every
    decision and override is kept in the gradebook's history (--history LABEL) and
    rewrites every output and LMS export.
    """
    from instructor.gradebook import Gradebook
    from instructor.outputs import rebuild_outputs
    from instructor.overrides import (
        OverrideError, add_comment, check_override, confirm_override, history as label_history, history_text, override_listing, set_points,
        unset_points,
    )
    from instructor.review import ReviewError, review, review_listing

    def split_points(label: str, assignment: str) -> tuple[str, str, float]:
        question, sep, value = assignment.partition("=")
        if not sep or not question.strip():
            raise click.UsageError(f"--set {label} {assignment}: give the question and points as Q=POINTS, e.g. q3=4.5")
        try:
            return label, question.strip(), float(value)
        except ValueError:
            raise click.UsageError(f"--set {label} {assignment}: {value!r} is not a number of points") from None

    decisions = bool(clear or reject or reopen)
    overrides = bool(set_ or unset or comment or confirm)
    if note and not (decisions or set_ or unset or confirm):
        raise click.UsageError("--note is kept with a decision: give --clear, --reject, --reopen, --set, --unset or --confirm too")
    sets = [split_points(label, assignment) for label, assignment in set_]
    try:
        # listing only reads the gradebook (safe while another command writes it); decisions lock
        with _locked(out_dir, wait) if (decisions or overrides) else contextlib.nullcontext():
            for label, question, points in sets:  # every label, question and range first: refuse before changing anything
                check_override(out_dir=out_dir, label=label, question=question, points=points)
            for label, question, *_ in (*unset, *comment, *confirm):
                check_override(out_dir=out_dir, label=label, question=question)
            wrote = False  # every output is rewritten once, after the last change (also when a later one fails)
            try:
                rows = review(out_dir=out_dir, clear=clear, reject=reject, reopen=reopen, note=note if decisions else "", rebuild=False)
                wrote = decisions
                for label, question, points in sets:
                    set_points(out_dir=out_dir, label=label, question=question, points=points, note=note, rebuild=False)
                    wrote = True
                for label, question in unset:
                    unset_points(out_dir=out_dir, label=label, question=question, note=note, rebuild=False)
                    wrote = True
                for label, question, text in comment:
                    add_comment(out_dir=out_dir, label=label, question=question, text=text, rebuild=False)
                    wrote = True
                for label, question in confirm:
                    confirm_override(out_dir=out_dir, label=label, question=question, note=note, rebuild=False)
                    wrote = True
            finally:
                if wrote:
                    rebuild_outputs(out_dir)
            events = {label: label_history(out_dir=out_dir, label=label) for label in history}
    except (ReviewError, OverrideError) as error:
        raise click.UsageError(str(error)) from None
    except FolderBusy as error:
        raise click.ClickException(str(error)) from None
    if history:
        for label, found in events.items():
            click.echo(f"history of {label}:")
            click.echo(history_text(found))
        if not (decisions or overrides):
            return
    with Gradebook(out_dir) as book:
        every = book.rows()  # read once: the flagged ones after overrides, and the override listing
    if overrides:
        rows = [r for r in every if r.findings]
    if rows or not overrides:  # after --set/--comment alone, "nothing flagged" is noise
        click.echo(review_listing(rows, out_dir=out_dir))
    listing = override_listing(every, out_dir=out_dir)
    if listing:
        click.echo(listing)


@main.command()
@click.argument("assignment_dirs", nargs=-1, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out_dir", default=DEFAULT_OUT, show_default=True, type=click.Path(file_okay=False, path_type=Path), help="Output root.")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Submissions graded at once [default: CPU cores].")
def demo(assignment_dirs: tuple[Path, ...], out_dir: Path, jobs: int | None) -> None:
    """Build the assignments and grade their bundled sample submissions.

    Prints one row per sample; exits 1 if a sample did not earn exactly its expected points.
    """
    from instructor.build import BuildError
    from instructor.demo import run_demo
    from instructor.samples import SampleError

    engine, note = engine_here()
    if note:
        click.echo(f"note: {note}", err=True)
    try:
        table = run_demo(_assignment_dirs(assignment_dirs), out_dir, jobs=jobs, progress=True, engine=engine)
    except (BuildError, SampleError) as error:
        raise click.ClickException(str(error)) from None
    if table.empty:
        raise click.ClickException("no assignment with a samples/ folder found")
    click.echo(table.drop(columns=["status"]).to_string(index=False))
    bad = table[~table["as_expected"]]
    if not bad.empty:
        raise click.ClickException(f"{len(bad)} sample(s) did not earn their expected points: {', '.join(bad['sample'])}")
    click.echo(f"\nall {len(table)} samples earned exactly their expected points")
    for name in table["assignment"].unique():
        click.echo(f"{name}: sample notebooks in {out_dir / name / 'samples'}/, grading output (grades.csv, report.html) in {out_dir / name / 'grading'}/")


@main.command("serve")
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (127.0.0.1: this machine only).")
@click.option("--port", type=click.IntRange(min=0, max=65535), default=8765, show_default=True, help="TCP port (0: any free port).")
@click.option("--autograder", "autograder_zip", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The autograder zip: shows each test case's name, points and public/hidden.")
def serve_command(out_dir: Path, host: str, port: int, autograder_zip: Path | None) -> None:
    """Open the grading desk: a local web page over OUT_DIR (class, submissions, questions).

    Prints the address to open, with its access token; decisions made on the page
    (clear, reject, set points, comment) rewrite every export like `gradkit review`.
    Stop it with Ctrl-C.
    """
    from instructor.desk import start_desk

    try:
        desk = start_desk(out_dir, host=host, port=port, autograder_zip=autograder_zip)
    except (FileNotFoundError, ValueError) as error:
        raise click.UsageError(str(error)) from None
    except OSError as error:
        raise click.UsageError(f"{host}:{port}: cannot listen there ({error.strerror or error})") from None
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"Warning: listening on {host}: anyone who can reach this machine and has the token can change grades.", err=True)
    click.echo(f"gradkit desk for {out_dir}: open\n    {desk.url}\n(Ctrl-C to stop)")
    sys.stdout.flush()
    desk.serve_forever()


from instructor.lms.cli import export as _export_group  # noqa: E402  (gradkit export canvas|moodle)

main.add_command(_export_group)

from student.check import check_command  # noqa: E402 - the student side's command, registered here

main.add_command(check_command)


if __name__ == "__main__":
    main()
