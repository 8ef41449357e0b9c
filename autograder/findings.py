"""One finding: a line of a submission that can change how it is graded.

Every finding, whoever found it, is a :class:`Finding`: the static screen
(:mod:`autograder.screen`) finds lines before anything runs; the fork engine reports what it
saw while the code ran (rule ``runtime``). Findings travel as :class:`Finding` objects
(:attr:`autograder.outcome.GradingOutcome.findings`, the gradebook's rows), are stored as
JSON (:meth:`Finding.to_dict`, read back and checked by :meth:`Finding.from_dict`) and have
one text form (:meth:`Finding.text`), shown to instructors and students alike.

Cell numbers: one convention end to end, the one users see: **1-based position among all
cells of the submitted notebook** (markdown cells counted, as Jupyter's cell list and
nbviewer number them). A run-time finding has no cell and no line (``None``, JSON ``null``).
Gradebooks written before this module stored run-time findings with cell and line 0; those
are read (and migrated) as ``None``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["RULES", "RUNTIME", "Finding", "FindingError", "findings_from_json", "findings_summary", "findings_to_json"]

RUNTIME = "runtime"
"""Rule of a finding seen while the code ran (fork engine); it has no cell or line."""

RULES = ("patch", "dunder", "introspection", "dynamic-code", "file", "process", RUNTIME)
"""Every rule a finding may have: the static screen's six (:mod:`autograder.screen`) and ``runtime``."""

CODE_MAX = 200
"""Longest ``code`` kept (characters): the line is cut there."""


class FindingError(ValueError):
    """A stored finding is not well-formed; ``str(error)`` names where it came from and what is wrong."""


@dataclass(frozen=True)
class Finding:
    """One suspicious line of a submission (or one thing seen at run time).

    Attributes:
        cell: 1-based position of the cell among all cells of the submitted notebook
            (int >= 1), or None for a run-time finding.
        line: 1-based line in that cell's source as IPython runs it (int >= 1), or None
            for a run-time finding.
        code: that line, stripped, at most :data:`CODE_MAX` characters (``""`` at run time).
        rule: one of :data:`RULES`.
        message: what the line does, naming the attribute or call.

    Raises:
        FindingError: on construction, a field of the wrong type or value (an unknown
            rule, a cell of 0, a static finding without a cell, a run-time one with one).
    """

    cell: int | None
    line: int | None
    code: str
    rule: str
    message: str

    def __post_init__(self) -> None:
        problem = _problem(self)
        if problem:
            raise FindingError(f"not a valid finding ({problem}): {self.to_dict()!r}")

    @classmethod
    def runtime(cls, message: str) -> "Finding":
        """A run-time finding (rule ``runtime``, no cell, no line) saying ``message``."""
        return cls(None, None, "", RUNTIME, message)

    def text(self) -> str:
        """The one text form: ``cell 12, line 3: <message>: `<code>``` or ``at run time: <message>``."""
        if self.rule == RUNTIME:
            return f"at run time: {self.message}"
        return f"cell {self.cell}, line {self.line}: {self.message}: `{self.code}`"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``cell``, ``line`` (int or None), ``code``, ``rule``, ``message`` (str)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any, where: str = "finding") -> "Finding":
        """A finding from its :meth:`to_dict` form, checked.

        Args:
            data: a dict with ``cell``, ``line``, ``code``, ``rule``, ``message``. The form
                gradebooks stored before this module (a run-time finding with cell and line
                ``0``) is accepted and read as ``None``.
            where: what ``data`` is, for messages (``"gradebook.sqlite, row 'a.ipynb'"``).

        Returns:
            Finding

        Raises:
            FindingError: not a dict, a missing or extra key, or a bad value (names ``where``).
        """
        if not isinstance(data, dict):
            raise FindingError(f"{where}: a finding must be a JSON object, got {type(data).__name__}")
        keys = ("cell", "line", "code", "rule", "message")
        missing = [k for k in keys if k not in data]
        extra = sorted(set(data) - set(keys))
        if missing or extra:
            said = "; ".join(filter(None, [missing and f"missing {', '.join(missing)}", extra and f"unknown {', '.join(extra)}"]))
            raise FindingError(f"{where}: not a finding ({said}): {data!r}")
        values = dict(data)
        if values["rule"] == RUNTIME and values["cell"] == 0 and values["line"] == 0:  # the old stored form
            values["cell"] = values["line"] = None
        try:
            return cls(**values)
        except FindingError as error:
            raise FindingError(f"{where}: {error}") from None


def _problem(f: Finding) -> str:
    """What is wrong with a finding's fields ("" if nothing)."""
    if f.rule not in RULES:
        return f"rule {f.rule!r} is not one of {', '.join(RULES)}"
    for name in ("code", "message"):
        if not isinstance(getattr(f, name), str):
            return f"{name} must be text"
    if f.rule == RUNTIME:
        return "" if f.cell is None and f.line is None else "a run-time finding has no cell or line"
    for name in ("cell", "line"):
        value = getattr(f, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            return f"{name} must be a whole number from 1 (1-based), got {value!r}"
    return ""


def findings_to_json(findings) -> str:
    """JSON text of a list of findings (a list of :meth:`Finding.to_dict` objects)."""
    return json.dumps([f.to_dict() for f in findings])


def findings_from_json(text: str, where: str = "findings") -> list[Finding]:
    """Findings from :func:`findings_to_json` text (or the older stored form), each checked.

    Raises:
        FindingError: not JSON, not a list, or a bad finding (names ``where`` and its index).
    """
    try:
        data = json.loads(text)
    except ValueError as error:
        raise FindingError(f"{where}: not JSON ({error})") from None
    if not isinstance(data, list):
        raise FindingError(f"{where}: findings must be a JSON list, got {type(data).__name__}")
    return [Finding.from_dict(item, f"{where}[{i}]") for i, item in enumerate(data)]


def findings_summary(findings) -> str:
    """The first finding's :meth:`Finding.text`, and how many more there are (``" (and 2 more)"``)."""
    findings = list(findings)
    return findings[0].text() + (f" (and {len(findings) - 1} more)" if len(findings) > 1 else "")
