"""The student side, for real: the built student notebook run in a kernel as a student runs it,
its export zip graded by ``gradkit grade``, and ``gradkit check`` on mistakes."""

from __future__ import annotations

import ast
import json
import shutil
import sys
import zipfile
from importlib.metadata import PackageNotFoundError, distribution, packages_distributions
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from click.testing import CliRunner
from nbclient import NotebookClient
from packaging.requirements import Requirement

from instructor.cli import main as cli
from instructor.samples import fill_notebook, load_sample
from student.check import check_notebook

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "corpus" / "autograd-basics"
GRADKIT_PACKAGES = {"autograder", "instructor", "student"}

_PROBE = """\
import json, shutil, sys
print("GRADKIT-PROBE " + json.dumps({
    "modules": sorted({name.split(".")[0] for name in sys.modules}),
    "latex": [tool for tool in ("xelatex", "pdflatex", "pandoc") if shutil.which(tool)],
}))
"""


def _student_folder(built, tmp_path: Path, sample) -> Path:
    """A copy of what students get (student notebook + gradkit_checks.py only), answers typed in."""
    folder = tmp_path / "student"
    folder.mkdir()
    shutil.copy(built.student_notebook.parent / "gradkit_checks.py", folder)
    filled = fill_notebook(nbformat.read(built.student_notebook, as_version=4), sample)
    nbformat.write(filled, folder / built.student_notebook.name)
    assert sorted(p.name for p in folder.iterdir()) == ["autograd-basics.ipynb", "gradkit_checks.py"]
    return folder


def _dependency_closure(*names: str) -> set[str]:
    """Distributions ``pip install NAMES`` brings in, following the extras that the
    requirements themselves ask for (nbconvert needs ``bleach[css]``); normalised names."""
    seen: set[tuple[str, str]] = set()
    found: set[str] = set()
    stack = [(name, "") for name in names]
    while stack:
        name, extra = stack.pop()
        key = name.lower().replace("_", "-").replace(".", "-")
        if (key, extra) in seen:
            continue
        seen.add((key, extra))
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue  # an optional dependency not installed here, so not imported either
        found.add(key)
        for line in dist.requires or []:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": extra}):
                stack.append((req.name, ""))
                stack.extend((req.name, e) for e in req.extras)
    return found


OPTIONAL_IMPORTS = {"tqdm": "torch/hub.py: `from tqdm import tqdm` if installed, else a fallback"}
"""Modules imported only because they happen to be installed here."""


@pytest.fixture(scope="module")
def student_run(built, tmp_path_factory):
    """The solution typed into the student notebook, run top to bottom in a real kernel in
    the student's folder, export cell included; then a probe cell reports the kernel's modules."""
    tmp = tmp_path_factory.mktemp("student-run")
    folder = _student_folder(built, tmp, load_sample(REPO / "assignments" / "autograd-basics" / "samples" / "solution.py"))
    nb = nbformat.read(folder / "autograd-basics.ipynb", as_version=4)
    assert any("grader.export(pdf=False, run_tests=True)" in c.source for c in nb.cells)
    nb.cells.append(nbformat.v4.new_code_cell(_PROBE))
    # the kernel gets a plain PATH (this virtualenv, /usr/bin, /bin): no TeX installation in reach
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp), "LANG": "C.UTF-8"}
    client = NotebookClient(nb, kernel_name="python3", timeout=600, allow_errors=False, resources={"metadata": {"path": str(folder)}})
    client.execute(env=env)
    probe = next(o for o in nb.cells[-1].outputs if o.get("name") == "stdout")["text"]
    return folder, nb, json.loads(probe.split("GRADKIT-PROBE ", 1)[1])


def test_solution_runs_in_the_student_folder_and_exports_a_zip_without_latex(student_run):
    folder, nb, probe = student_run
    assert probe["latex"] == [], "the kernel can reach TeX tools, so this run does not prove the export needs none"
    zips = list(folder.glob("autograd-basics_*.zip"))
    assert len(zips) == 1, sorted(p.name for p in folder.iterdir())
    with zipfile.ZipFile(zips[0]) as archive:
        names = archive.namelist()
    assert "autograd-basics.ipynb" in names and not any(n.endswith(".pdf") for n in names)
    export_cell = next(c for c in nb.cells if "grader.export(" in c.source)
    printed = "".join(o.get("text", "") for o in export_cell.outputs if o.get("output_type") == "stream")
    assert "Your submission received the following results" in printed
    for question in ("q1", "q2", "q3"):
        assert f"{question} results: All test cases passed!" in printed, printed


def test_student_kernel_needs_only_torch_and_otter_grader(student_run):
    """Nothing of gradkit is imported, and every imported module comes from the standard
    library, gradkit_checks.py, or what `pip install torch otter-grader` installs (plus
    ipykernel, the kernel any Jupyter front end runs)."""
    _, _, probe = student_run
    modules = set(probe["modules"])
    assert not modules & GRADKIT_PACKAGES, modules & GRADKIT_PACKAGES
    assert {"torch", "otter", "gradkit_checks"} <= modules
    allowed = _dependency_closure("torch", "otter-grader", "ipykernel")
    owners = packages_distributions()
    outside = {}
    for module in modules - set(sys.stdlib_module_names) - {"gradkit_checks", "__main__"} - set(OPTIONAL_IMPORTS):
        dists = {d.lower().replace("_", "-").replace(".", "-") for d in owners.get(module, [])}
        if dists and not dists & allowed:
            outside[module] = sorted(dists)
    assert not outside, f"modules from packages a student would not have: {outside}"


def test_exported_zip_earns_full_marks_with_gradkit_grade(built, student_run, tmp_path):
    folder, _, _ = student_run
    export = next(folder.glob("autograd-basics_*.zip"))
    out = tmp_path / "grading"
    result = CliRunner().invoke(cli, ["grade", "--autograder", str(built.autograder_zip), "--out", str(out), str(export)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "grades.csv")
    row = table.iloc[1:].reset_index(drop=True).iloc[0]
    assert row["grading_status"] == "Completed", row.to_dict()
    assert row["total_points_earned"] == 10
    assert {q: row[q] for q in ("q1", "q2", "q3")} == {"q1": 2, "q2": 3, "q3": 5}


def test_exported_zip_round_trips_through_a_canvas_download_and_import(built, student_run, samples_for_canvas, tmp_path):
    """The student's own export zip, renamed as Canvas's "Download Submissions" names it,
    graded with others, and imported into a 5-student Canvas gradebook export."""
    import csv

    folder, _, _ = student_run
    export = next(folder.glob("autograd-basics_*.zip"))
    download = tmp_path / "canvas-download"
    download.mkdir()
    shutil.copy(export, download / f"doejane_2001_7001_{export.name}")
    shutil.copy(samples_for_canvas / "q3-accumulated.ipynb", download / "roerichard_2002_7002_autograd-basics.ipynb")
    shutil.copy(samples_for_canvas / "solution.ipynb", download / "strangerx_9999_7003_autograd-basics.ipynb")
    out = tmp_path / "grading"
    result = CliRunner().invoke(cli, ["grade", "--autograder", str(built.autograder_zip), "--out", str(out), str(download)])
    assert result.exit_code == 0, result.output
    roster = tmp_path / "canvas-export.csv"
    roster.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,Autograd Basics (12345)\r\n"
        "    Points Possible,,,,,\r\n"
        '"Doe, Jane",2001,S1,jdoe,A,\r\n'
        '"Roe, Richard",2002,S2,rroe,A,\r\n'
        '"Poe, Edgar",2003,S3,epoe,B,\r\n'
        '"Loe, Ann",2004,S4,aloe,B,\r\n'
        '"Moe, Sam",2005,S5,smoe,B,\r\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["export", "canvas", "--gradebook", str(roster), "--column", "Autograd Basics (12345)", str(out)])
    assert result.exit_code == 0, result.output
    with open(out / "canvas-import.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert [r[:5] for r in rows] == [r[:5] for r in csv.reader(roster.read_text(encoding="utf-8").splitlines())]
    scores = {r[1]: r[5] for r in rows[2:]}
    assert scores == {"2001": "10", "2002": "8.5", "2003": "", "2004": "", "2005": ""}
    assert rows[1][5] == "10"
    assert "strangerx_9999" in result.output  # a submission that matches nobody is reported
    assert "Poe, Edgar" in result.output      # a roster row without a submission is reported


@pytest.fixture(scope="module")
def samples_for_canvas(built, tmp_path_factory):
    from instructor.samples import load_samples, write_samples

    folder = tmp_path_factory.mktemp("canvas-samples")
    write_samples(built.student_notebook, load_samples(REPO / "assignments" / "autograd-basics" / "samples"), folder)
    return folder


def test_gradkit_check_prints_the_public_message(built, tmp_path):
    sample = load_sample(CORPUS / "m04-double-non-leaf-q1.py")
    assert sample.public_feedback == {"q1": ["`x1` is not a leaf tensor"]}
    folder = _student_folder(built, tmp_path, sample)
    result = CliRunner().invoke(cli, ["check", str(folder / "autograd-basics.ipynb"), "-q", "q1", "-q", "q2"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "q1: FAILED" in out and "`x1` is not a leaf tensor" in out
    assert "q2: passed" in out and "q3:" not in out
    assert "1 of 2 questions pass their public tests" in out
    assert not list(folder.glob("*.zip")), "gradkit check must not export a submission"


def test_check_runs_public_tests_only(built, tmp_path):
    """q3-accumulated fails only a hidden q3 test: the student's check passes q3 and never shows
    the hidden message (it is not in the student notebook at all)."""
    sample = load_sample(REPO / "assignments" / "autograd-basics" / "samples" / "q3-accumulated.py")
    folder = _student_folder(built, tmp_path, sample)
    report = check_notebook(folder / "autograd-basics.ipynb")
    assert report.failure is None and report.cell_errors == []
    assert [q.name for q in report.questions] == ["q1", "q2", "q3"]
    assert report.all_passed
    assert all(q.possible > 0 and q.score == q.possible for q in report.questions)
    assert not any("times too large" in q.output for q in report.questions)
    assert "times too large" not in json.dumps(nbformat.read(folder / "autograd-basics.ipynb", as_version=4).metadata)


def test_check_usage_errors_exit_2(tmp_path):
    plain = tmp_path / "plain.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), plain)
    result = CliRunner().invoke(cli, ["check", str(plain)])
    assert result.exit_code == 2 and "no Otter tests in the notebook's metadata" in result.output
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": [', encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", str(broken)])
    assert result.exit_code == 2 and "not a readable Jupyter notebook" in result.output
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "missing.ipynb")])
    assert result.exit_code == 2


def test_check_rejects_an_unknown_question(built):
    result = CliRunner().invoke(cli, ["check", str(built.student_notebook), "-q", "q9"])
    assert result.exit_code == 2 and "no tests for q9" in result.output and "q1, q2, q3" in result.output


def test_student_package_imports_no_instructor_code():
    for path in (REPO / "student").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
        assert "instructor" not in imported, path
        assert not (imported & GRADKIT_PACKAGES) - {"autograder"}, path
