"""Grading a whole class: hostile submissions, limits, LMS inputs, the gradebook, resuming."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest
from click.testing import CliRunner

from instructor.cli import main as cli
from instructor.samples import load_samples, write_samples


REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def samples_dir(built, tmp_path_factory):
    folder = tmp_path_factory.mktemp("samples")
    write_samples(built.student_notebook, load_samples(REPO / "assignments" / "autograd-basics" / "samples"), folder)
    return folder


def test_hostile_batch_every_submission_gets_one_row(hostile_graded):
    """The hostile class graded by ``gradkit grade`` (tests/hostile.py, graded once and
    shared with tests/test_engines.py)."""
    run = hostile_graded
    out = run.out
    assert run.exit_code == 0, run.output
    assert "notes.txt" in run.output  # skipped, and said so

    table = pd.read_csv(out / "grades.csv").iloc[1:].set_index("file")
    status = table["grading_status"]
    expected_rows = {"loop", "stubborn", "ask", "exit", "segfault", "bigalloc", "flood", "corrupt", "page", "empty", "two",
                     "smithjohn_1234_5678_autograd-basics", "smithjohn_1234_5679_autograd-basics-1"}
    assert sorted(table.index) == sorted(f"class/{n}.{'zip' if n in ('empty', 'two') else 'ipynb'}" for n in expected_rows)

    def score(name):
        return tuple(table.loc[name, ["q1", "q2", "q3"]])

    assert score("class/loop.ipynb") == (2, 3, 5)
    assert "ran past 20 s and was interrupted" in status["class/loop.ipynb"]  # --cell-timeout 20
    assert score("class/stubborn.ipynb") == (2, 3, 0)
    assert status["class/stubborn.ipynb"].startswith("timed out after 60 s in cell")
    assert score("class/ask.ipynb") == (2, 3, 5)
    assert status["class/ask.ipynb"] == "Completed"
    with sqlite3.connect(out / "gradebook.sqlite") as con:
        raw = {label: json.loads(scores) for label, scores in con.execute("SELECT label, scores FROM submissions")}
    for crash in ("class/exit.ipynb", "class/segfault.ipynb"):
        # os._exit and ctypes are flagged by the screen: 0 until reviewed; the tests gave q1, q2
        assert score(crash) == (0, 0, 0)
        assert status[crash].startswith("needs review: cell ")
        assert "graded: the kernel died in cell" in status[crash]
        assert raw[crash] == {"q1": 2, "q2": 3, "q3": 0}
    assert score("class/bigalloc.ipynb") == (2, 3, 5)
    assert score("class/flood.ipynb") == (2, 3, 5)
    assert "output past 1000000 bytes was dropped" in status["class/flood.ipynb"]
    assert "not valid notebook JSON" in status["class/corrupt.ipynb"]
    assert "HTML page" in status["class/page.ipynb"]
    assert "holds no notebook" in status["class/empty.zip"]
    assert "holds 2 notebooks" in status["class/two.zip"]
    for bad in ("class/corrupt.ipynb", "class/page.ipynb", "class/empty.zip", "class/two.zip"):
        assert score(bad) == (0, 0, 0)

    students = pd.read_csv(out / "students.csv").set_index("student")
    smith = students.loc["canvas:1234"]
    assert smith["attempts"] == 2 and smith["file"] == "class/smithjohn_1234_5679_autograd-basics-1.ipynb"
    assert smith["total_points_earned"] == 8.5

    assert (out / "report.html").read_text().count("<img") == 2
    assert len(list((out / "feedback").glob("*.md"))) == len(table)
    feedback = (out / "feedback" / "class_smithjohn_1234_5679_autograd-basics-1.ipynb.md").read_text()
    # the assignment's hidden_results is after_due_date: feedback handed out after grading shows hidden details
    assert "8.5 / 10" in feedback and "## q1: all tests" in feedback
    assert "lost in hidden tests" not in feedback
    umask = os.umask(0)
    os.umask(umask)
    for exported in (out / "grades.csv", out / "students.csv", next((out / "results").glob("*.json"))):
        assert exported.stat().st_mode & 0o777 == 0o666 & ~umask, exported  # as open() would create it

    # 1 s after the command returned: no process it started is left, in its tree or outside
    assert run.outlived == []
    assert run.marked == []


def test_killed_run_resumes_without_regrading(built, samples_dir, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    names = sorted(p.name for p in samples_dir.glob("*.ipynb"))
    for name in names:
        shutil.copy(samples_dir / name, subs / name)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "instructor.cli", "grade", "--autograder", str(built.autograder_zip), "--out", str(out), "--jobs", "1", str(subs)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = out / "gradebook.sqlite"
    deadline = time.monotonic() + 300
    done_before = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            with sqlite3.connect(db) as con:
                try:
                    done_before = con.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
                except sqlite3.OperationalError:
                    done_before = 0
            if done_before >= 2:
                break
        time.sleep(0.2)
    assert proc.poll() is None, "the grader finished before it could be killed"
    descendants = psutil.Process(proc.pid).children(recursive=True)  # its workers and kernels
    assert descendants, "the grader had no worker running"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(db) as con:
        first = dict(con.execute("SELECT label, graded_at FROM submissions").fetchall())
    assert 2 <= len(first) < len(names)
    # workers die with the grader (PR_SET_PDEATHSIG); their kernels notice within ~1 s
    _, alive = psutil.wait_procs(descendants, timeout=30)
    assert alive == [], f"outlived the killed grader: {[p.cmdline() for p in alive]}"

    result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert f"{len(names) - len(first)} graded now, {len(first)} already in the gradebook" in result.stdout
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT label, graded_at, executions, total FROM submissions").fetchall()
    assert sorted(r[0] for r in rows) == sorted(f"subs/{n}" for n in names)
    assert all(r[2] == 1 for r in rows), "a submission was graded twice"
    assert all(first[label] == graded_at for label, graded_at, _, _ in rows if label in first)
    totals = {label: total for label, _, _, total in rows}
    assert totals["subs/solution.ipynb"] == 10 and totals["subs/untouched.ipynb"] == 0
    table = pd.read_csv(out / "grades.csv")
    assert len(table) == len(names) + 1

    # --regrade grades everything again
    result = subprocess.run(cmd + ["--regrade"], env=env, capture_output=True, text=True)
    assert f"{len(names)} graded now, 0 already in the gradebook" in result.stdout


def test_a_submission_deep_in_nested_folders_gets_its_files(built, tmp_path):
    """A label longer than a file name may be (folders nested in an LMS download) still gets
    its results/ and feedback/ files, unique per label, and the batch completes."""
    from instructor.gradebook import SAFE_NAME_MAX, safe_name

    root = tmp_path / "subs"
    deep = root.joinpath(*(c * 60 for c in "defg"))
    deep.mkdir(parents=True)
    for name in ("h" * 60 + ".ipynb", "h" * 59 + "i.ipynb"):
        shutil.copy(built.student_notebook, deep / name)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["grade", "--autograder", str(built.autograder_zip), "--out", str(out), "--jobs", "1", str(root)])
    assert result.exit_code == 0 and result.exception is None, result.output
    table = pd.read_csv(out / "grades.csv").iloc[1:]
    labels = list(table["file"])
    assert len(labels) == 2 and all(len(label) > 255 for label in labels)
    names = {safe_name(label) for label in labels}
    assert len(names) == 2 and all(len(n) <= SAFE_NAME_MAX and n.endswith(".ipynb") for n in names)
    assert {p.name for p in (out / "results").iterdir()} == {n + ".json" for n in names}
    assert {p.name for p in (out / "feedback").iterdir()} == {n + ".md" for n in names}
    assert safe_name("canvas/smith john.ipynb") == "canvas_smith_john.ipynb"  # short names as before


def test_labels_that_sanitise_alike_keep_separate_files(built, tmp_path):
    """``a b.ipynb`` and ``a_b.ipynb`` (and ``A_b.ipynb``, alike on a case-insensitive file
    system) would share one results/ and one feedback/ file; each keeps its own."""
    from instructor.gradebook import output_names

    root = tmp_path / "subs"
    root.mkdir()
    shutil.copy(built.solution_notebook, root / "a b.ipynb")
    (root / "a_b.ipynb").write_text("{not a notebook", encoding="utf-8")
    shutil.copy(built.student_notebook, root / "A_b.ipynb")
    shutil.copy(built.student_notebook, root / "c.ipynb")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["grade", "--autograder", str(built.autograder_zip), "--out", str(out), "--jobs", "2", str(root)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "grades.csv").iloc[1:].set_index("file")
    names = output_names(table.index)
    assert len(set(n.casefold() for n in names.values())) == 4 and names["subs/c.ipynb"] == "subs_c.ipynb"
    for label, name in names.items():
        results = json.loads((out / "results" / f"{name}.json").read_text(encoding="utf-8"))
        score = results.get("score", sum(t.get("score", 0) for t in results.get("tests", [])))
        assert score == table.loc[label, "total_points_earned"], label
        assert f"# Feedback for {label}" in (out / "feedback" / f"{name}.md").read_text(encoding="utf-8")
    assert table.loc["subs/a b.ipynb", "total_points_earned"] == 10
    assert len(list((out / "results").iterdir())) == 4 and len(list((out / "feedback").iterdir())) == 4
