"""gradkit build: Otter Assign output at stable paths, with nothing secret in the student version."""

from __future__ import annotations

import json
import re
import shutil
import zipfile

import nbformat
import psutil
import pytest
from click.testing import CliRunner

from autograder.autograder_zip import question_points
from autograder.engines import engine_here, get_engine, sandbox
from instructor.build import BuildError, build_assignment
from instructor.cli import main as cli
from instructor.gradebook import Gradebook

from .conftest import ASSIGNMENT

SOLUTION_SUFFIX = re.compile(r"\s*#\s*SOLUTION\s*$")


def _solution_lines(master) -> list[str]:
    """Code lines that Otter Assign must strip: `# SOLUTION` lines and BEGIN/END SOLUTION blocks."""
    lines, inside = [], False
    for cell in master.cells:
        if cell.cell_type != "code":
            continue
        for line in cell.source.splitlines():
            if line.strip().startswith("# BEGIN SOLUTION"):
                inside = True
            elif line.strip().startswith("# END SOLUTION"):
                inside = False
            elif inside or SOLUTION_SUFFIX.search(line):
                code = SOLUTION_SUFFIX.sub("", line).strip()
                if code:
                    lines.append(code)
    return lines


def _hidden_test_cells(master) -> list[str]:
    return [c.source for c in master.cells if c.cell_type == "code" and re.search(r"^hidden:\s*true", c.source, re.M)]


def test_layout_and_points(built):
    student_text = "\n".join(c.source for c in nbformat.read(built.student_notebook, as_version=4).cells)
    solution_text = "\n".join(c.source for c in nbformat.read(built.solution_notebook, as_version=4).cells)
    assert 'grader.check("q3")' in student_text and "return torch.log(x) + x ** 3" not in student_text
    assert "return torch.log(x) + x ** 3" in solution_text
    assert built.autograder_zip.name == "autograd-basics-autograder.zip"
    with zipfile.ZipFile(built.autograder_zip) as z:  # the students' check library is the zip's
        assert (built.student_notebook.parent / "gradkit_checks.py").read_bytes() == z.read("files/gradkit_checks.py")
    assert built.points == {"q1": 2.0, "q2": 3.0, "q3": 5.0}
    with zipfile.ZipFile(built.autograder_zip) as z:
        names = set(z.namelist())
    assert {"run_autograder", "setup.sh", "files/gradkit_checks.py", "tests/q1.py", "tests/q2.py", "tests/q3.py"} <= names


def test_student_notebook_is_valid_and_holds_no_solution(built, master):
    student = nbformat.read(built.student_notebook, as_version=4)
    nbformat.validate(student)
    text = json.dumps(student)
    code = "\n".join(  # code cells without comment lines (comments restate the prompt)
        line for c in student.cells if c.cell_type == "code"
        for line in c.source.splitlines() if not line.strip().startswith("#")
    )
    sources = "\n".join(c.source for c in student.cells)
    solution = _solution_lines(master)
    assert len(solution) >= 20, "the master notebook's solutions were not found"
    leaked = [line for line in solution if line in code]
    assert not leaked, f"solution code in the student notebook: {leaked}"
    assert "SOLUTION" not in text
    # every answer name of the brief is still asked for
    for name in ["f1", "x1", "y1", "grad1", "f2", "x2", "y2", "z2", "w2", "grad_x2", "grad_y2", "grad_z2",
                 "model3", "loss_fn3", "loss3", "weight_grad3", "bias_grad3", "optimizer3", "linear_grads"]:
        assert re.search(rf"\b{name}\b", sources), name


def test_student_notebook_holds_no_hidden_test(built, master):
    student_text = json.dumps(nbformat.read(built.student_notebook, as_version=4))
    hidden = _hidden_test_cells(master)
    assert len(hidden) == 7
    for cell in hidden:
        name = re.search(r"def (test_\w+)", cell).group(1)
        assert name not in student_text
        for line in cell.splitlines():
            line = line.strip()
            if line.startswith(("ref_", "reference", "derivative", "gc.check_function", "gc.check_sgd", "gc.check_linear_grads")):
                assert line not in student_text, line
    # public tests are there, for grader.check
    assert "test_q1_public" in student_text and "test_q3_public" in student_text


def test_export_cell_has_pdfs_off_and_check_all_is_on(built):
    sources = [c.source for c in nbformat.read(built.student_notebook, as_version=4).cells]
    export = [s for s in sources if "grader.export(" in s]
    assert export and "pdf=False" in export[0]
    assert any("grader.check_all()" in s for s in sources)


def _copy_assignment(tmp_path, name):
    """The bundled assignment folder (support files included) under a new name."""
    folder = tmp_path / name
    shutil.copytree(ASSIGNMENT, folder, ignore=shutil.ignore_patterns("samples", "*.ipynb"))
    return folder


@pytest.mark.slow  # the build verifies with the fork engine
def test_build_fails_clearly_when_solution_fails_a_test(tmp_path, master):
    folder = _copy_assignment(tmp_path, "broken")
    nb = nbformat.from_dict(json.loads(json.dumps(master)))
    for cell in nb.cells:  # a wrong solution for q1
        cell.source = cell.source.replace("return torch.log(x) + x ** 3  # SOLUTION", "return torch.log(x) + x ** 2  # SOLUTION")
    nbformat.write(nb, folder / "broken.ipynb")
    with pytest.raises(BuildError, match=r"solution does not pass every test.*q1"):
        build_assignment(folder, tmp_path / "dist")


@pytest.mark.slow  # the build verifies with the fork engine
def test_build_fails_clearly_when_blank_notebook_earns_points(tmp_path, master):
    folder = _copy_assignment(tmp_path, "lenient")
    nb = nbformat.from_dict(json.loads(json.dumps(master)))
    for cell in nb.cells:  # a public test that passes whatever the student writes
        if "def test_q1_public" in cell.source:
            cell.source = cell.source.split("def test_q1_public")[0] + "def test_q1_public(x1):\n    assert True\n"
    nbformat.write(nb, folder / "lenient.ipynb")
    with pytest.raises(BuildError, match="blank student notebook earns points"):
        build_assignment(folder, tmp_path / "dist")


def test_build_names_a_folder_without_master(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(BuildError, match="empty.ipynb"):
        build_assignment(tmp_path / "empty", tmp_path / "dist")


def test_question_points_from_otters_test_files(built):
    """Points possible come from otter's own test file objects (autograder.otter_tests)."""
    from autograder.otter_tests import load_test_file, read_zip_tests

    assert question_points(built.autograder_zip) == {"q1": 2.0, "q2": 3.0, "q3": 5.0}
    with zipfile.ZipFile(built.autograder_zip) as archive:
        path, source = next(t for t in read_zip_tests(archive) if t[0] == "./tests/q1.py")
    q1 = load_test_file(source, path)
    assert [(c.name, c.points, c.hidden) for c in q1.test_cases] == [
        ("q1 - 1", 0.5, False), ("q1 - 2", 0.5, True), ("q1 - 3", 1, True)]


def test_zip_lists_the_files_students_get(built):
    """`files:` (handed out) are listed for the screen's exemption; `autograder_files:` (the
    hidden tests' reference module) are not, so reading them stays a finding."""
    from autograder.shipped_files import shipped_files

    with zipfile.ZipFile(built.autograder_zip) as z:
        assert "files/gradkit_reference.py" in z.namelist()
    assert shipped_files(built.autograder_zip) == {"gradkit_checks.py"}


def test_build_refuses_a_solution_left_in_the_student_notebook(tmp_path, master):
    """An answer cell without BEGIN/END SOLUTION raw cells goes to students unchanged under
    Otter Assign: the build names the question and its cell, verified or not, and leaves
    no student notebook behind."""
    folder = _copy_assignment(tmp_path, "leaky")
    nb = nbformat.from_dict(json.loads(json.dumps(master)))
    cells = nb.cells
    for index, cell in enumerate(cells):  # q2's answer cell, without its solution raw cells
        if cell.cell_type == "code" and "def f2(" in cell.source:
            assert cells[index - 1].source.strip() == "# BEGIN SOLUTION" and cells[index + 1].source.strip() == "# END SOLUTION"
            cell.source = "\n".join(line.replace("  # SOLUTION", "") for line in cell.source.splitlines())
            del cells[index + 1], cells[index - 1]
            break
    else:
        raise AssertionError("no q2 answer cell in the master notebook")
    nbformat.write(nb, folder / "leaky.ipynb")
    for verify in (False, True):
        with pytest.raises(BuildError, match=r"student notebook would hold the solution \(q2: cells? 1[0-9]"):
            build_assignment(folder, tmp_path / "dist", verify=verify)
        assert not (tmp_path / "dist" / "leaky" / "student").exists()


# ---------------------------------------------------------------- the verification's engine


def _zygotes() -> set[int]:
    """The fork engine's zygotes that are descendants of this test process."""
    found = set()
    for p in psutil.Process().children(recursive=True):
        try:
            if any("autograder.engines.fork.zygote" in part for part in p.cmdline()):
                found.add(p.pid)
        except psutil.Error:
            continue
    return found


@pytest.fixture
def no_landlock(monkeypatch):
    """This system as one without Linux Landlock: the probe the fork engine asks says ABI 0."""
    monkeypatch.setattr(sandbox, "landlock_abi", lambda: 0)
    with pytest.raises(ValueError, match="Landlock"):
        get_engine("fork")
    assert engine_here()[0] == "otter"


@pytest.mark.slow
def test_verification_stops_the_zygote_it_started(tmp_path):
    assert engine_here() == ("fork", None)  # verified with the fork engine, which starts a zygote
    before = _zygotes()
    built = build_assignment(ASSIGNMENT, tmp_path / "dist")
    assert built.verification_note is None
    assert _zygotes() - before == set()


@pytest.mark.slow
def test_build_verifies_with_the_otter_engine_where_landlock_is_missing(tmp_path, no_landlock):
    before = _zygotes()
    result = CliRunner().invoke(cli, ["build", str(ASSIGNMENT), "--out", str(tmp_path / "dist")])
    assert result.exit_code == 0, result.output
    assert result.exception is None
    assert "autograd-basics: 10 points" in result.output
    assert ("note: the fork engine sandboxes student code with Linux Landlock (kernel 5.13+), which this system does not "
            "provide: using the otter engine instead") in result.output
    assert _zygotes() - before == set()


@pytest.mark.slow
def test_build_verification_with_the_otter_engine_still_refuses_a_failing_solution(tmp_path, master, no_landlock):
    folder = _copy_assignment(tmp_path, "broken")
    nb = nbformat.from_dict(json.loads(json.dumps(master)))
    for cell in nb.cells:
        cell.source = cell.source.replace("return torch.log(x) + x ** 3  # SOLUTION", "return torch.log(x) + x ** 2  # SOLUTION")
    nbformat.write(nb, folder / "broken.ipynb")
    result = CliRunner().invoke(cli, ["build", str(folder), "--out", str(tmp_path / "dist")])
    assert result.exit_code == 1 and result.exception is not None and isinstance(result.exception, SystemExit)
    assert "solution does not pass every test" in result.output


@pytest.mark.slow
def test_demo_grades_with_the_otter_engine_where_landlock_is_missing(tmp_path, no_landlock):
    folder = tmp_path / "autograd-basics"
    shutil.copytree(ASSIGNMENT, folder, ignore=shutil.ignore_patterns("samples"))
    (folder / "samples").mkdir()
    shutil.copy(ASSIGNMENT / "samples" / "solution.py", folder / "samples")
    result = CliRunner().invoke(cli, ["demo", str(folder), "--out", str(tmp_path / "out"), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert result.exception is None
    assert "note: the fork engine sandboxes student code with Linux Landlock" in result.output
    assert "all 1 samples earned exactly their expected points" in result.output
    with Gradebook(tmp_path / "out" / "autograd-basics" / "grading") as book:
        assert [row.engine for row in book.rows()] == ["otter"]
