"""The ``gradkit`` command: a thin click layer over the command functions.

Each command calls the keyword-only ``main(*, ...)`` of its module
(:mod:`instructor.commands`; ``gradkit check``: :func:`student.check.main`), and every
option's default is read from that signature (:func:`_default`), so defaults are written
once. Every command takes ``-v/--verbose`` (:func:`configure_logging`).
"""

from __future__ import annotations

import inspect
import logging
import sys
from pathlib import Path

import click

from autograder.engines import available_engines
from instructor.commands import CommandFailed, CommandUsageError
from instructor.commands import build_command, demo_command, export_canvas_command, export_moodle_command, grade_command
from instructor.commands import remove_command, report_command, review_command, serve_command
from instructor.lms.moodle import MATCH_ON
from student import check as check_module

__all__ = ["configure_logging", "main"]

LOGGERS = ("instructor", "autograder", "student")
"""The packages whose loggers ``--verbose`` turns on (third-party libraries stay quiet)."""
LOG_FORMAT = "[%(asctime)s %(levelname)s %(name)s] %(message)s"
"""One line per record on stderr, e.g. ``[10:02:03 INFO instructor.batch] graded q.ipynb in 0.52 s: ...``."""

_handler: logging.Handler | None = None


def configure_logging(verbosity: int) -> None:
    """Log gradkit's steps on stderr: 0 = WARNING (the default: nothing new is printed),
    1 (``-v``) = INFO (each step), 2 or more (``-vv``) = DEBUG (each file written, each
    submission found). Replaces the handler an earlier call installed."""
    global _handler
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _handler is not None:
            logger.removeHandler(_handler)
        logger.setLevel(logging.NOTSET if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG)
    _handler = None
    if verbosity > 0:
        _handler = logging.StreamHandler(sys.stderr)
        _handler.setFormatter(logging.Formatter(LOG_FORMAT, datefmt="%H:%M:%S"))
        for name in LOGGERS:
            logging.getLogger(name).addHandler(_handler)


def _default(command_main, name: str):
    """The default of ``name`` in ``command_main``'s signature: the one place it is defined."""
    default = inspect.signature(command_main).parameters[name].default
    if default is inspect.Parameter.empty:
        raise TypeError(f"{command_main.__module__}.main: {name} has no default")
    return default


def _run(command_main, **kwargs):
    """Call a command's ``main``; its usage errors exit 2 and its failures exit 1, each as
    one ``Error: ...`` line (:class:`_OneLineErrors`)."""
    try:
        return command_main(**kwargs)
    except (CommandUsageError, check_module.CheckUsageError) as error:
        raise click.UsageError(str(error)) from None
    except CommandFailed as error:
        raise click.ClickException(str(error)) from None


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


def _set_verbosity(ctx: click.Context, param: click.Parameter, value: int) -> None:
    configure_logging(value)
    if value:
        ctx.call_on_close(lambda: configure_logging(0))  # the command's handler goes with it (the process may go on: tests, a notebook)


_VERBOSE = click.option("-v", "--verbose", count=True, expose_value=False, is_eager=True, callback=_set_verbosity,
                        help="Log each step on stderr (-v: each step; -vv: also each file written).")


def _show_hidden(command_main):
    return click.option(
        "--show-hidden/--hide-hidden", default=_default(command_main, "show_hidden"),
        help="Show (or hide) hidden tests' messages in the feedback files; kept for later rebuilds "
             "[default: shown unless the assignment's hidden_results is `hidden`].")


def _wait(command_main, what: str = "the folder"):
    return click.option("--wait", type=click.FloatRange(min=0), default=_default(command_main, "wait"), show_default=True,
                        help=f"Seconds to wait when another gradkit command is writing {what} (else refuse at once).")


@click.group(cls=_OneLineErrors)
def main() -> None:
    """gradkit: auto-graded PyTorch autograd exercises built and graded with otter-grader."""


@main.command()
@click.argument("assignment_dirs", nargs=-1, default=_default(build_command.main, "assignment_dirs"),
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out_dir", default=_default(build_command.main, "out_dir"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Output root.")
@click.option("--no-verify", is_flag=True, default=_default(build_command.main, "no_verify"),
              help="Skip grading the solution and the blank notebook.")
@_VERBOSE
def build(**kwargs) -> None:
    """Build student notebooks and autograder zips (default: every folder in assignments/)."""
    code = _run(build_command.main, **kwargs)
    if code:
        sys.exit(code)


@main.command()
@click.option("--autograder", "autograder_zip", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Autograder zip from `gradkit build`.")
@click.option("--out", "out_dir", default=_default(grade_command.main, "out_dir"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Grading output folder (resumed if it exists).")
@click.option("--jobs", type=click.IntRange(min=1), default=_default(grade_command.main, "jobs"),
              help="Submissions graded at once [default: CPU cores].")
@click.option("--timeout", type=click.FloatRange(min=1), default=_default(grade_command.main, "timeout"), show_default=True,
              help="Wall-clock seconds per submission.")
@click.option("--cell-timeout", type=click.FloatRange(min=1), default=_default(grade_command.main, "cell_timeout"), show_default=True,
              help="Seconds per cell before it is interrupted.")
@click.option("--memory-mb", type=click.IntRange(min=256), default=_default(grade_command.main, "memory_mb"), show_default=True,
              help="Memory cap per grading process, MiB.")
@click.option("--max-output", "output_bytes", type=click.IntRange(min=0), default=_default(grade_command.main, "output_bytes"),
              show_default=True, help="Captured output kept per submission, bytes.")
@click.option("--engine", type=click.Choice(available_engines()), default=_default(grade_command.main, "engine"), show_default=True,
              help="Grading engine.")
@click.option("--regrade", is_flag=True, default=_default(grade_command.main, "regrade"),
              help="Grade every submission again, even if the gradebook has it.")
@_show_hidden(grade_command.main)
@_wait(grade_command.main)
@_VERBOSE
@click.argument("submissions", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def grade(**kwargs) -> None:
    """Grade SUBMISSIONS: .ipynb files, otter export zips, folders, LMS bulk downloads.

    Writes OUT/gradebook.sqlite, OUT/grades.csv, OUT/students.csv, OUT/results/*.json,
    OUT/feedback/*.md and OUT/report.html, each with every submission of the gradebook
    (earlier runs' too). Running it again resumes: submissions already graded with the
    same autograder are not graded again. Submissions that cannot be graded get a row with
    the reason; the exit code is non-zero only on usage errors (2) and when another
    command is writing OUT (1).
    """
    _run(grade_command.main, progress=True, **kwargs)


@main.command()
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_show_hidden(report_command.main)
@_wait(report_command.main)
@_VERBOSE
def report(**kwargs) -> None:
    """Rebuild OUT_DIR/report.html, and every other output, from the folder's gradebook."""
    _run(report_command.main, **kwargs)


@main.command("remove")
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("labels", nargs=-1, required=True, metavar="LABEL...")
@click.option("--note", default=_default(remove_command.main, "note"), help="Why; kept in the gradebook's history with each removal.")
@_wait(remove_command.main)
@_VERBOSE
def remove_cli(**kwargs) -> None:
    """Take submissions LABEL... out of OUT_DIR: their gradebook rows are deleted (recorded
    in the gradebook's history) and every output is rebuilt without them.

    LABEL is the `file` column of grades.csv.
    """
    _run(remove_command.main, **kwargs)


@main.command("review")
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--clear", multiple=True, default=_default(review_command.main, "clear"), metavar="LABEL", help="Let the tests' scores count (repeatable).")
@click.option("--reject", multiple=True, default=_default(review_command.main, "reject"), metavar="LABEL", help="Keep 0 points (repeatable).")
@click.option("--reopen", multiple=True, default=_default(review_command.main, "reopen"), metavar="LABEL", help="Back to needs review (repeatable).")
@click.option("--set", "set_", multiple=True, default=_default(review_command.main, "set_"), nargs=2, metavar="LABEL Q=POINTS",
              help="Set question Q's points by hand, e.g. --set LABEL q3=4.5 (repeatable).")
@click.option("--unset", multiple=True, default=_default(review_command.main, "unset"), nargs=2, metavar="LABEL Q", help="Remove Q's hand-set points (repeatable).")
@click.option("--comment", multiple=True, default=_default(review_command.main, "comment"), nargs=3, metavar="LABEL Q TEXT",
              help="The comment for the student on Q, shown in the feedback (\"\" removes it; repeatable).")
@click.option("--confirm", multiple=True, default=_default(review_command.main, "confirm"), nargs=2, metavar="LABEL Q",
              help="Keep hand-set points on a changed submission (repeatable).")
@click.option("--history", multiple=True, default=_default(review_command.main, "history"), metavar="LABEL", help="Print every decision and grading of LABEL (repeatable).")
@click.option("--note", default=_default(review_command.main, "note"),
              help="Text kept in the history with the decisions and overrides made now.")
@_wait(review_command.main)
@_VERBOSE
def review_cli(**kwargs) -> None:
    """List submissions flagged for review and scores set by hand in OUT_DIR, and decide on them.

    LABEL is the submission's `file` column in grades.csv, Q a question (q3). Every
    decision and override is kept in the gradebook's history (--history LABEL) and
    rewrites every output and LMS export.
    """
    _run(review_command.main, **kwargs)


@main.command()
@click.argument("assignment_dirs", nargs=-1, default=_default(demo_command.main, "assignment_dirs"),
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out_dir", default=_default(demo_command.main, "out_dir"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Output root.")
@click.option("--jobs", type=click.IntRange(min=1), default=_default(demo_command.main, "jobs"),
              help="Submissions graded at once [default: CPU cores].")
@_VERBOSE
def demo(**kwargs) -> None:
    """Build the assignments and grade their bundled sample submissions.

    Prints one row per sample; exits 1 if a sample did not earn exactly its expected points.
    """
    _run(demo_command.main, progress=True, **kwargs)


@main.command("serve")
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--host", default=_default(serve_command.main, "host"), show_default=True,
              help="Address to listen on (127.0.0.1: this machine only).")
@click.option("--port", type=click.IntRange(min=0, max=65535), default=_default(serve_command.main, "port"), show_default=True,
              help="TCP port (0: any free port).")
@click.option("--autograder", "autograder_zip", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=_default(serve_command.main, "autograder_zip"),
              help="The autograder zip: shows each test case's name, points and public/hidden.")
@_VERBOSE
def serve_cli(**kwargs) -> None:
    """Open the grading desk: a local web page over OUT_DIR (class, submissions, questions).

    Prints the address to open, with its access token; decisions made on the page
    (clear, reject, set points, comment) rewrite every export like `gradkit review`.
    Stop it with Ctrl-C.
    """
    _run(serve_command.main, **kwargs)


_GRADING_DIR = click.Path(exists=True, file_okay=False, path_type=Path)
_INPUT_CSV = click.Path(exists=True, dir_okay=False, path_type=Path)
_OUT_CSV = click.Path(dir_okay=False, path_type=Path)


@main.group()
def export() -> None:
    """Write an LMS grade import file from a grading output folder.

    With a gradebook in DIR, every output is first rebuilt from it (the import holds every
    submission), and the export is remembered: later `gradkit grade`, `review`, `report`
    and `remove` runs write the import file again.
    """


@export.command()
@click.option("--gradebook", "gradebook_csv", required=True, type=_INPUT_CSV, help="The course's Canvas gradebook export (CSV).")
@click.option("--column", required=True, help='The assignment column to fill, e.g. "Autograd Basics (12345)".')
@click.option("--out", "out_csv", type=_OUT_CSV, default=_default(export_canvas_command.main, "out_csv"),
              help=f"Import file to write [default: DIR/{export_canvas_command.DEFAULT_CANVAS_FILE}].")
@_wait(export_canvas_command.main, "DIR")
@_VERBOSE
@click.argument("grading_dir", metavar="DIR", type=_GRADING_DIR)
def canvas(**kwargs) -> None:
    """Fill one assignment column of a Canvas gradebook export from DIR/grades.csv.

    Students are matched by the Canvas user id in the "Download Submissions" file names;
    the latest attempt counts. Writes the import file (student columns, every row, the one
    assignment column, Points Possible) and a .report.json beside it, and prints the
    report. Exits non-zero only on usage errors.
    """
    _run(export_canvas_command.main, **kwargs)


@export.command()
@click.option("--grades-template", "grades_template", required=True, type=_INPUT_CSV, help="A Moodle grade export (CSV) of the course.")
@click.option("--column", required=True, help='The grade column to fill, e.g. "Assignment: Autograd Basics (Real)".')
@click.option("--out", "out_csv", type=_OUT_CSV, default=_default(export_moodle_command.main, "out_csv"),
              help=f"Import file to write [default: DIR/{export_moodle_command.DEFAULT_MOODLE_FILE}].")
@click.option("--match-on", type=click.Choice(list(MATCH_ON)), default=_default(export_moodle_command.main, "match_on"), show_default=True,
              help="Name orders that may match: both, First+Last only, or Last+First only.")
@click.option("--name-columns", default=_default(export_moodle_command.main, "name_columns"), metavar="FIRST,LAST",
              help='The first-name and last-name columns, e.g. "Nombre,Apellido(s)" [default: recognised in English, '
                   'Spanish, French, German, Portuguese, Italian, Dutch, or Forename,Surname].')
@click.option("--id-column", default=_default(export_moodle_command.main, "id_column"), metavar="COLUMN",
              help="The column Moodle's import maps users by (email or ID number) [default: the recognised ones].")
@_wait(export_moodle_command.main, "DIR")
@_VERBOSE
@click.argument("grading_dir", metavar="DIR", type=_GRADING_DIR)
def moodle(**kwargs) -> None:
    """Fill one grade column of a Moodle grade export from DIR/grades.csv.

    Moodle exports carry no participant id, so students are matched by the full name in
    the "Download all submissions" names (case and accents ignored; ambiguous names are
    reported, never guessed). Writes the import file and a .report.json beside it, and
    prints the report. Exits non-zero only on usage errors.
    """
    _run(export_moodle_command.main, **kwargs)


@main.command("check")
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-Q", "--question", "questions", multiple=True, default=_default(check_module.main, "questions"), help="Check only this question (repeatable) [default: all].")
@click.option("-q", "--quiet", is_flag=True, default=_default(check_module.main, "quiet"),
              help="One line per question (passed/FAILED) and the count, without otter's messages.")
@click.option("--timeout", type=click.FloatRange(min=1), default=_default(check_module.main, "timeout"), show_default=True,
              help="Seconds each cell may run.")
@click.option("--tests", "tests_from", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=_default(check_module.main, "tests_from"),
              help="Take the public tests from this notebook (the handed-out one) when NOTEBOOK lost them "
                   "(jupytext and other tools drop notebook metadata) [default: a notebook of the same assignment beside NOTEBOOK].")
@_VERBOSE
def check_cli(**kwargs) -> None:
    """Run NOTEBOOK in a fresh kernel in its folder, then its public tests.

    Prints pass/fail and otter's message per question, and first the lines that would send
    the submission to review when graded (cell and line) and the package-install lines that
    are not run. Save the notebook first: the file on disk is what runs. Exit code 0
    whatever the tests say; 2 for a usage error (no such file, not a notebook, no Otter
    tests in it or beside it, unknown question).
    """
    _run(check_module.main, **kwargs)


if __name__ == "__main__":
    main()
