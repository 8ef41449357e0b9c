"""Sample submissions written as answer fills for the student notebook.

A sample file (``*.py``) holds only what a student would type, so a sample follows the
student notebook whenever the template changes::

    # sample: q1 uses math.log, which cuts the autograd graph
    # expect: q1=0.5 q2=3 q3=5
    # feedback: q1: leaves the autograd graph

    # %% f1
    import math
    def f1(x):
        return math.log(x) + x ** 3
    ...

* ``# %% NAME`` replaces the answer cell (tagged ``otter_answer_cell`` by Otter Assign)
  whose template defines ``NAME`` (``NAME = ...`` or ``def NAME``);
* ``# %% after NAME`` inserts an extra code cell after that answer cell (and after any
  cell inserted there before), as a student who splits an answer over several cells;
* answer cells no section names keep the template's ``...``;
* ``# base: PATH`` (relative to the sample file) starts from another sample's sections:
  a section of this file replaces the base's section of the same name, so a mistake is
  written as the one cell that differs from the solution;
* ``# expect:`` gives the exact points per question, ``# feedback:`` (repeatable) a
  fragment the grader's feedback for that question must contain, and
  ``# public-feedback:`` one that the student's own ``grader.check`` must print too;
* anti-cheat samples also say whether the static screen (:mod:`autograder.screen`) must
  flag them, ``# flagged: yes`` or ``# flagged: no``, and ``# honest: q1=.. q2=..`` the
  points their honest answers earn (the same file without the cheating code); a flagged
  sample's ``# expect:`` is then 0 for every question (it counts 0 until reviewed).
"""

from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

__all__ = ["ANSWER_CELL_TAG", "Sample", "SampleError", "fill_notebook", "load_sample", "load_samples", "write_samples"]

ANSWER_CELL_TAG = "otter_answer_cell"
"""Tag Otter Assign puts on every answer cell of the student notebook."""

_SECTION = re.compile(r"^# %% (after )?([A-Za-z_][A-Za-z0-9_]*)\s*$")


class SampleError(Exception):
    """A sample file is malformed or does not fit the student notebook; names the file."""


@dataclass
class Sample:
    """One sample submission.

    Attributes:
        name: the file's stem (``solution``, ``q1-math-log``...).
        description: the ``# sample:`` line.
        expected: question -> exact points it must earn (points).
        feedback: question -> fragments its feedback must contain.
        public_feedback: question -> fragments ``grader.check`` must print (a public test's).
        fills: (mode, answer name, code) in file order; mode is ``"replace"`` or ``"after"``.
        path: the file it was read from.
        flagged: the ``# flagged:`` line (True for ``yes``, False for ``no``), None without one.
        honest: question -> points the honest answers earn (``# honest:``); {} without one.
    """

    name: str
    description: str
    expected: dict[str, float]
    feedback: dict[str, list[str]] = field(default_factory=dict)
    public_feedback: dict[str, list[str]] = field(default_factory=dict)
    fills: list[tuple[str, str, str]] = field(default_factory=list)
    path: Path | None = None
    flagged: bool | None = None
    honest: dict[str, float] = field(default_factory=dict)


def _points(path: Path, lineno: int, line: str) -> dict[str, float]:
    """``q1=2 q2=0.5`` after the header's colon, as question -> points."""
    points = {}
    for item in line.split(":", 1)[1].split():
        question, _, value = item.partition("=")
        try:
            points[question] = float(value)
        except ValueError:
            raise SampleError(f"{path}:{lineno}: bad expectation {item!r}; write q1=2") from None
    return points


def load_sample(path: Path) -> Sample:
    """Parse one sample file (format in the module docstring).

    Raises:
        SampleError: no ``# expect:`` line, a malformed header or section line.
    """
    path = Path(path)
    sample = Sample(name=path.stem, description="", expected={}, path=path)
    section: tuple[str, str] | None = None
    body: list[str] = []
    base: Path | None = None

    def flush() -> None:
        if section is not None:
            sample.fills.append((section[0], section[1], "\n".join(body).strip("\n")))

    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("# %%"):
            match = _SECTION.match(line)
            if not match:
                raise SampleError(f"{path}:{lineno}: expected '# %% NAME' or '# %% after NAME', got {line!r}")
            flush()
            section, body = ("after" if match.group(1) else "replace", match.group(2)), []
        elif section is not None:
            body.append(line)
        elif line.startswith("# base:"):
            base = (path.parent / line.split(":", 1)[1].strip()).resolve()
            if not base.is_file():
                raise SampleError(f"{path}:{lineno}: base sample {base} does not exist")
        elif line.startswith("# sample:"):
            sample.description = line.split(":", 1)[1].strip()
        elif line.startswith("# expect:"):
            sample.expected.update(_points(path, lineno, line))
        elif line.startswith("# honest:"):
            sample.honest.update(_points(path, lineno, line))
        elif line.startswith("# flagged:"):
            answer = line.split(":", 1)[1].strip().lower()
            if answer not in ("yes", "no"):
                raise SampleError(f"{path}:{lineno}: write '# flagged: yes' or '# flagged: no', got {line!r}")
            sample.flagged = answer == "yes"
        elif line.startswith(("# feedback:", "# public-feedback:")):
            key, rest = line[2:].split(":", 1)
            question, _, fragment = rest.strip().partition(":")
            if not fragment.strip():
                raise SampleError(f"{path}:{lineno}: write '# {key}: q1: text the feedback contains'")
            sample.feedback.setdefault(question.strip(), []).append(fragment.strip())
            if key == "public-feedback":
                sample.public_feedback.setdefault(question.strip(), []).append(fragment.strip())
    flush()
    if not sample.expected:
        raise SampleError(f"{path}: no '# expect: q1=... q2=...' line")
    if base is not None:
        own = {(mode, name): code for mode, name, code in sample.fills if mode == "replace"}
        merged = [(mode, name, own.pop((mode, name), code)) for mode, name, code in load_sample(base).fills]
        sample.fills = merged + [f for f in sample.fills if f[0] != "replace" or (f[0], f[1]) in own]
    return sample


def load_samples(folder: Path) -> list[Sample]:
    """All ``*.py`` sample files of ``folder``, sorted by name."""
    return [load_sample(p) for p in sorted(Path(folder).glob("*.py"))]


def _defined_names(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def fill_notebook(student: nbformat.NotebookNode, sample: Sample) -> nbformat.NotebookNode:
    """A copy of the student notebook with the sample's answers typed in.

    Args:
        student: the student notebook from ``gradkit build``.
        sample: the answers.

    Returns:
        nbformat.NotebookNode: the filled notebook (outputs empty, as a fresh submission
        would be before the grader runs it).

    Raises:
        SampleError: a section names something no answer cell defines.
    """
    nb = copy.deepcopy(student)
    answer_cells = [c for c in nb.cells if ANSWER_CELL_TAG in c.metadata.get("tags", [])]
    owner = {}
    for cell in answer_cells:
        for name in _defined_names(cell.source):
            owner.setdefault(name, cell)
    inserted: dict[int, int] = {}
    for mode, name, code in sample.fills:
        cell = owner.get(name)
        if cell is None:
            raise SampleError(
                f"{sample.path or sample.name}: no answer cell of the student notebook defines {name!r} "
                f"(answer cells define: {', '.join(sorted(owner))})"
            )
        if mode == "replace":
            cell.source = code
        else:
            index = nb.cells.index(cell) + 1 + inserted.get(id(cell), 0)
            nb.cells.insert(index, nbformat.v4.new_code_cell(code))
            inserted[id(cell)] = inserted.get(id(cell), 0) + 1
    return nb


def write_samples(student_notebook: Path, samples: list[Sample], out_dir: Path) -> list[Path]:
    """Write ``out_dir/<sample name>.ipynb`` for every sample.

    Args:
        student_notebook: the built student notebook.
        samples: the samples to write.
        out_dir: created if missing.

    Returns:
        list[Path]: the written notebooks, in the order of ``samples``.
    """
    student = nbformat.read(student_notebook, as_version=4)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for sample in samples:
        path = out_dir / f"{sample.name}.ipynb"
        nbformat.write(fill_notebook(student, sample), path)
        paths.append(path)
    return paths
