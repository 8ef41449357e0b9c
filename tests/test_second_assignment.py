"""Extension point "add a second assignment", proven end to end.

``tests/second_assignment/chain-rule`` is a second master notebook in Otter Assign format
(two questions, 3 points: a first derivative by ``backward``, a second derivative by
``torch.autograd.grad`` with ``create_graph=True``), written as an instructor adds one to
``assignments/``: the master notebook, its ``requirements.txt`` and its ``samples/``. It is
built and verified with ``gradkit build`` (real Otter Assign; the solution must earn every
point and the blank notebook none), its samples are typed into the built student notebook,
and ``gradkit grade`` must give each exactly its ``# expect:`` points, ``Completed``, with
its ``# feedback:`` fragments in the results. Nothing in gradkit names this assignment.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from click.testing import CliRunner

from autograder.autograder_zip import question_points
from instructor.batch import results_file_name
from instructor.cli import main as cli
from instructor.samples import load_samples, write_samples

SECOND = Path(__file__).resolve().parent / "second_assignment" / "chain-rule"
SAMPLES = load_samples(SECOND / "samples")


@pytest.fixture(scope="module")
def second_built(tmp_path_factory):
    """``gradkit build --out DIST tests/second_assignment/chain-rule`` (verified): (output
    folder of the assignment, the command's output)."""
    out = tmp_path_factory.mktemp("dist")
    result = CliRunner().invoke(cli, ["build", "--out", str(out), str(SECOND)])
    assert result.exit_code == 0, result.output
    return out / "chain-rule", result.output


@pytest.fixture(scope="module")
def second_graded(second_built, tmp_path_factory):
    """Every sample typed into the built student notebook and graded by ``gradkit grade``:
    (grades.csv without its points-possible row, indexed by file; grading folder)."""
    folder, _ = second_built
    root = tmp_path_factory.mktemp("second")
    write_samples(folder / "student" / "chain-rule.ipynb", SAMPLES, root / "subs")
    out = root / "out"
    result = CliRunner().invoke(cli, ["grade", "--autograder", str(folder / "autograder" / "chain-rule-autograder.zip"),
                                      "--out", str(out), "--jobs", "2", str(root / "subs")])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "grades.csv")
    return table, out


def test_the_samples_on_disk_are_all_loaded():
    assert [s.name for s in SAMPLES] == sorted(p.stem for p in (SECOND / "samples").glob("*.py"))
    assert len(SAMPLES) == 4
    assert {s.name for s in SAMPLES} >= {"solution", "untouched"}


def test_build_writes_the_second_assignment(second_built):
    folder, output = second_built
    zip_path = folder / "autograder" / "chain-rule-autograder.zip"
    assert output.splitlines()[0] == "chain-rule: 3 points"
    assert question_points(zip_path) == {"q1": 2.0, "q2": 1.0}
    with zipfile.ZipFile(zip_path) as archive:
        names = set(archive.namelist())
        q1_tests = archive.read("tests/q1.py").decode("utf-8")
        environment = archive.read("environment.yml").decode("utf-8")
    assert {"tests/q1.py", "tests/q2.py", "environment.yml", "run_autograder"} <= names
    assert "torch==2.13.0+cpu" in environment                            # its requirements.txt
    assert "test_q1_value" in q1_tests and "hidden" in q1_tests          # the hidden test is in the zip
    student = nbformat.read(folder / "student" / "chain-rule.ipynb", as_version=4)
    student_text = "\n".join(c.source for c in student.cells)
    assert "torch.sin(x) * x ** 2" not in student_text                   # no solution
    assert "test_q1_value" not in student_text and "math.cos" not in student_text  # no hidden test
    assert "def h(x):" in student_text and "Exercise 2" in student_text


def test_points_possible_row(second_graded):
    table, _ = second_graded
    possible = table.iloc[0]
    assert (possible["q1"], possible["q2"]) == (2.0, 1.0)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.name)
def test_sample_earns_exactly_its_points(sample, second_graded):
    table, out = second_graded
    rows = table.iloc[1:].set_index("file")
    assert len(rows) == len(SAMPLES)
    row = rows.loc[f"subs/{sample.name}.ipynb"]
    assert row["grading_status"] == "Completed"
    assert {q: float(row[q]) for q in ("q1", "q2")} == sample.expected
    results = json.loads((out / "results" / results_file_name(f"subs/{sample.name}.ipynb")).read_text())
    outputs = {t["name"]: t.get("output", "") for t in results["tests"]}
    assert {t["name"]: t["score"] for t in results["tests"] if "score" in t} == sample.expected
    assert {t["name"]: t["max_score"] for t in results["tests"] if "score" in t} == {"q1": 2.0, "q2": 1.0}
    for question, fragments in sample.feedback.items():
        for fragment in fragments:
            assert fragment in outputs[question], f"{sample.name}: {fragment!r} not in {question}'s feedback:\n{outputs[question]}"
