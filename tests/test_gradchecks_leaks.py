"""No student-side file holds an answer, a seed or a reference, and no hidden-test line
that Otter shows after publication prints one.

Uses the real build (``built`` fixture): the student folder holds exactly what students
get; the autograder zip holds the references.
"""

from __future__ import annotations

import re
import zipfile

import nbformat

# q1's answers (y1 = ln 2 + 8, dy/dx = 12.5) in the spellings a file could hold them
EXPECTED_VALUES = ["12.5", "8.693", "8.6931", "8.693147180559945", "1/x + 3x", "1 / x + 3 * x"]
REFERENCE_NAMES = ["linear_mse_reference", "gradkit_reference", "check_function_gradient", "check_sgd_step",
                   "seeded_points", "SUMMED_LOSS"]


def _seeds(master) -> list[str]:
    seeds = []
    for cell in master.cells:
        seeds += re.findall(r"\bseed\s*=\s*(\d+)", cell.source)
    return seeds


def _hidden_cells(master) -> list[str]:
    return [c.source for c in master.cells if c.cell_type == "code" and "hidden: true" in c.source]


def test_student_files_hold_no_answer_seed_or_reference(built, master):
    seeds = _seeds(master)
    assert len(seeds) == 3, seeds  # q1, q2 unseen points and q3's linear_grads layers
    files = sorted(p for p in built.student_notebook.parent.iterdir())
    assert [p.name for p in files] == ["autograd-basics.ipynb", "gradkit_checks.py"]
    for path in files:
        text = path.read_text(encoding="utf-8")
        for needle in EXPECTED_VALUES + REFERENCE_NAMES:
            assert needle not in text, f"{path.name} holds {needle!r}"
        for seed in seeds:
            assert not re.search(rf"(?<![\d.]){seed}(?![\d.])", text), f"{path.name} holds the seed {seed}"


def test_references_and_seeds_are_in_the_autograder_zip_only(built):
    with zipfile.ZipFile(built.autograder_zip) as archive:
        names = set(archive.namelist())
        assert "files/gradkit_reference.py" in names and "files/gradkit_checks.py" in names
        assert "linear_mse_reference" in archive.read("files/gradkit_reference.py").decode()


def test_hidden_test_lines_that_can_fail_print_no_seed_or_reference_value(master):
    """Otter shows the failing line of a hidden test after publication: every line that
    calls a check names variables only, never a seed, a point or a formula's value."""
    seeds = _seeds(master)
    hidden = _hidden_cells(master)
    assert len(hidden) == 7
    for cell in hidden:
        for line in cell.splitlines():
            if re.search(r"\bg[cr]\.\w+\(", line):
                for seed in seeds:
                    assert seed not in line, line
                assert "12.5" not in line and "log(" not in line and "** " not in line, line


def test_student_notebook_runs_the_record_cells(built):
    student = nbformat.read(built.student_notebook, as_version=4)
    records = [c.source for c in student.cells if "gradkit_checks.record(" in c.source]
    keys = [re.search(r'record\("(\w+)"', s).group(1) for s in records]
    assert keys == ["q1", "q2", "model3", "q3", "linear_grads"]
