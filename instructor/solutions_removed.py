"""Did Otter Assign take the solutions out of the student notebook?

Otter Assign removes only what sits between ``# BEGIN SOLUTION`` / ``# END SOLUTION`` (raw
cells around whole cells, comments inside a cell) or ends in ``# SOLUTION``. An answer
cell written without those markers goes to students unchanged: Otter gives no warning, and
the build's verification only says that the blank notebook earns points (and
``--no-verify`` skips even that). This module finds such questions by comparing, question
by question, the student notebook with the solution notebook Otter wrote beside the zip.
Otter has no such check (its ``otter assign`` builds the notebook silently), hence our own.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

__all__ = ["questions_with_solution_left_in"]

_CHECK = re.compile(r"""^\s*grader\.check\(\s*["']([^"']+)["']\s*\)\s*$""")


def _segments(nb: nbformat.NotebookNode) -> dict[str, list[tuple[int, str, str]]]:
    """question -> the cells from after the previous ``grader.check`` cell up to its own
    (cell number from 1, cell type, source), for each question with a check cell."""
    out, current = {}, []
    for number, cell in enumerate(nb.cells, start=1):
        match = _CHECK.match(cell.source) if cell.cell_type == "code" else None
        if match:
            out.setdefault(match.group(1), current)
            current = []
        else:
            current.append((number, cell.cell_type, cell.source))
    return out


def questions_with_solution_left_in(student_notebook: Path, solution_notebook: Path,
                                    questions: list[str]) -> dict[str, list[int]]:
    """Autograded questions whose cells in the student notebook are exactly the solution's.

    Args:
        student_notebook: the student notebook Otter Assign wrote (``student/<name>.ipynb``).
        solution_notebook: the solution notebook it wrote (``autograder/<name>.ipynb``).
        questions: the autograded question names (those with test files).

    Returns:
        dict[str, list[int]]: question -> the numbers (from 1, every cell counted, as
        Jupyter shows them) of its student code cells that hold the solution, for every
        question with at least one code cell where Otter removed nothing; {} when all is
        well. A question's cells are those after the previous ``grader.check`` cell up to
        its own; a question without a check cell in both notebooks is not judged.
    """
    student = _segments(nbformat.read(student_notebook, as_version=4))
    solution = _segments(nbformat.read(solution_notebook, as_version=4))
    left = {}
    for q in questions:
        if q not in student or q not in solution:
            continue
        mine, theirs = student[q], solution[q]
        code = [number for number, kind, source in mine if kind == "code" and source.strip()]
        if code and [(k, s) for _, k, s in mine] == [(k, s) for _, k, s in theirs]:
            left[q] = code
    return left
