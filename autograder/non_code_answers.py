"""An answer typed into a raw or markdown cell: say so in the feedback.

A student who turns an answer cell into a raw or markdown cell (``Esc R``/``Esc M`` in
Jupyter, or a conversion tool) loses that question, rightly: the cell never ran. The tests
only see the consequence, ``NameError: name 'f2' is not defined``. This module finds, for
every name a failing test reports as not defined, a raw or markdown cell whose text
defines it (``def f2(``, ``class f2``, ``f2 = ...``, ``import ... as f2``; in a markdown
cell outside fenced code blocks, which instructions use for examples) while no code cell
does, and adds to each test output that reports the name, and to the grading
status, which cell it is and why it did not run. Scores are not changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from .outcome import GradingOutcome
from .status import non_code_cell_note

__all__ = ["NonCodeAnswer", "explain_non_code_answers", "explained_output", "find_non_code_answers", "non_code_definition"]

# Python's NameError, and the check library's CheckFailed (autograder/shipped/gradkit_checks.py)
_UNDEFINED = re.compile(r"name '([A-Za-z_]\w*)' is not defined|`([A-Za-z_]\w*)` is not defined")
_KIND = {"raw": "raw", "markdown": "markdown"}
_FENCED = re.compile(r"^[ \t]*(```|~~~).*?^[ \t]*\1[ \t]*$", re.MULTILINE | re.DOTALL)


def _defines(name: str) -> re.Pattern[str]:
    n = re.escape(name)
    return re.compile(
        rf"^[ \t>]*(?:async\s+)?(?:def|class)\s+{n}\b"          # def f2(...), class f2
        rf"|^[ \t>]*(?:[A-Za-z_][\w.]*\s*,\s*)*{n}\s*(?::[^=\n]*)?(?:,\s*[A-Za-z_]\w*\s*)*=(?!=)"  # f2 = ..., a, f2 = ...
        rf"|^[ \t>]*(?:from\s+\S+\s+)?import\s+.*\b(?:as\s+)?{n}\b",  # import ... as f2
        re.MULTILINE,
    )


def non_code_definition(cells: Iterable[tuple[str, str]], name: str) -> tuple[int, str] | None:
    """The raw or markdown cell that defines ``name`` when no code cell does.

    Args:
        cells: ``(cell_type, source)`` per cell, in notebook order.
        name: a Python name (``"f2"``).

    Returns:
        (int, str) | None: the cell's 1-based position (every cell counted, as Jupyter
        lists them) and its type (``"raw"`` or ``"markdown"``); ``None`` if a code cell
        defines the name or no cell does.
    """
    pattern = _defines(name)
    found = None
    for number, (kind, source) in enumerate(cells, start=1):
        text = source if isinstance(source, str) else "".join(source)
        if kind == "markdown":  # a fenced example in the instructions is not an answer
            text = _FENCED.sub("", text)
        if not pattern.search(text):
            continue
        if kind == "code":
            return None
        if kind in _KIND and found is None:
            found = (number, _KIND[kind])
    return found


@dataclass(frozen=True)
class NonCodeAnswer:
    """A raw or markdown cell that holds names failing tests report as not defined.

    Attributes:
        cell: its 1-based position (every cell counted, as Jupyter lists them).
        kind: ``"raw"`` or ``"markdown"``.
        names: the names it defines that the tests miss, sorted.
    """

    cell: int
    kind: str
    names: tuple[str, ...]

    @property
    def text(self) -> str:
        """The explanation for the student (one line)."""
        return (f"cell {self.cell} is a {self.kind} cell, so it did not run; it holds {self.listed}: "
                "make it a code cell to have it graded")

    @property
    def listed(self) -> str:
        """:attr:`names` as the messages list them: ```f2`, `g```."""
        return ", ".join(f"`{name}`" for name in self.names)

    def explains(self, output: str) -> bool:
        """Whether ``output`` (a test's message) reports one of :attr:`names` as not defined."""
        return any(f"name '{name}' is not defined" in output or f"`{name}` is not defined" in output for name in self.names)


def find_non_code_answers(cells: list[tuple[str, str]], outputs: Iterable[str]) -> list[NonCodeAnswer]:
    """The raw and markdown cells holding names that ``outputs`` (test messages) report as
    not defined, in cell order.

    Args:
        cells: ``(cell_type, source)`` per cell of the submitted notebook.
        outputs: test output texts.
    """
    names = sorted({m.group(1) or m.group(2) for output in outputs for m in _UNDEFINED.finditer(str(output))})
    by_cell: dict[tuple[int, str], list[str]] = {}
    for name in names:
        where = non_code_definition(cells, name)
        if where is not None:
            by_cell.setdefault(where, []).append(name)
    return [NonCodeAnswer(number, kind, tuple(held)) for (number, kind), held in sorted(by_cell.items())]


def explained_output(output: str, answers: Iterable[NonCodeAnswer]) -> str:
    """``output`` (a test's message) with the :attr:`NonCodeAnswer.text` of each answer that
    :meth:`~NonCodeAnswer.explains` it appended after a blank line, in order; unchanged if none does."""
    for answer in answers:
        if answer.explains(output):
            output = output.rstrip("\n") + "\n\n" + answer.text + "\n"
    return output


def explain_non_code_answers(cells: list[tuple[str, str]], outcome: GradingOutcome) -> list[str]:
    """Add to ``outcome`` (in place) why names its tests miss are not defined, when a raw
    or markdown cell holds them.

    Args:
        cells: ``(cell_type, source)`` per cell of the submitted notebook.
        outcome: the graded outcome; the ``results["tests"][*]["output"]`` that report one
            of the names get a line appended, ``status`` a note per cell.

    Returns:
        list[str]: the explanations added, one per raw or markdown cell (empty when none applied).
    """
    tests = outcome.results.get("tests", []) if isinstance(outcome.results, dict) else []
    found = find_non_code_answers(cells, (str(test.get("output", "")) for test in tests))
    for test in tests:
        output = str(test.get("output", ""))
        if any(answer.explains(output) for answer in found):
            test["output"] = explained_output(output, found)
    for answer in found:
        outcome.add_note(non_code_cell_note(answer.cell, answer.listed, answer.kind))
    return [answer.text for answer in found]
