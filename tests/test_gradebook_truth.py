"""The gradebook is the truth (issue 17): every output lists every submission of the
gradebook once, whichever command wrote it last; one writer at a time; one submission,
one row; reproducible builds; usage errors in one line with exit code 2.

Real grading with the fork engine, real builds with Otter Assign, real processes."""

from __future__ import annotations

import csv
import itertools
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from click.testing import CliRunner

from instructor.build import build_assignment
from instructor.cli import main as cli
from instructor.gradebook import Gradebook, safe_name
from instructor.samples import load_samples, write_samples

from .hostile import with_cell

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT = REPO / "assignments" / "autograd-basics"
PATCH = "import torch\ntorch.allclose = lambda *args, **kwargs: True"
COLUMN = "Autograd Basics (12345)"
MOODLE_COLUMN = "Assignment: Autograd Basics (Real)"


@pytest.fixture(scope="module")
def samples_dir(built, tmp_path_factory):
    folder = tmp_path_factory.mktemp("truth-samples")
    write_samples(built.student_notebook, load_samples(ASSIGNMENT / "samples"), folder)
    return folder


def _invoke(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _grade(built, out: Path, *subs: Path, extra: tuple = ()) -> str:
    result = _invoke("grade", "--autograder", built.autograder_zip, "--out", out, "--jobs", "2", *extra, *subs)
    assert result.exit_code == 0, result.output
    return result.output


def _class(samples_dir: Path, root: Path) -> tuple[Path, Path]:
    """A class folder (Canvas and Moodle download names, a plain file, a flagged file) and one late file."""
    subs = root / "subs"
    subs.mkdir(parents=True)
    shutil.copy(samples_dir / "solution.ipynb", subs / "smithjohn_1001_5001_autograd-basics.ipynb")
    shutil.copy(samples_dir / "q1-math-log.ipynb", subs / "garcialucia_1002_5002_autograd-basics.ipynb")
    shutil.copy(samples_dir / "q3-transposed.ipynb", subs / "Ada Lovelace_77_assignsubmission_file_autograd-basics.ipynb")
    shutil.copy(samples_dir / "untouched.ipynb", subs / "plain.ipynb")
    with_cell(samples_dir / "solution.ipynb", "f2", PATCH, subs / "patched.ipynb")
    late = root / "late" / "brownbob_1003_5003_autograd-basics.ipynb"
    late.parent.mkdir()
    shutil.copy(samples_dir / "q2-not-a-leaf.ipynb", late)
    return subs, late


def _lms_inputs(root: Path) -> tuple[Path, Path]:
    canvas = root / "canvas-export.csv"
    canvas.write_text(
        f"Student,ID,SIS User ID,SIS Login ID,Section,{COLUMN}\r\n"
        "    Points Possible,,,,,10\r\n"
        "\"Smith, John\",1001,,,A,\r\n\"Garcia, Lucia\",1002,,,A,\r\n\"Brown, Bob\",1003,,,A,\r\n", encoding="utf-8")
    moodle = root / "moodle-export.csv"
    moodle.write_text(f"First name,Last name,ID number,Email address,{MOODLE_COLUMN}\n"
                      "Ada,Lovelace,7,ada@example.org,-\n", encoding="utf-8")
    return canvas, moodle


def _check_outputs(out: Path, expected: set[str], *, canvas_rows: dict[str, str] | None = None) -> None:
    """Every output lists every submission of the gradebook exactly once."""
    with sqlite3.connect(out / "gradebook.sqlite") as con:
        stored = [r[0] for r in con.execute("SELECT label FROM submissions")]
    assert sorted(stored) == sorted(expected)
    grades = pd.read_csv(out / "grades.csv").iloc[1:]
    assert sorted(grades["file"]) == sorted(expected)
    students = pd.read_csv(out / "students.csv")
    listed = [f for files in students["all_files"] for f in files.split(";")]
    assert sorted(listed) == sorted(expected)
    assert sorted(p.name for p in (out / "results").glob("*.json")) == sorted(safe_name(x) + ".json" for x in expected)
    assert sorted(p.name for p in (out / "feedback").glob("*.md")) == sorted(safe_name(x) + ".md" for x in expected)
    report = (out / "report.html").read_text(encoding="utf-8")
    assert f"<p>{len(expected)} submissions," in report
    for label in expected:  # every submission is in the slowest-submissions table (fewer than 10 here)
        assert report.count(f"<td>{label}</td>") >= 1, label
    if canvas_rows is not None:
        with open(out / "canvas-import.csv", encoding="utf-8", newline="") as f:
            rows = {r[1]: r[-1] for r in list(csv.reader(f))[1:] if r and r[1]}
        assert rows == canvas_rows
        report_json = json.loads((out / "canvas-import.report.json").read_text(encoding="utf-8"))
        mentioned = [m["submission"] for m in report_json["matched"]] + [n["submission"] for key in ("superseded", "unmatched", "ambiguous")
                                                                          for n in report_json[key]]
        assert sorted(mentioned) == sorted(expected)


def test_every_output_lists_every_submission_whichever_command_ran_last(built, samples_dir, tmp_path):
    subs, late = _class(samples_dir, tmp_path)
    canvas, moodle = _lms_inputs(tmp_path)
    out = tmp_path / "out"
    first = {f"subs/{p.name}" for p in subs.iterdir()}
    _grade(built, out, subs)
    _check_outputs(out, first)
    result = _invoke("export", "canvas", "--gradebook", canvas, "--column", COLUMN, out)
    assert result.exit_code == 0, result.output
    result = _invoke("export", "moodle", "--grades-template", moodle, "--column", MOODLE_COLUMN, out)
    assert result.exit_code == 0, result.output
    points = {s.name: f"{sum(s.expected.values()):g}" for s in load_samples(ASSIGNMENT / "samples")}
    _check_outputs(out, first, canvas_rows={"1001": points["solution"], "1002": points["q1-math-log"], "1003": ""})

    # one late file into the same folder: every output still lists the whole class
    summary = _grade(built, out, late)
    assert "6 submissions in the gradebook, 1 given now: 1 graded now, 0 already in the gradebook" in summary
    everyone = first | {late.name}
    canvas_after = {"1001": points["solution"], "1002": points["q1-math-log"], "1003": points["q2-not-a-leaf"]}
    _check_outputs(out, everyone, canvas_rows=canvas_after)
    moodle_rows = list(csv.reader(open(out / "moodle-import.csv", encoding="utf-8", newline="")))
    assert moodle_rows[1][-1] == "7.5", moodle_rows  # Ada Lovelace: q3-transposed earns 7.5 (rebuilt after the late grade)

    commands = {
        "review": ("review", out, "--reject", "subs/patched.ipynb", "--note", "patches torch"),
        "report": ("report", out),
        "export canvas": ("export", "canvas", "--gradebook", canvas, "--column", COLUMN, out),
        "export moodle": ("export", "moodle", "--grades-template", moodle, "--column", MOODLE_COLUMN, out),
        "grade again": None,
    }
    for order in itertools.permutations(["review", "report", "export canvas", "grade again"]):
        order = ("export moodle", *order) if order[0] == "review" else order
        for name in order:
            if commands[name] is None:
                _grade(built, out, late)
            else:
                result = _invoke(*commands[name])
                assert result.exit_code == 0, (name, result.output)
            _check_outputs(out, everyone, canvas_rows=canvas_after)

    # a submission leaves the outputs only by `gradkit remove`, which the history records
    result = _invoke("remove", out, "subs/plain.ipynb", "--note", "graded by mistake")
    assert result.exit_code == 0, result.output
    assert "5 submissions remain" in result.output
    _check_outputs(out, everyone - {"subs/plain.ipynb"}, canvas_rows=canvas_after)
    with Gradebook(out) as book:
        removed = [e for e in book.events("subs/plain.ipynb") if e.action == "removed"]
        assert len(removed) == 1 and removed[0].note == "graded by mistake"
        assert json.loads(removed[0].old)["total"] == 0.0
        reviewed = [e for e in book.events("subs/patched.ipynb") if e.action == "reviewed"]
        assert reviewed and all(e.note == "patches torch" for e in reviewed)
    result = _invoke("remove", out, "plain.ipynb")
    assert result.exit_code == 2 and "no submission labelled 'plain.ipynb'" in result.output
    assert len(result.output.strip().splitlines()) == 1

    # the course's Canvas file is gone: the stale import is deleted, not left with old grades
    canvas.unlink()
    result = _invoke("report", out)
    assert result.exit_code == 0, result.output
    assert "canvas-import.csv: deleted, as it could not be rebuilt with every submission" in result.output
    assert "run `gradkit export canvas ...` again" in result.output
    assert not (out / "canvas-import.csv").exists() and not (out / "canvas-import.report.json").exists()
    kept = list(csv.reader(open(out / "moodle-import.csv", encoding="utf-8", newline="")))
    assert kept[0] == moodle_rows[0] and len(kept) == len(moodle_rows)  # the Moodle import is rebuilt, not deleted


def test_the_same_file_under_a_new_label_is_one_submission(built, samples_dir, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(samples_dir / "solution.ipynb", subs / "right.ipynb")
    shutil.copy(samples_dir / "untouched.ipynb", subs / "blank.ipynb")
    out = tmp_path / "out"
    _grade(built, out, subs)
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(subs / "right.ipynb", alone / "right.ipynb")
    # the untouched notebook handed in by another student under another name: two submissions
    shutil.copy(subs / "blank.ipynb", alone / "other.ipynb")
    summary = _grade(built, out, alone / "right.ipynb", alone / "other.ipynb")
    assert "right.ipynb: the same submission as subs/right.ipynb (same file)" in summary
    assert "1 graded now, 1 already in the gradebook" in summary
    grades = pd.read_csv(out / "grades.csv").iloc[1:]
    assert sorted(grades["file"]) == ["other.ipynb", "right.ipynb", "subs/blank.ipynb"]
    assert not (out / "results" / "subs_right.ipynb.json").exists()
    with Gradebook(out) as book:
        assert [e.action for e in book.events("right.ipynb")] == ["relabelled"]
        assert book.rows(["right.ipynb"])[0].executions == 1  # not graded again

    # two students handing in the same file are two submissions (their student keys differ)
    canvas = tmp_path / "canvas"
    canvas.mkdir()
    shutil.copy(samples_dir / "solution.ipynb", canvas / "smithjohn_1001_5001_autograd-basics.ipynb")
    shutil.copy(samples_dir / "solution.ipynb", canvas / "doejane_1002_5002_autograd-basics.ipynb")
    _grade(built, out, canvas)
    again = tmp_path / "again"
    again.mkdir()
    shutil.copy(canvas / "doejane_1002_5002_autograd-basics.ipynb", again / "doejane_1002_5002_autograd-basics.ipynb")
    summary = _grade(built, out, again)
    assert "again/doejane_1002_5002_autograd-basics.ipynb: the same submission as canvas/doejane_1002_5002_autograd-basics.ipynb" in summary
    students = pd.read_csv(out / "students.csv").set_index("student")
    assert students.loc["canvas:1002", "attempts"] == 1 and students.loc["canvas:1001", "attempts"] == 1
    assert len(pd.read_csv(out / "grades.csv")) - 1 == 5


def test_two_grade_runs_on_one_folder_never_write_at_once(built, samples_dir, tmp_path):
    """Two real `gradkit grade` processes on one folder: one grades, the other refuses with
    one line naming the running process; the gradebook and grades.csv then agree."""
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
    names = sorted(p.name for p in samples_dir.glob("*.ipynb"))
    for name in names:
        shutil.copy(samples_dir / name, first / name)
        shutil.copy(samples_dir / name, second / f"b-{name}")
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    def cmd(folder):
        return [sys.executable, "-m", "instructor.cli", "grade", "--autograder", str(built.autograder_zip), "--out", str(out),
                "--jobs", "1", str(folder)]

    one = subprocess.Popen(cmd(first), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = out / ".gradkit.lock"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (lock.exists() and lock.read_text().strip()):
        time.sleep(0.1)
    two = subprocess.run(cmd(second), env=env, capture_output=True, text=True)
    assert two.returncode == 1
    message = two.stderr.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in message
    assert f"in use by pid {one.pid}" in message and "(gradkit grade --autograder" in message
    stdout, stderr = one.communicate(timeout=600)
    assert one.returncode == 0, stderr
    # the second, waiting for the first, grades its files into the same outputs
    waited = subprocess.run(cmd(second) + ["--wait", "600"], env=env, capture_output=True, text=True)
    assert waited.returncode == 0, waited.stderr
    with sqlite3.connect(out / "gradebook.sqlite") as con:
        stored = sorted(r[0] for r in con.execute("SELECT label FROM submissions"))
    assert len(stored) == 2 * len(names)
    assert sorted(pd.read_csv(out / "grades.csv").iloc[1:]["file"]) == stored


def test_engine_start_up_is_not_a_submissions_time(built, samples_dir, tmp_path, monkeypatch):
    """Starting the zygote moves the clock that times submissions by a day: a submission whose
    time spanned a start-up would show it, whatever the machine's load (no race of real seconds)."""
    from autograder.engines import base
    from autograder.engines.fork import engine as fork_engine

    day = 86400.0
    skew = [0.0]
    real = base.time.monotonic
    monkeypatch.setattr(base, "time", SimpleNamespace(monotonic=lambda: real() + skew[0]))

    class SkewingZygote(fork_engine._Zygote):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            skew[0] += day

    monkeypatch.setattr(fork_engine, "_Zygote", SkewingZygote)
    out = tmp_path / "out"
    summary = _grade(built, out, samples_dir / "solution.ipynb", samples_dir / "untouched.ipynb", extra=("--jobs", "1"))
    assert "engine start-up:" in summary
    with Gradebook(out) as book:
        startup = book.meta("engine_startup")
        seconds = {r.label: r.seconds for r in book.rows()}
    print(f"zygote start-up {startup['seconds']} s; submissions {seconds}")
    assert startup["engine"] == "fork" and len(startup["seconds"]) == 1
    assert skew[0] == day  # one zygote started, by the warm-up
    # the zygote imports torch and otter (seconds); a submission graded by forking it does not
    assert len(seconds) == 2
    assert all(0 < s < day for s in seconds.values()), seconds
    assert "Engine start-up of the last grading run (fork)" in (out / "report.html").read_text(encoding="utf-8")


def test_results_json_writes_points_as_floats(built, samples_dir, tmp_path):
    out = tmp_path / "out"
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{", encoding="utf-8")
    _grade(built, out, samples_dir / "q1-math-log.ipynb", broken)
    assert len(list((out / "results").glob("*.json"))) == 2
    for path in (out / "results").glob("*.json"):
        results = json.loads(path.read_text(encoding="utf-8"))
        numbers = [results[k] for k in ("score", "max_score") if k in results]
        numbers += [t[k] for t in results["tests"] for k in ("score", "max_score") if k in t]
        assert numbers and all(type(n) is float for n in numbers), (path.name, numbers)


def test_feedback_follows_hidden_results_and_the_flags(built, samples_dir, tmp_path):
    """The built assignment says `hidden_results: after_due_date`: local feedback (handed out
    after grading) shows hidden tests' messages; --hide-hidden / --show-hidden override, and
    the choice is kept by later rebuilds."""
    out = tmp_path / "out"
    _grade(built, out, samples_dir / "q1-math-log.ipynb")
    feedback = out / "feedback" / "q1-math-log.ipynb.md"
    shown = feedback.read_text(encoding="utf-8")
    assert "## q1: all tests" in shown and "their details are not shown here" not in shown
    assert _invoke("report", out, "--hide-hidden").exit_code == 0
    hidden = feedback.read_text(encoding="utf-8")
    assert "## q1: all tests" not in hidden and "their details are not shown here" in hidden
    assert _invoke("review", out).exit_code == 0 and _invoke("report", out).exit_code == 0
    assert feedback.read_text(encoding="utf-8") == hidden  # the choice stands
    _grade(built, out, samples_dir / "q1-math-log.ipynb", extra=("--show-hidden",))
    assert "## q1: all tests" in feedback.read_text(encoding="utf-8")


def test_a_hidden_results_hidden_assignment_keeps_hidden_details_out_of_feedback(built, samples_dir, tmp_path):
    from instructor.outputs import zip_hidden_results

    assert zip_hidden_results(built.autograder_zip) == "after_due_date"
    source = tmp_path / ASSIGNMENT.name
    shutil.copytree(ASSIGNMENT, source, ignore=shutil.ignore_patterns("samples"))
    master = source / f"{ASSIGNMENT.name}.ipynb"
    master.write_text(master.read_text(encoding="utf-8").replace("hidden_results: after_due_date", "hidden_results: hidden"), encoding="utf-8")
    hidden_build = build_assignment(source, tmp_path / "dist", verify=False)
    assert zip_hidden_results(hidden_build.autograder_zip) == "hidden"
    out = tmp_path / "out"
    result = _invoke("grade", "--autograder", hidden_build.autograder_zip, "--out", out, samples_dir / "q1-math-log.ipynb")
    assert result.exit_code == 0, result.output
    text = (out / "feedback" / "q1-math-log.ipynb.md").read_text(encoding="utf-8")
    assert "## q1: all tests" not in text and "their details are not shown here" in text


def test_rebuilding_unchanged_sources_gives_the_same_zip_and_no_regrade(built, samples_dir, tmp_path):
    first = build_assignment(ASSIGNMENT, tmp_path / "one", verify=False)
    second = build_assignment(ASSIGNMENT, tmp_path / "two", verify=False)
    assert first.autograder_zip.read_bytes() == second.autograder_zip.read_bytes()
    assert first.autograder_zip.read_bytes() == built.autograder_zip.read_bytes()
    assert first.student_notebook.read_bytes() == second.student_notebook.read_bytes()
    assert first.solution_notebook.read_bytes() == second.solution_notebook.read_bytes()
    out = tmp_path / "out"
    subs = [samples_dir / "solution.ipynb", samples_dir / "untouched.ipynb"]
    result = _invoke("grade", "--autograder", first.autograder_zip, "--out", out, *subs)
    assert result.exit_code == 0, result.output
    result = _invoke("grade", "--autograder", second.autograder_zip, "--out", out, *subs)
    assert "0 graded now, 2 already in the gradebook" in result.output
    # a changed autograder regrades, and the summary says why
    source = tmp_path / ASSIGNMENT.name
    shutil.copytree(ASSIGNMENT, source, ignore=shutil.ignore_patterns("samples"))
    master = source / f"{ASSIGNMENT.name}.ipynb"
    text = master.read_text(encoding="utf-8")
    assert "hidden_results: after_due_date" in text
    master.write_text(text.replace("hidden_results: after_due_date", "hidden_results: after_published"), encoding="utf-8")
    changed = build_assignment(source, tmp_path / "three", verify=False)
    assert changed.autograder_zip.read_bytes() != first.autograder_zip.read_bytes()
    result = _invoke("grade", "--autograder", changed.autograder_zip, "--out", out, *subs)
    assert "2 graded now, 0 already in the gradebook" in result.output
    assert "regraded 2 because the autograder changed" in result.output


def _one_line_usage_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    text = result.output.strip()
    assert len(text.splitlines()) == 1, text
    assert text.startswith("Error: ") and "Traceback" not in text
    for fragment in fragments:
        assert fragment in text, (fragment, text)


def test_usage_errors_are_one_line_with_exit_code_2(built, samples_dir, tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("x", encoding="utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    zip_ = built.autograder_zip
    _one_line_usage_error(_invoke("grade", "--autograder", zip_, "--out", a_file, samples_dir / "solution.ipynb"),
                          str(a_file), "is a file")
    _one_line_usage_error(_invoke("build", empty), str(empty), "expected the master notebook empty.ipynb")
    _one_line_usage_error(_invoke("build", "--out", a_file, ASSIGNMENT), str(a_file), "is a file")
    _one_line_usage_error(_invoke("grade", "--autograder", zip_, "--out", tmp_path / "o", empty), "no submissions found", str(empty))
    _one_line_usage_error(_invoke("grade", "--autograder", a_file, samples_dir / "solution.ipynb"), str(a_file))
    _one_line_usage_error(_invoke("grade", "--autograder", zip_, tmp_path / "missing.ipynb"), "missing.ipynb", "does not exist")
    _one_line_usage_error(_invoke("report", empty), str(empty), "no gradebook.sqlite")
    _one_line_usage_error(_invoke("review", empty), str(empty), "no gradebook.sqlite")
    _one_line_usage_error(_invoke("remove", empty, "x.ipynb"), str(empty), "no gradebook.sqlite")
    _one_line_usage_error(_invoke("grade", "--autograder", zip_, "--jobs", "0", samples_dir), "--jobs")
    _one_line_usage_error(_invoke("nosuch"), "No such command 'nosuch'")
    _one_line_usage_error(_invoke("check", "-Q", "q9", built.student_notebook), "no tests for q9")
    assert not (empty / ".gradkit.lock").exists()  # a wrong folder is left as it was

    # LMS files: a row longer than its header, and the other platform's export
    out = tmp_path / "out"
    _grade(built, out, samples_dir / "solution.ipynb")
    canvas, moodle = _lms_inputs(tmp_path)
    long_row = tmp_path / "long.csv"
    long_row.write_text(f"Student,ID,Section,{COLUMN}\r\nSmith, John,1001,A,\r\n", encoding="utf-8")
    _one_line_usage_error(_invoke("export", "canvas", "--gradebook", long_row, "--column", COLUMN, out),
                          f"{long_row}, line 2", "has 5 fields but its header has 4")
    _one_line_usage_error(_invoke("export", "moodle", "--grades-template", canvas, "--column", COLUMN, out),
                          str(canvas), "is a Canvas gradebook export", "gradkit export canvas")
    _one_line_usage_error(_invoke("export", "canvas", "--gradebook", moodle, "--column", MOODLE_COLUMN, out),
                          str(moodle), "is a Moodle grade export", "gradkit export moodle")
    _one_line_usage_error(_invoke("export", "canvas", "--gradebook", canvas, "--column", COLUMN, "--out", out, out),
                          "is a directory")


def test_gradkit_alone_prints_its_help():
    result = _invoke()
    assert result.exit_code in (0, 2) and "Commands:" in result.output and "remove" in result.output
