"""Extension point: add a check to the check library (README, "Add a check to the check library").

Done as the README says, on a copy of gradkit's code: the check goes into
``autograder/shipped/gradkit_checks.py`` (and its ``__all__``); nothing else changes. A tiny
master notebook under ``tests/add_a_check/`` whose public test calls the new check is then
built by that copy (Otter Assign, and the build's own verification: the solution earns every
point, the blank student notebook none) and its samples are graded with the ``fork`` engine.
The new check ships to students and into the zip by itself, and its message is the feedback
of the sample that makes the mistake it names. The unit-test guard of the library
(``tests/test_check_library.py``) sees the new public name and asks for its unit test.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder import shipped

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT = Path(__file__).resolve().parent / "add_a_check" / "detach-for-logging"

NEW_CHECK = '''

def check_detached(snap: dict, name: str) -> None:
    """Check a value kept for logging or plotting: a tensor (or number) outside the autograd graph.

    Args:
        snap: the recorded snapshot of the student's value.
        name: its variable name.

    Raises:
        CheckFailed: missing, not a tensor or number, or still in the graph (``grad_fn`` or
            ``requires_grad``).
    """
    require_tensor(snap, name, allow_number=True)
    if snap["kind"] == "tensor" and (snap["grad_fn"] is not None or snap["requires_grad"]):
        raise CheckFailed(
            f"`{name}` is still part of the autograd graph (it is {snap['describe']}): keeping it keeps "
            "the whole graph alive. Store a copy outside the graph: .detach() (or .item() for a number)."
        )
'''
"""The check added, as a developer would write it: the library's own helpers and message style."""


def add_check(library: Path) -> None:
    """Add :data:`NEW_CHECK` to a copy of ``gradkit_checks.py``: the function at the end, its name in ``__all__``."""
    text = library.read_text(encoding="utf-8")
    assert text.count('    "check_callable",\n') == 1
    text = text.replace('    "check_callable",\n', '    "check_callable",\n    "check_detached",\n')
    library.write_text(text + NEW_CHECK, encoding="utf-8")


_BUILD_AND_GRADE = """
import json, sys
from pathlib import Path
import autograder
from instructor.batch import grade_batch
from instructor.build import build_assignment
from instructor.samples import load_samples, write_samples

assignment, out = Path(sys.argv[1]), Path(sys.argv[2])
built = build_assignment(assignment, out / "dist")  # verify=True: the solution earns every point, the blank none
samples = load_samples(assignment / "samples")
paths = write_samples(built.student_notebook, samples, out / "submissions")
table = grade_batch(autograder_zip=built.autograder_zip, submissions=paths, out_dir=out / "grading", progress=False).table
print(json.dumps({"package": autograder.__file__, "student": str(built.student_notebook), "zip": str(built.autograder_zip),
                  "points": built.points, "rows": table.iloc[1:].to_dict(orient="records"),
                  "samples": {s.name: {"expected": s.expected, "feedback": s.feedback} for s in samples}}))
"""


@pytest.fixture(scope="module")
def code_copy(tmp_path_factory) -> Path:
    """gradkit's packages copied, with the new check added to the copy's check library."""
    root = tmp_path_factory.mktemp("gradkit-copy")
    for package in ("autograder", "instructor", "student"):
        shutil.copytree(REPO / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))
    add_check(root / "autograder" / "shipped" / shipped.file_name(shipped.CHECKS))
    return root


def test_the_added_check_is_a_public_name_the_unit_test_guard_asks_a_test_for(code_copy):
    from tests.test_check_library import COVERED, _public

    spec = importlib.util.spec_from_file_location("copied_gradkit_checks", code_copy / "autograder" / "shipped" / "gradkit_checks.py")
    library = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(library)
    assert "check_detached" in library.__all__
    assert {f"gc.{n}" for n in _public(library)} - COVERED == {"gc.check_detached"}


@pytest.mark.slow
def test_a_check_added_to_the_library_ships_and_grades_end_to_end(code_copy, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(code_copy))  # the copy, not the installed gradkit
    done = subprocess.run([sys.executable, "-c", _BUILD_AND_GRADE, str(ASSIGNMENT), str(tmp_path)], cwd=code_copy, env=env,
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(report["package"]).is_relative_to(code_copy)
    assert report["points"] == {"q1": 2.0}
    # shipped by itself: to students beside the notebook, and into the zip's files/
    student_files = sorted(p.name for p in Path(report["student"]).parent.iterdir())
    assert student_files == ["detach-for-logging.ipynb", "gradkit_checks.py"]
    assert "def check_detached(" in (Path(report["student"]).parent / "gradkit_checks.py").read_text(encoding="utf-8")
    with zipfile.ZipFile(report["zip"]) as archive:
        assert "def check_detached(" in archive.read("files/gradkit_checks.py").decode("utf-8")
        assert "files/gradkit_reference.py" in archive.namelist()
    # graded: each sample earns exactly its points, and the new check's message is the feedback
    rows = {row["file"]: row for row in report["rows"]}
    assert sorted(rows) == ["kept-in-graph.ipynb", "solution.ipynb"]
    for name, sample in report["samples"].items():
        row = rows[f"{name}.ipynb"]
        assert row["grading_status"] == "Completed", row
        assert {q: row[q] for q in sample["expected"]} == sample["expected"], name
    from instructor.batch import results_file_name

    results = json.loads((tmp_path / "grading" / "results" / results_file_name("kept-in-graph.ipynb")).read_text(encoding="utf-8"))
    output = next(t["output"] for t in results["tests"] if t.get("name") == "q1")
    for fragment in report["samples"]["kept-in-graph"]["feedback"]["q1"]:
        assert fragment in output
    assert ("`loss_value` is still part of the autograd graph (it is a float32 tensor of shape () with "
            "grad_fn=PowBackward0, value 5.0625): keeping it keeps the whole graph alive.") in output
