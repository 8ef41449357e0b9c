"""gradkit grade: real execution of the bundled samples, the grade table, bad inputs."""

from __future__ import annotations

import json
import shutil
import zipfile

import pandas as pd
import pytest
from click.testing import CliRunner

from instructor.batch import results_file_name
from instructor.cli import main as cli

OTTER_COLUMNS = ["file", "q1", "q2", "q3", "total_points_earned", "percent_correct", "grading_status"]


def test_every_bundled_sample_earns_exactly_its_expected_points(graded_samples):
    samples, table, _ = graded_samples
    assert list(table.columns) == OTTER_COLUMNS
    assert table.iloc[0]["file"] == "points-per-question"
    rows = table.iloc[1:].reset_index(drop=True)
    assert len(rows) == len(samples)
    for sample, (_, row) in zip(samples, rows.iterrows()):
        assert row["file"] == f"{sample.name}.ipynb"
        assert row["grading_status"] == "Completed", sample.name
        got = {q: row[q] for q in sample.expected}
        assert got == sample.expected, sample.name
        assert row["total_points_earned"] == pytest.approx(sum(sample.expected.values()))


def test_bundled_samples_cover_solution_blank_and_mistakes(bundled_samples):
    by_name = {s.name: s for s in bundled_samples}
    assert sum(by_name["solution"].expected.values()) == 10
    assert sum(by_name["untouched"].expected.values()) == 0
    mistakes = [s for s in bundled_samples if 0 < sum(s.expected.values()) < 10]
    on_disk = sorted(p.stem for p in (bundled_samples[0].path.parent).glob("*.py"))
    assert [s.name for s in bundled_samples] == on_disk
    assert sorted(s.name for s in mistakes) == [n for n in on_disk if n not in ("solution", "untouched")]
    assert len(mistakes) >= 3


def test_feedback_of_each_sample_names_the_mistake(graded_samples):
    samples, _, out = graded_samples
    for sample in samples:
        results = json.loads((out / "results" / results_file_name(f"{sample.name}.ipynb")).read_text())
        by_question = {t["name"]: t.get("output", "") for t in results["tests"]}
        for question, fragments in sample.feedback.items():
            for fragment in fragments:
                assert fragment in by_question[question], (sample.name, question, fragment)


def test_results_json_is_gradescope_shaped(graded_samples):
    _, _, out = graded_samples
    results = json.loads((out / "results" / "solution.ipynb.json").read_text())
    questions = {t["name"]: t for t in results["tests"] if "max_score" in t}
    assert {q: t["score"] for q, t in questions.items()} == {"q1": 2.0, "q2": 3.0, "q3": 5.0}
    assert all(t["max_score"] == {"q1": 2, "q2": 3, "q3": 5}[q] for q, t in questions.items())


def test_grade_command_takes_folders_zips_and_bad_files(built, graded_samples, tmp_path):
    """One run with a folder, an Otter-export-style zip and broken inputs: a row for each."""
    subs = tmp_path / "class"
    subs.mkdir()
    solution_nb = next(p for p in (graded_samples[2].parent / "submissions").glob("solution.ipynb"))
    shutil.copy(solution_nb, subs / "alice.ipynb")
    with zipfile.ZipFile(subs / "bob.zip", "w") as z:  # an export zip: notebook + otter's log
        z.write(solution_nb, "autograd-basics.ipynb")
        z.writestr(".OTTER_LOG", b"\x00not a log")
        z.writestr("__MACOSX/._autograd-basics.ipynb", b"junk")
    (subs / "carol.ipynb").write_text('{"cells": [', encoding="utf-8")  # truncated JSON
    (subs / "dave.ipynb").write_text("<!DOCTYPE html><html></html>", encoding="utf-8")
    with zipfile.ZipFile(subs / "erin.zip", "w") as z:
        z.writestr("notes.txt", "no notebook here")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["grade", "--autograder", str(built.autograder_zip), "--out", str(out), "--jobs", "2", str(subs)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "grades.csv")
    assert list(table.columns) == OTTER_COLUMNS
    rows = table.iloc[1:].set_index("file")
    assert sorted(rows.index) == ["class/alice.ipynb", "class/bob.zip", "class/carol.ipynb", "class/dave.ipynb", "class/erin.zip"]
    assert rows.loc["class/alice.ipynb", "total_points_earned"] == 10
    assert rows.loc["class/bob.zip", "total_points_earned"] == 10
    assert "carol.ipynb: not valid notebook JSON" in rows.loc["class/carol.ipynb", "grading_status"]
    assert "HTML page" in rows.loc["class/dave.ipynb", "grading_status"]
    assert "erin.zip: the zip holds no notebook" in rows.loc["class/erin.zip", "grading_status"]
    for label in rows.index:
        results = json.loads((out / "results" / results_file_name(label)).read_text())
        assert sum(t["score"] for t in results.get("tests", []) if "max_score" in t) == rows.loc[label, "total_points_earned"], label
    for label in ("class/carol.ipynb", "class/dave.ipynb", "class/erin.zip"):
        assert rows.loc[label, "total_points_earned"] == 0


def test_grade_command_usage_errors_exit_non_zero(tmp_path):
    not_a_zip = tmp_path / "ag.zip"
    not_a_zip.write_text("nope")
    sub = tmp_path / "s.ipynb"
    sub.write_text("{}")
    result = CliRunner().invoke(cli, ["grade", "--autograder", str(not_a_zip), str(sub)])
    assert result.exit_code == 2 and "not an Otter autograder zip" in result.output
    result = CliRunner().invoke(cli, ["grade", "--autograder", str(not_a_zip), str(tmp_path / "missing.ipynb")])
    assert result.exit_code == 2


def test_grading_an_empty_folder_is_a_usage_error_that_writes_nothing(built, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["grade", "--autograder", str(built.autograder_zip), "--out", str(out), str(empty)])
    assert result.exit_code == 2 and "no submissions found" in result.output
    assert not out.exists()
