"""What the desk's pages show, read from a grading folder: the class, one submission's
test cases, and the filters and sort orders of the class view.

Read only: nothing here writes. Every page reads the gradebook afresh
(:class:`instructor.gradebook.Gradebook`), so what the desk shows is what the exports say.
The per-test-case results are parsed from the question entries of each submission's
results.json, in otter-grader's own text format (``q3 - 2 result:`` then ``✅ Test case
passed`` or ``❌ Test case failed`` and the message). The test cases' names, points and
public/hidden flags come from the autograder zip when ``gradkit serve --autograder ZIP``
is given (read with :mod:`ast`, never executed); otherwise a case counts as public when
otter's "Public Tests" entry lists it, and as "not known" when it does not.
"""

from __future__ import annotations

import ast
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from autograder.manual_questions import question_order
from autograder.otter_tests import read_zip_tests
from autograder.findings import Finding

from ..gradebook import Gradebook, GradebookRow

__all__ = ["ClassFilter", "SORT_KEYS", "TestCase", "TestCaseInfo", "changed_overrides", "filter_rows", "overridden_questions", "question_cases",
           "question_score", "read_case_info", "score_text", "sort_rows"]

_CASE = re.compile(r"^\s*(?P<q>\S+) - (?P<n>\d+) result:\s*$", re.M)
_ALL_PASSED = re.compile(r"^\s*(?P<q>\S+) results: All test cases passed!", re.M)


@dataclass(frozen=True)
class TestCaseInfo:
    """A test case as the autograder zip defines it: ``name`` (``test_q1_public``),
    ``points`` (points), ``hidden`` (bool)."""

    name: str
    points: float | None
    hidden: bool


@dataclass
class TestCase:
    """One test case's result in a submission.

    Attributes:
        number: 1-based, as otter numbers them (``q3 - 2``).
        passed: whether it passed.
        message: otter's text for a failure (the failing line and the check's message); ``""`` when it passed.
        name: the case's function name, when the autograder zip was given; else ``q3 - 2``.
        points: its points, when known.
        visibility: ``"public"``, ``"hidden"`` or ``"not known"``.
    """

    number: int
    passed: bool
    message: str = ""
    name: str = ""
    points: float | None = None
    visibility: str = "not known"


def read_case_info(autograder_zip: Path | None) -> dict[str, list[TestCaseInfo]]:
    """The test cases of every question in an Otter autograder zip, in file order.

    Reads ``tests/*.py`` (:func:`autograder.otter_tests.read_zip_tests`) with :mod:`ast`:
    the exception-based format's ``@test_case(points=..., hidden=...)`` functions, or the OK format's
    ``test = {"cases": [{"points": ..., "hidden": ...}]}``.

    Args:
        autograder_zip: the zip, or None.

    Returns:
        dict: question -> its cases; ``{}`` without a zip.

    Raises:
        ValueError: the file is not a zip, or a test file is not UTF-8 (names the zip).
    """
    if autograder_zip is None:
        return {}
    try:
        with zipfile.ZipFile(autograder_zip) as archive:
            tests = read_zip_tests(archive)
    except (zipfile.BadZipFile, OSError, UnicodeDecodeError) as error:
        raise ValueError(f"{autograder_zip}: not an autograder zip ({error})") from None
    return dict(_test_file_cases(source, PurePosixPath(path).stem) for path, source in tests)


def _test_file_cases(source: str, name: str) -> tuple[str, list[TestCaseInfo]]:
    """(question, its cases) of one test file's text; ``name`` if the file sets none.

    Parsed with :mod:`ast`, not :func:`autograder.otter_tests.load_test_file`: that executes
    the file's top level, and the desk (a web server left running) needs only the literal
    names, points and hidden flags."""
    cases: list[TestCaseInfo] = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                continue
            if node.targets[0].id == "name":
                name = str(value)
            elif node.targets[0].id == "test" and isinstance(value, dict):
                name = str(value.get("name", name))
                cases = [TestCaseInfo(f"{name} - {i + 1}", c.get("points"), bool(c.get("hidden", False)))
                         for i, c in enumerate(value.get("suites", [{}])[0].get("cases", []))]
        elif isinstance(node, ast.FunctionDef):
            for deco in node.decorator_list:
                if isinstance(deco, ast.Call) and getattr(deco.func, "id", getattr(deco.func, "attr", "")) == "test_case":
                    kw = {k.arg: k.value for k in deco.keywords}
                    literal = lambda key, default: ast.literal_eval(kw[key]) if key in kw else default  # noqa: E731
                    cases.append(TestCaseInfo(node.name, literal("points", None), bool(literal("hidden", False))))
    return name, cases


def _public_listing(results: dict) -> dict[str, set[int] | None]:
    """Question -> case numbers otter's "Public Tests" entry lists (None: "All test cases passed")."""
    entry = next((t for t in results.get("tests", []) if t.get("name") == "Public Tests"), None)
    if entry is None:
        return {}
    text = str(entry.get("output", ""))
    listed: dict[str, set[int] | None] = {m.group("q"): None for m in _ALL_PASSED.finditer(text)}
    for m in _CASE.finditer(text):
        listed.setdefault(m.group("q"), set())
        if listed[m.group("q")] is not None:
            listed[m.group("q")].add(int(m.group("n")))
    return listed


def question_cases(row: GradebookRow, question: str, info: dict[str, list[TestCaseInfo]] | None = None) -> list[TestCase]:
    """The test cases of one question in a submission, with pass/fail and messages.

    Args:
        row: the gradebook row.
        question: the question name.
        info: :func:`read_case_info`'s result (names, points, public/hidden), or None.

    Returns:
        list[TestCase]: in otter's order; ``[]`` when the results hold none (grading
        failed before the tests ran), or when every case passed and the zip was not given
        (otter then writes only "All test cases passed!").
    """
    known = (info or {}).get(question, [])
    entry = next((t for t in row.results.get("tests", []) if t.get("name") == question), None)
    text = str(entry.get("output", "")) if entry else ""
    cases: list[TestCase] = []
    matches = [m for m in _CASE.finditer(text) if m.group("q") == question]
    for k, m in enumerate(matches):
        end = matches[k + 1].start() if k + 1 < len(matches) else len(text)
        block = text[m.end():end].strip("\n")
        passed = "Test case passed" in block.split("\n", 1)[0]
        message = "" if passed else "\n".join(line.strip() for line in block.split("\n")[1:]).strip()
        cases.append(TestCase(number=int(m.group("n")), passed=passed, message=message))
    if not cases and entry and _ALL_PASSED.search(text) and known:
        cases = [TestCase(number=i + 1, passed=True) for i in range(len(known))]
    public = _public_listing(row.results).get(question)
    for case in cases:
        if 0 < case.number <= len(known):
            meta = known[case.number - 1]
            case.name, case.points, case.visibility = meta.name, meta.points, "hidden" if meta.hidden else "public"
        else:
            case.name = f"{question} - {case.number}"
            if public and case.number in public:
                case.visibility = "public"
    return cases


def overridden_questions(row: GradebookRow) -> dict:
    """Question -> :class:`instructor.override_rule.Override` of each question whose points
    were set by hand in a row (``{}`` when none)."""
    return {q: row.overrides[q] for q in row.hand_set}


def changed_overrides(row: GradebookRow) -> list[str]:
    """Questions of a row whose hand-set points were set on another file or autograder
    ("override on a changed submission", to confirm or remove)."""
    return row.changed_overrides


@dataclass(frozen=True)
class ClassFilter:
    """The class view's filters (all optional; combined with "and").

    Attributes:
        needs_review: only flagged submissions nobody has decided on.
        failed: only submissions whose tests gave less than every point of this question
            (what the tests gave, before the needs-review rule and hand-set points).
        incomplete: only submissions whose tests did not all run (the engine's kind,
            :attr:`autograder.status.GradingStatus.tests_ran`; flagged ones have their own filter).
        overridden: only submissions with a score set by hand.
        text: only submissions whose label or student contains this text (case-insensitive).
    """

    needs_review: bool = False
    failed: str = ""
    incomplete: bool = False
    overridden: bool = False
    text: str = ""


def filter_rows(rows: list[GradebookRow], points: dict[str, float], flt: ClassFilter) -> list[GradebookRow]:
    """The rows that pass every filter of ``flt``, in the given order.

    Args:
        rows: gradebook rows.
        points: autograded question -> points possible (for ``flt.failed``).
        flt: the filters.

    Returns:
        list[GradebookRow]: a new list; ``rows`` is not changed.
    """
    out = []
    for row in rows:
        if flt.needs_review and not row.needs_review:
            continue
        tests_gave = row.raw_scores if row.raw_scores is not None else row.scores
        if flt.failed and tests_gave.get(flt.failed, 0.0) >= points.get(flt.failed, 0.0):
            continue
        if flt.incomplete and row.state.tests_ran:
            continue
        if flt.overridden and not (overridden_questions(row) or changed_overrides(row)):
            continue
        if flt.text and flt.text.lower() not in f"{row.label} {row.student or ''}".lower():
            continue
        out.append(row)
    return out


_SORT_VALUES = {
    "label": lambda r: r.label,
    "student": lambda r: r.student or "",
    "total": lambda r: r.total,
    "status": lambda r: r.status,
    "review": lambda r: (not r.needs_review, r.review),
}
SORT_KEYS = tuple(_SORT_VALUES)
"""Sort keys of the class view, besides each question's name."""


def sort_rows(rows: list[GradebookRow], key: str, descending: bool = False, questions=()) -> list[GradebookRow]:
    """Rows sorted by ``key`` (one of :data:`SORT_KEYS` or a question name), ties by label.

    Args:
        rows: the rows.
        key: the sort key.
        descending: largest first.
        questions: the question names (the gradebook's points); a question of any row's
            scores is accepted too.

    Raises:
        ValueError: an unknown key.
    """
    value = _SORT_VALUES.get(key)
    if value is None and (key in questions or any(key in r.scores for r in rows)):
        value = lambda r: r.scores.get(key, 0.0)  # noqa: E731
    if value is None:
        raise ValueError(f"unknown sort key {key!r}")
    by_label = sorted(rows, key=lambda r: r.label)
    return sorted(by_label, key=value, reverse=descending)


@dataclass
class Snapshot:
    """The gradebook as one page reads it: ``rows`` (by label), ``points`` (autograded
    question -> points possible), ``events`` (the history of one label when asked),
    ``manual`` (manually graded question -> points possible; ``manual: true`` in the
    master notebook)."""

    rows: list[GradebookRow]
    points: dict[str, float]
    events: list = field(default_factory=list)
    manual: dict[str, float] = field(default_factory=dict)

    @property
    def questions(self) -> dict[str, float]:
        """Every question -> points possible, autograded and manual, in the exports' column
        order (:func:`autograder.manual_questions.question_order`)."""
        return question_order(self.points, self.manual)


def question_score(row: GradebookRow, question: str) -> float | None:
    """The points a row counts for one question; None for a manual question nobody has
    scored yet (never shown as 0)."""
    manual = row.manual_scores or {}
    if question in manual:
        return None if manual[question] is None else float(manual[question])
    value = (row.scores or {}).get(question)
    return 0.0 if value is None else float(value)


def score_text(row: GradebookRow, question: str) -> str:
    """:func:`question_score` as the pages show it: ``4.5`` or ``not graded yet``."""
    value = question_score(row, question)
    return "not graded yet" if value is None else f"{value:g}"


def read_snapshot(out_dir: Path, label: str | None = None) -> Snapshot:
    """Read every row and the points possible (and ``label``'s history) from the gradebook.

    Args:
        out_dir: the grading output folder (holding ``gradebook.sqlite``).
        label: a submission whose events (:meth:`instructor.gradebook.Gradebook.events`) to
            read too, or None for none.

    Returns:
        Snapshot: one consistent read (the gradebook is opened once and closed).
    """
    with Gradebook(out_dir) as book:
        return Snapshot(rows=book.rows(), points=book.points(), events=book.events(label) if label else [],
                        manual=book.manual_questions())


def findings_by_cell(row: GradebookRow) -> tuple[dict[int, list[Finding]], list[Finding]]:
    """A row's findings split into (1-based cell -> findings, findings without a cell: run time),
    each a :class:`autograder.findings.Finding` (its text: :meth:`~autograder.findings.Finding.text`)."""
    by_cell: dict[int, list[Finding]] = {}
    loose = []
    for f in row.findings or ():
        if f.cell is not None:
            by_cell.setdefault(f.cell, []).append(f)
        else:
            loose.append(f)
    return by_cell, loose
