"""The command layer (issue 13): every ``gradkit`` command is a keyword-only ``main(*)``
whose defaults the click options read, each takes ``-v/--verbose`` and logs its steps with
the standard ``logging`` module, and the latest attempt is chosen by one rule everywhere.

Fast: no kernel, no engine run; gradebooks are written from outcomes directly.
"""

from __future__ import annotations

import csv
import inspect
import json
import logging
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from autograder.outcome import GradingOutcome
from instructor.cli import main as cli
from instructor.commands import (
    build_command, demo_command, export_canvas_command, export_moodle_command, grade_command, remove_command, report_command,
    review_command, serve_command,
)
from instructor.gradebook import Gradebook
from instructor.lms.attempts import attempt_key, latest_last
from instructor.outputs import students_table
from student import check as check_module

MAINS = {
    ("build",): build_command.main, ("grade",): grade_command.main, ("report",): report_command.main,
    ("remove",): remove_command.main, ("review",): review_command.main, ("demo",): demo_command.main,
    ("serve",): serve_command.main, ("export", "canvas"): export_canvas_command.main,
    ("export", "moodle"): export_moodle_command.main, ("check",): check_module.main,
}
NOT_OPTIONS = {"progress"}
"""Keyword arguments of a ``main`` the CLI fixes (the progress bar is always on at the terminal)."""


def _commands(group: click.Group = cli, path: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, path + (name,))
        else:
            yield path + (name,), command


def test_every_command_has_a_main_and_every_default_is_read_from_it():
    """Each command's options and arguments are exactly its main's keyword-only parameters
    (plus --verbose), and each click default equals main's default."""
    found = dict(_commands())
    assert set(found) == set(MAINS)
    for path, command in found.items():
        signature = inspect.signature(MAINS[path])
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in signature.parameters.values()), path
        params = {p.name: p for p in command.params if p.name != "verbose"}
        assert set(params) == set(signature.parameters) - NOT_OPTIONS, path
        for name, param in params.items():
            default = signature.parameters[name].default
            if default is inspect.Parameter.empty:
                assert param.required, (path, name)
            elif param.multiple or getattr(param, "nargs", 1) == -1:
                assert tuple(param.default) == tuple(default), (path, name)
            else:
                assert param.default == default, (path, name, param.default, default)
        verbose = next(p for p in command.params if p.name == "verbose")
        assert verbose.opts == ["-v", "--verbose"] and verbose.count, path


def test_defaults_are_the_values_defined_once():
    """The defaults mains carry are the kit's constants, not copies."""
    from autograder.engines import DEFAULT_ENGINE
    from autograder.engines import Limits
    from instructor.desk import DEFAULT_HOST, DEFAULT_PORT

    grade = inspect.signature(grade_command.main).parameters
    assert grade["timeout"].default == Limits.timeout and grade["cell_timeout"].default == Limits.cell_timeout
    assert grade["memory_mb"].default == Limits.memory_mb and grade["output_bytes"].default == Limits.output_bytes
    assert grade["engine"].default == DEFAULT_ENGINE
    serve = inspect.signature(serve_command.main).parameters
    assert (serve["host"].default, serve["port"].default) == (DEFAULT_HOST, DEFAULT_PORT)
    assert inspect.signature(check_module.main).parameters["timeout"].default == check_module.DEFAULT_CELL_TIMEOUT


def _gradebook(out: Path, rows: list[tuple[str, dict, str | None]]) -> Path:
    """A grading folder written from outcomes (label, scores, student key), every output rebuilt."""
    from instructor.outputs import rebuild_outputs

    with Gradebook(out) as book:
        book.set_points({"q1": 2.0, "q2": 3.0})
        for label, scores, student in rows:
            book.record(GradingOutcome(label, scores, "Completed"), path=label, member=None, student=student,
                        file_sha256=label, autograder_sha256="a", engine="fork")
    rebuild_outputs(out)
    return out


def _records(caplog, prefix: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith(prefix)]


@pytest.fixture
def graded(tmp_path):
    return _gradebook(tmp_path / "out", [("a.ipynb", {"q1": 2.0, "q2": 1.0}, None), ("b.ipynb", {"q1": 0.0, "q2": 3.0}, None)])


def test_without_verbose_nothing_new_is_printed(graded, caplog):
    """Default level WARNING: the command prints what it printed before, no log line."""
    caplog.set_level(logging.WARNING)
    result = CliRunner().invoke(cli, ["report", str(graded)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("wrote ") and "INFO" not in result.output and "[" not in result.output
    assert not [r for r in caplog.records if r.name.split(".")[0] in ("instructor", "autograder", "student")]


def test_verbose_report_logs_each_step_and_each_file(graded, caplog):
    result = CliRunner().invoke(cli, ["report", "-vv", str(graded)])
    assert result.exit_code == 0, result.output
    assert any("rebuilding every output" in m for m in _records(caplog, "instructor.commands.report_command"))
    written = _records(caplog, "instructor.atomic_files")
    for name in ("grades.csv", "students.csv", "report.html", "a.ipynb.json"):
        assert any(name in m for m in written), (name, written)
    assert "INFO instructor.commands.report_command]" in result.output  # the handler writes to stderr (mixed here)
    # -v: the steps, not each file
    caplog.clear()
    assert CliRunner().invoke(cli, ["report", "-v", str(graded)]).exit_code == 0
    assert _records(caplog, "instructor.commands.report_command") and not _records(caplog, "instructor.atomic_files")
    for name in ("instructor", "autograder", "student"):  # the command's logging ends with it
        assert logging.getLogger(name).level == logging.NOTSET and not logging.getLogger(name).handlers


def test_verbose_review_remove_and_export_log(graded, tmp_path, caplog):
    runner = CliRunner()
    result = runner.invoke(cli, ["review", str(graded), "-v", "--set", "a.ipynb", "q2=2.5"])
    assert result.exit_code == 0, result.output
    assert any("q2: 2.5 points set by hand" in m for m in _records(caplog, "instructor.commands.review_command"))
    roster = tmp_path / "canvas.csv"
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section,Autograd Basics (12345)\n"
                      "    Points Possible,,,,,5\nDoe Jane,42,,jd,S1,\n", encoding="utf-8")
    result = runner.invoke(cli, ["export", "canvas", "-v", "--gradebook", str(roster), "--column", "Autograd Basics (12345)", str(graded)])
    assert result.exit_code == 0, result.output
    assert any("exporting canvas" in m for m in _records(caplog, "instructor.commands"))
    result = runner.invoke(cli, ["export", "moodle", "-v", "--grades-template", str(tmp_path / "nope.csv"), "--column", "X", str(graded)])
    assert result.exit_code == 2  # click's own check of the path, before main
    result = runner.invoke(cli, ["remove", "-v", str(graded), "b.ipynb"])
    assert result.exit_code == 0, result.output
    assert any("removing b.ipynb" in m for m in _records(caplog, "instructor.commands.remove_command"))


def test_verbose_on_the_other_commands_logs_their_first_step(tmp_path, caplog):
    """build, grade, demo, serve, check and export moodle log before they stop on bad input
    (exit codes and messages unchanged)."""
    runner = CliRunner()
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(cli, ["build", "-v", str(empty)])
    assert result.exit_code == 2 and "Error:" in result.output
    assert f"Error: {empty}: expected the master notebook empty.ipynb (no notebook found)" in result.output
    assert any("building 1 assignment" in m for m in _records(caplog, "instructor.commands.build_command"))
    not_zip = tmp_path / "x.zip"
    not_zip.write_bytes(b"not a zip")
    result = runner.invoke(cli, ["grade", "-v", "--autograder", str(not_zip), "--out", str(tmp_path / "g"), str(not_zip)])
    assert result.exit_code == 2 and "Error:" in result.output
    assert f"Error: {not_zip}: not an Otter autograder zip" in result.output
    assert any("grading 1 path(s)" in m for m in _records(caplog, "instructor.commands.grade_command"))
    result = runner.invoke(cli, ["demo", "-v", "--out", str(tmp_path / "d"), str(empty)])
    assert result.exit_code == 1 and "no assignment with a samples/ folder found" in result.output
    assert _records(caplog, "instructor.commands.demo_command")
    result = runner.invoke(cli, ["serve", "-v", str(empty)])
    assert result.exit_code == 2
    assert any("starting the grading desk" in m for m in _records(caplog, "instructor.commands.serve_command"))
    bad = tmp_path / "bad.ipynb"
    bad.write_text("not json", encoding="utf-8")
    result = runner.invoke(cli, ["check", "-v", str(bad)])
    assert result.exit_code == 2 and "Error:" in result.output
    assert f"Error: {bad}: not a readable Jupyter notebook" in result.output
    assert any("checking" in m for m in _records(caplog, "student.check"))
    template = tmp_path / "moodle.csv"
    template.write_text("First name,Last name,Email address,Assignment: A (Real)\nJane,Doe,jd@x.edu,-\n", encoding="utf-8")
    grading = tmp_path / "gr"
    grading.mkdir()
    result = runner.invoke(cli, ["export", "moodle", "-v", "--grades-template", str(template), "--column", "Assignment: A (Real)", str(grading)])
    assert result.exit_code == 2 and "no grades.csv" in result.output
    assert any("exporting moodle" in m for m in _records(caplog, "instructor.commands"))


def test_main_is_a_plain_python_api(graded, capsys):
    """A command's main runs without click's machinery and returns its result."""
    rebuilt = report_command.main(out_dir=graded)
    assert [r.label for r in rebuilt.rows] == ["a.ipynb", "b.ipynb"]
    assert "every one in the gradebook" in capsys.readouterr().out
    with pytest.raises(review_command.CommandUsageError, match="not a number of points"):
        review_command.main(out_dir=graded, set_=(("a.ipynb", "q1=x"),))


# --- the latest attempt: one rule, used by students.csv, the Canvas export and Gradescope submitters ---

AT = "2026-01-27T00:12:13.530862Z"


def test_attempt_key_rule():
    """created_at first (none before any), then Canvas resubmission and attachment id, then
    the label in natural order (submission_10 after submission_9), then as text."""
    order = latest_last([("g/submission_10/a.ipynb", AT), ("g/submission_9/a.ipynb", AT), ("g/submission_99/a.ipynb", None),
                         ("g/submission_1/a.ipynb", "2026-01-28T00:00:00.000000Z")], key=lambda item: item)
    assert [label for label, _ in order] == ["g/submission_99/a.ipynb", "g/submission_9/a.ipynb", "g/submission_10/a.ipynb",
                                             "g/submission_1/a.ipynb"]
    canvas = ["doejane_42_700_nb-1.ipynb", "doejane_42_900_nb.ipynb", "doejane_42_800_nb-1.ipynb"]
    assert sorted(canvas, key=attempt_key) == ["doejane_42_900_nb.ipynb", "doejane_42_700_nb-1.ipynb", "doejane_42_800_nb-1.ipynb"]
    assert attempt_key("x07.ipynb") < attempt_key("x7.ipynb")  # equal as numbers: the text decides, never a tie


def _gradescope_key(email: str, at: str) -> str:
    return f"gradescope:{email};at={at}"


def test_a_created_at_tie_counts_the_same_attempt_in_students_csv_and_the_canvas_export(tmp_path):
    """Two Gradescope submissions of one student with the same created_at, and two Canvas
    downloads of one user with the same resubmission number and attachment id: students.csv
    and the Canvas export keep the same one (submission_10, dl10), by the stated rule."""
    out = _gradebook(tmp_path / "out", [
        ("gs/submission_9/a.ipynb", {"q1": 1.0}, _gradescope_key("ann@example.edu", AT)),
        ("gs/submission_10/a.ipynb", {"q1": 2.0}, _gradescope_key("ann@example.edu", AT)),
        ("dl10/doejane_42_700_nb.ipynb", {"q2": 3.0}, "canvas:42"),
        ("dl2/doejane_42_700_nb.ipynb", {"q2": 1.0}, "canvas:42"),
    ])
    with Gradebook(out) as book:
        table = students_table(book.rows(), book.points())
    counted = dict(zip(table["student"], table["file"]))
    assert counted == {"gradescope:ann@example.edu": "gs/submission_10/a.ipynb", "canvas:42": "dl10/doejane_42_700_nb.ipynb"}
    with open(out / "students.csv", encoding="utf-8") as f:
        assert {r["student"]: r["file"] for r in csv.DictReader(f)} == counted
    roster = tmp_path / "canvas.csv"
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section,Autograd Basics (12345)\n"
                      "    Points Possible,,,,,5\nAnn Lee,41,,ann@example.edu,S1,\nDoe Jane,42,,jd,S1,\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["export", "canvas", "--gradebook", str(roster), "--column", "Autograd Basics (12345)", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "canvas-import.report.json").read_text(encoding="utf-8"))
    kept = {m["submission"] for m in report["matched"]}
    assert kept == {"gs/submission_10/a.ipynb", "dl10/doejane_42_700_nb.ipynb"}
    assert {s["submission"] for s in report["superseded"]} == {"gs/submission_9/a.ipynb", "dl2/doejane_42_700_nb.ipynb"}
