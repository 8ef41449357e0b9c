"""``gradkit build``: turn a master notebook into a student version and an autograder zip.

Runs Otter Assign on a staged copy of the assignment folder (with the check library
added as ``gradkit_checks.py``), lays the output out at stable paths, then proves the
result: the solution notebook must earn every point and the blank student notebook none.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from autograder import gradchecks
from autograder.autograder_zip import question_points
from autograder.engines import DEFAULT_ENGINE, get_engine
from autograder.submissions import Submission

__all__ = ["BuildError", "BuiltAssignment", "build_assignment", "find_master_notebook"]

CHECKS_MODULE = "gradkit_checks.py"
"""File name under which the check library ships to students and into the zip."""

_STAGING_IGNORE = shutil.ignore_patterns("dist", ".ipynb_checkpoints", "__pycache__", ".*")


class BuildError(Exception):
    """The assignment cannot be built; the message names the file and what is wrong."""


@dataclass(frozen=True)
class BuiltAssignment:
    """Where ``gradkit build`` put one assignment.

    Attributes:
        name: the assignment's name (its folder name).
        student_notebook: ``<out>/<name>/student/<name>.ipynb``.
        solution_notebook: ``<out>/<name>/autograder/<name>.ipynb``.
        autograder_zip: ``<out>/<name>/autograder/<name>-autograder.zip``.
        points: question name -> points possible.
    """

    name: str
    student_notebook: Path
    solution_notebook: Path
    autograder_zip: Path
    points: dict[str, float]


def find_master_notebook(assignment_dir: Path) -> Path:
    """The master notebook of an assignment folder: ``<dir>/<dir name>.ipynb``.

    Raises:
        BuildError: the folder does not exist or has no such notebook.
    """
    assignment_dir = Path(assignment_dir)
    if not assignment_dir.is_dir():
        raise BuildError(f"{assignment_dir}: not an assignment folder")
    master = assignment_dir / f"{assignment_dir.name}.ipynb"
    if not master.is_file():
        found = sorted(p.name for p in assignment_dir.glob("*.ipynb"))
        raise BuildError(
            f"{assignment_dir}: expected the master notebook {master.name}"
            + (f" (found {', '.join(found)})" if found else " (no notebook found)")
        )
    return master


def build_assignment(assignment_dir: Path, out_dir: Path, *, verify: bool = True, timeout: float = 600) -> BuiltAssignment:
    """Build one assignment into ``out_dir/<name>/`` and verify it.

    Args:
        assignment_dir: folder holding the master notebook ``<name>.ipynb`` (Otter Assign
            format) and any support files it lists.
        out_dir: output root (``dist/``); ``out_dir/<name>`` is replaced.
        verify: grade the solution (must earn every point) and the blank student notebook
            (must earn none) with the built zip.
        timeout: seconds allowed for each verification run.

    Returns:
        BuiltAssignment: the output paths and points.

    Raises:
        BuildError: no master notebook, Otter Assign failed, or verification failed.
    """
    assignment_dir = Path(assignment_dir).resolve()
    master = find_master_notebook(assignment_dir)
    name = assignment_dir.name
    target = Path(out_dir).resolve() / name
    with tempfile.TemporaryDirectory(prefix="gradkit-build-") as tmp:
        stage = Path(tmp, name)
        shutil.copytree(assignment_dir, stage, ignore=_STAGING_IGNORE)
        shutil.copyfile(gradchecks.__file__, stage / CHECKS_MODULE)
        result = Path(tmp, "otter-output")
        _run_otter_assign(stage / master.name, result)
        zips = sorted((result / "autograder").glob("*.zip"))
        if len(zips) != 1:
            raise BuildError(f"{master}: Otter Assign wrote {len(zips)} autograder zips, expected 1")
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(result / "student", target / "student")
        shutil.copytree(result / "autograder", target / "autograder", ignore=shutil.ignore_patterns("*.zip"))
        zip_path = target / "autograder" / f"{name}-autograder.zip"
        shutil.copyfile(zips[0], zip_path)
    built = BuiltAssignment(
        name=name,
        student_notebook=target / "student" / master.name,
        solution_notebook=target / "autograder" / master.name,
        autograder_zip=zip_path,
        points=question_points(zip_path),
    )
    if verify:
        _verify(built, master, timeout=timeout)
    return built


def _run_otter_assign(master: Path, result: Path) -> None:
    from otter.assign import main as otter_assign

    log = io.StringIO()
    try:
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            otter_assign(str(master), str(result), no_pdfs=True, no_run_tests=True)
    except Exception as error:  # Otter Assign raises many types for a malformed notebook
        raise BuildError(f"{master.name}: Otter Assign failed: {type(error).__name__}: {error}") from error


def _verify(built: BuiltAssignment, master: Path, *, timeout: float) -> None:
    engine = get_engine(DEFAULT_ENGINE)
    possible = sum(built.points.values())
    solution = engine.grade(Submission(built.solution_notebook, "solution"), built.autograder_zip, timeout=timeout)
    if solution.total != possible:
        lost = {q: f"{solution.scores.get(q, 0):g}/{p:g}" for q, p in built.points.items() if solution.scores.get(q, 0) != p}
        raise BuildError(
            f"{master}: the solution does not pass every test ({solution.total:g}/{possible:g} points; "
            f"status: {solution.status}; questions short of full marks: {lost}). "
            f"Failing output:\n{_failing_output(solution.results)}"
        )
    blank = engine.grade(Submission(built.student_notebook, "student"), built.autograder_zip, timeout=timeout)
    if blank.status != "Completed" or blank.total != 0:
        earned = {q: s for q, s in blank.scores.items() if s}
        raise BuildError(
            f"{master}: the blank student notebook earns points ({blank.total:g}/{possible:g}; {earned}; "
            f"status: {blank.status}); make every test fail on the template's `...` placeholders"
        )


def _failing_output(results: dict) -> str:
    return "\n".join(t.get("output", "") for t in results.get("tests", []) if t.get("score", 0) != t.get("max_score", 0))[:4000]
