"""The needs-review rule end to end: a flagged submission counts 0 in every export until
``gradkit review`` clears it; decisions survive re-runs and are undone by a new file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from instructor.batch import results_file_name
from instructor.cli import main as cli
from instructor.samples import load_samples, write_samples

from .hostile import with_cell

REPO = Path(__file__).resolve().parent.parent
PATCH = "import torch\ntorch.allclose = lambda *args, **kwargs: True"


@pytest.fixture(scope="module")
def graded(built, tmp_path_factory):
    root = tmp_path_factory.mktemp("review")
    samples = root / "samples"
    write_samples(built.student_notebook, load_samples(REPO / "assignments" / "autograd-basics" / "samples"), samples)
    subs = root / "subs"
    subs.mkdir()
    shutil.copy(samples / "solution.ipynb", subs / "honest.ipynb")
    with_cell(samples / "solution.ipynb", "f2", PATCH, subs / "patched.ipynb")
    out = root / "out"
    _grade(built, subs, out)
    return built, subs, out


def _grade(built, subs: Path, out: Path) -> str:
    result = CliRunner().invoke(cli, ["grade", "--autograder", str(built.autograder_zip), "--out", str(out), "--jobs", "2", str(subs)])
    assert result.exit_code == 0, result.output
    return result.output


def _row(out: Path, label: str) -> pd.Series:
    return pd.read_csv(out / "grades.csv").iloc[1:].set_index("file").loc[label]


def _review(*args: str):
    return CliRunner().invoke(cli, ["review", *args])


def test_flagged_submission_counts_zero_everywhere_until_reviewed(graded):
    _, _, out = graded
    patched = _row(out, "subs/patched.ipynb")
    assert (patched["q1"], patched["q2"], patched["q3"]) == (0, 0, 0)
    assert patched["grading_status"].startswith("needs review: cell ")
    assert "assigns to torch.allclose (patches a module)" in patched["grading_status"]
    assert patched["grading_status"].endswith("; graded: Completed")
    assert _row(out, "subs/honest.ipynb")["grading_status"] == "Completed"
    students = pd.read_csv(out / "students.csv").set_index("file")
    assert students.loc["subs/patched.ipynb", "total_points_earned"] == 0
    results = json.loads((out / "results" / results_file_name("subs/patched.ipynb")).read_text())
    assert results["score"] == 0 and results["tests"][0]["name"] == "Needs instructor review"
    assert "torch.allclose" in results["tests"][0]["output"]
    questions = [t for t in results["tests"] if t.get("max_score")]
    assert [t["score"] for t in questions] == [0, 0, 0]
    assert "the tests gave 2 / 2 points" in questions[0]["output"]
    feedback = (out / "feedback" / "subs_patched.ipynb.md").read_text()
    assert "needs review" in feedback
    listing = _review(str(out))
    assert listing.exit_code == 0, listing.output
    assert "subs/patched.ipynb: NEEDS REVIEW (tests gave 10 points; counts 0)" in listing.output
    assert "torch.allclose = lambda" in listing.output
    assert "honest" not in listing.output


def test_clear_reject_and_reopen_rewrite_every_export(graded):
    built, subs, out = graded
    cleared = _review(str(out), "--clear", "subs/patched.ipynb", "--note", "teaching demo, allowed")
    assert cleared.exit_code == 0, cleared.output
    assert "cleared (tests gave 10 points; counts 10) - note: teaching demo, allowed" in cleared.output
    row = _row(out, "subs/patched.ipynb")
    assert row["total_points_earned"] == 10 and row["grading_status"] == "Completed; cleared after review"
    results = json.loads((out / "results" / results_file_name("subs/patched.ipynb")).read_text())
    assert results["tests"][0]["name"] != "Needs instructor review"

    # a re-run reuses the row and keeps the decision
    output = _grade(built, subs, out)
    assert "0 graded now, 2 already in the gradebook" in output
    assert _row(out, "subs/patched.ipynb")["total_points_earned"] == 10

    rejected = _review(str(out), "--reject", "subs/patched.ipynb")
    assert rejected.exit_code == 0, rejected.output
    row = _row(out, "subs/patched.ipynb")
    assert row["total_points_earned"] == 0 and row["grading_status"].startswith("rejected after review: cell ")

    reopened = _review(str(out), "--reopen", "subs/patched.ipynb")
    assert reopened.exit_code == 0 and "NEEDS REVIEW" in reopened.output
    assert _row(out, "subs/patched.ipynb")["grading_status"].startswith("needs review: ")


def test_a_changed_file_is_reviewed_afresh(built, graded, tmp_path):
    _, subs, out = graded
    work = tmp_path / "out"
    shutil.copytree(out, work)
    assert _review(str(work), "--clear", "subs/patched.ipynb").exit_code == 0
    changed = tmp_path / "subs"
    shutil.copytree(subs, changed)
    with_cell(changed / "patched.ipynb", "f1", "import torch\ntorch.testing.assert_close = print", changed / "patched.ipynb")
    _grade(built, changed, work)  # the folder is also named subs/, so the labels stay the same
    row = pd.read_csv(work / "grades.csv").iloc[1:].set_index("file").loc["subs/patched.ipynb"]
    assert row["grading_status"].startswith("needs review: ")


def test_review_errors_name_the_problem(graded, tmp_path):
    _, _, out = graded
    missing = _review(str(out), "--clear", "subs/nobody.ipynb")
    assert missing.exit_code == 2 and "no submission labelled 'subs/nobody.ipynb'" in missing.output
    short = _review(str(out), "--clear", "patched.ipynb")
    assert short.exit_code == 2 and "did you mean subs/patched.ipynb?" in short.output
    lonely = _review(str(out), "--note", "why")
    assert lonely.exit_code == 2 and "--note is kept with a decision" in lonely.output
    honest = _review(str(out), "--clear", "subs/honest.ipynb")
    assert honest.exit_code == 2 and "nothing to review" in honest.output
    twice = _review(str(out), "--clear", "subs/patched.ipynb", "--reject", "subs/patched.ipynb")
    assert twice.exit_code == 2 and "more than one decision" in twice.output
    empty = tmp_path / "empty"
    empty.mkdir()
    nobook = _review(str(empty))
    assert nobook.exit_code == 2 and "no gradebook.sqlite here" in nobook.output
