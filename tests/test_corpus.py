"""The check corpus: typical mistakes and unusual correct solutions, graded for real.

Every sample in ``tests/corpus/autograd-basics`` is typed into the built student
notebook, graded through ``gradkit grade`` (real kernel, real otter tests), and must earn
exactly its expected points per question, with the expected feedback fragments in its
results.json. Fragments marked ``public-feedback`` must also appear in the output of the
student's own ``grader.check`` when the notebook runs in a kernel.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from click.testing import CliRunner
from nbclient import NotebookClient

from instructor.batch import results_file_name
from instructor.cli import main as cli
from instructor.samples import fill_notebook, load_samples, write_samples

CORPUS = Path(__file__).parent / "corpus" / "autograd-basics"
SAMPLES = load_samples(CORPUS)
MISTAKES = [s for s in SAMPLES if s.name.startswith("m")]
CORRECT = [s for s in SAMPLES if s.name.startswith("c")]


def _grade(built, notebooks_dir: Path, out: Path) -> pd.DataFrame:
    result = CliRunner().invoke(cli, ["grade", "--autograder", str(built.autograder_zip), "--out", str(out), "--jobs", "2", str(notebooks_dir)])
    assert result.exit_code == 0, result.output
    return pd.read_csv(out / "grades.csv").iloc[1:].set_index("file")


@pytest.fixture(scope="module")
def corpus_graded(built, tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    write_samples(built.student_notebook, SAMPLES, root / "corpus")
    return _grade(built, root / "corpus", root / "out"), root


def test_corpus_size():
    assert len(MISTAKES) >= 25
    assert len(CORRECT) >= 8
    assert all(sum(s.expected.values()) == 10 for s in CORRECT)
    assert all(sum(s.expected.values()) < 10 for s in MISTAKES)
    assert all(s.feedback for s in MISTAKES), "every mistake names a feedback fragment"


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.name)
def test_sample_earns_exactly_its_points_with_its_feedback(sample, corpus_graded):
    table, root = corpus_graded
    row = table.loc[f"corpus/{sample.name}.ipynb"]
    assert row["grading_status"] == "Completed"
    assert {q: row[q] for q in sample.expected} == sample.expected
    results = json.loads((root / "out" / "results" / results_file_name(f"corpus/{sample.name}.ipynb")).read_text())
    outputs = {t["name"]: t.get("output", "") for t in results["tests"]}
    for question, fragments in sample.feedback.items():
        for fragment in fragments:
            assert fragment in outputs[question], f"{sample.name}: {fragment!r} not in the feedback of {question}:\n{outputs[question]}"


PUBLIC = [s for s in SAMPLES if s.public_feedback]


@pytest.mark.parametrize("sample", PUBLIC, ids=lambda s: s.name)
def test_public_feedback_reaches_the_student_in_grader_check(sample, built, tmp_path):
    """Run the filled notebook as a student would, in a real kernel, beside gradkit_checks.py."""
    folder = tmp_path / "student"
    shutil.copytree(built.student_notebook.parent, folder)
    nb = fill_notebook(nbformat.read(built.student_notebook, as_version=4), sample)
    nb.cells = [c for c in nb.cells if "grader.export(" not in c.source]
    NotebookClient(nb, kernel_name="python3", timeout=300, allow_errors=True, resources={"metadata": {"path": str(folder)}}).execute()
    for question, fragments in sample.public_feedback.items():
        check_cells = [c for c in nb.cells if c.cell_type == "code" and c.source.strip() == f'grader.check("{question}")']
        assert len(check_cells) == 1
        shown = json.dumps(check_cells[0].outputs)
        for fragment in fragments:
            assert json.dumps(fragment)[1:-1] in shown, f"{sample.name}: {fragment!r} not shown by grader.check({question!r}):\n{shown[:3000]}"


def test_same_submission_graded_twice_gets_the_same_result(built, corpus_graded, tmp_path):
    table, root = corpus_graded
    again = tmp_path / "again"
    again.mkdir()
    names = ["c03-autograd-grad", "m26-linear-grads-accumulates", "m09-numpy-log", "m23-read-after-step"]
    for name in names:
        shutil.copy(root / "corpus" / f"{name}.ipynb", again / f"{name}.ipynb")
    second = _grade(built, again, tmp_path / "out")
    for name in names:
        first_row = table.loc[f"corpus/{name}.ipynb"]
        second_row = second.loc[f"again/{name}.ipynb"]
        assert first_row.drop("grading_status").equals(second_row.drop("grading_status"))
        first_json = json.loads((root / "out" / "results" / results_file_name(f"corpus/{name}.ipynb")).read_text())
        second_json = json.loads((tmp_path / "out" / "results" / results_file_name(f"again/{name}.ipynb")).read_text())
        assert first_json["tests"] == second_json["tests"]
