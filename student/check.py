"""``gradkit check``: run a student's notebook and its public tests, as the student would.

The notebook runs top to bottom in a fresh Jupyter kernel (nbclient), in the notebook's own
folder (so ``gradkit_checks.py`` beside it is importable, as in Jupyter). Then, in the same
kernel, otter-grader's own ``otter.Notebook(...).check(question)`` runs each question's
public tests: the ones Otter Assign stored in the student notebook's metadata
(``metadata.otter.tests``; hidden tests are never in a student notebook). The messages are
exactly what ``grader.check("q1")`` prints in the notebook.

Cells that call ``grader.export(`` are not run: checking must not write a submission zip.
Like ``grader.check`` in Jupyter, the checks append to ``.OTTER_LOG`` in the notebook's folder.

The notebook is read and prepared exactly as ``gradkit grade`` reads it
(:mod:`autograder.notebook_reader`: any nbformat version, ids on 4.4, duplicate ids, byte
order mark...; :mod:`autograder.install_lines`: ``%pip install`` lines are not run), so
both accept the same files, and the grading side's static screen (:mod:`autograder.screen`)
runs first: the report names every line that would send the submission to review, by cell
and line as the grading status does. A notebook whose Otter metadata a tool dropped
(jupytext) takes its public tests from ``--tests NOTEBOOK`` or from a notebook of the same
assignment beside it (the handed-out student notebook).

Imports nothing from gradkit's instructor side.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import click
import nbformat

from autograder.install_lines import InstallLine, strip_notebook_install_lines
from autograder.non_code_answers import explained_output, find_non_code_answers
from autograder.notebook_reader import NotebookReadError, read_notebook_file
from autograder.screen import screen_notebook

__all__ = ["CellError", "CheckReport", "CheckUsageError", "PreparedCheck", "QuestionCheck", "check_notebook", "main", "prepare_check",
           "public_questions"]

log = logging.getLogger(__name__)

DEFAULT_CELL_TIMEOUT = 300.0
"""Seconds one cell may run before the check gives up."""

_EXPORT_CALL = re.compile(r"\bgrader\s*\.\s*export\s*\(")

_CHECK_CELL = """\
def _gradkit_check():
    import json, otter
    grader = otter.Notebook({notebook!r})
    found = {{}}
    for question in {questions!r}:
        try:
            result = grader.check(question, globals())
        except Exception as error:
            found[question] = {{"error": f"{{type(error).__name__}}: {{error}}"}}
            continue
        found[question] = {{
            "passed": bool(result.passed_all),
            "score": float(result.score),
            "possible": float(result.possible),
            "output": result.summary(),
        }}
    with open({out!r}, "w", encoding="utf-8") as f:
        json.dump(found, f)
_gradkit_check()
del _gradkit_check
"""


class CheckUsageError(ValueError):
    """The file cannot be checked: missing, not a notebook, no Otter tests, unknown question.
    The message names the file and what is wrong."""


@dataclass
class QuestionCheck:
    """The public tests of one question.

    Attributes:
        name: the question (``"q1"``).
        passed: every public test case passed.
        score: points of the public test cases passed (points; hidden tests add more when graded).
        possible: points of the public test cases (points).
        output: otter's message, as ``grader.check`` prints it; for a question whose checks
            could not run, why.
    """

    name: str
    passed: bool
    score: float
    possible: float
    output: str


@dataclass
class CellError:
    """A cell that raised while the notebook ran.

    Attributes:
        index: the cell's position in the notebook, 1-based (as counted top to bottom).
        error: ``"NameError: name 'x1' is not defined"``.
    """

    index: int
    error: str


@dataclass
class CheckReport:
    """What :func:`check_notebook` found.

    Attributes:
        notebook: the checked notebook.
        questions: one entry per checked question, in the order asked.
        cell_errors: cells that raised an exception (the run continues past them, as in grading).
        failure: why the run stopped early (cell timeout, kernel died), else ``None``; the
            questions then all fail with that reason.
        read_notes: what was repaired on reading (as the grading status notes it).
        review: the static screen's findings, as ``cell 3, line 1: <why>: `<code>```: each
            sends the submission to review (its questions count 0 until an instructor
            clears it).
        not_run: package-install lines, not run here nor when graded.
        tests_from: the notebook the public tests were taken from when the checked one
            has lost them (``None``: its own metadata).
    """

    notebook: Path
    questions: list[QuestionCheck] = field(default_factory=list)
    cell_errors: list[CellError] = field(default_factory=list)
    failure: str | None = None
    read_notes: list[str] = field(default_factory=list)
    review: list[str] = field(default_factory=list)
    not_run: list[InstallLine] = field(default_factory=list)
    tests_from: Path | None = None

    @property
    def all_passed(self) -> bool:
        """Every checked question passed its public tests."""
        return self.failure is None and all(q.passed for q in self.questions)


def public_questions(notebook: nbformat.NotebookNode, path: Path) -> list[str]:
    """Questions with tests in a student notebook's metadata (``metadata.otter.tests``).

    Raises:
        CheckUsageError: the notebook has no Otter tests (not a student notebook from
            ``gradkit build``, or its metadata was stripped).
    """
    tests = notebook.metadata.get("otter", {}).get("tests")
    if not tests:
        raise CheckUsageError(
            f"{path}: no Otter tests in the notebook's metadata; check the student notebook that "
            "`gradkit build` wrote (an editor that strips metadata removes the tests), or give it with "
            "`--tests HANDED_OUT.ipynb` (or put it beside this one)"
        )
    return sorted(tests)


@dataclass
class PreparedCheck:
    """A notebook read and screened for :func:`check_notebook`, not yet run.

    Attributes:
        path: the notebook's resolved path.
        notebook: as it will run (install lines replaced by ``pass``, public tests in its metadata).
        report: the report so far (reading notes, screen findings, lines not run, where the tests came from).
        questions: the questions to check.
    """

    path: Path
    notebook: nbformat.NotebookNode
    report: CheckReport
    questions: list[str]


def prepare_check(path: Path, questions: list[str] | None = None, *, tests_from: Path | None = None) -> PreparedCheck:
    """Everything :func:`check_notebook` does before the kernel starts: read the notebook as
    ``gradkit grade`` reads it, find its public tests, replace install lines, run the static
    screen. Whether this raises is whether ``gradkit check`` accepts the file.

    Args:
        path: the notebook to check.
        questions: question names (``["q1"]``); ``None`` selects every question with tests.
        tests_from: as :func:`check_notebook`.

    Returns:
        PreparedCheck: the notebook ready to run, the report so far and the selected questions.

    Raises:
        CheckUsageError: as :func:`check_notebook`.
    """
    path = Path(path).resolve()
    read = _read_notebook(path)
    notebook = read.notebook
    report = CheckReport(notebook=path, read_notes=list(read.notes))
    source_of_tests = _tests_source(notebook, path, tests_from)
    if source_of_tests is not None:
        report.tests_from = source_of_tests[0]
        ours = notebook.metadata.get("otter") if isinstance(notebook.metadata.get("otter"), dict) else {}
        notebook.metadata["otter"] = {**source_of_tests[1], **{k: v for k, v in ours.items() if v}}
    known = public_questions(notebook, path)
    selected = list(dict.fromkeys(questions)) if questions else known
    unknown = [q for q in selected if q not in known]
    if unknown:
        raise CheckUsageError(f"{path}: no tests for {', '.join(unknown)} in this notebook; its questions are {', '.join(known)}")
    report.not_run = strip_notebook_install_lines(notebook)  # as graded: not run, no finding
    report.review = [f.text() for f in screen_notebook(notebook)]
    return PreparedCheck(path, notebook, report, selected)


def check_notebook(path: Path, questions: list[str] | None = None, *, timeout: float = DEFAULT_CELL_TIMEOUT, kernel_name: str = "python3",
                   tests_from: Path | None = None) -> CheckReport:
    """Run ``path`` in a fresh kernel in its own folder, then the public tests of ``questions``.

    Args:
        path: the student notebook (``.ipynb``, nbformat 4, as ``gradkit build`` wrote it).
        questions: question names (``["q1"]``); ``None`` checks every question with tests.
        timeout: seconds each cell may run.
        kernel_name: the Jupyter kernel to use; ``python3`` is the Python running this code.
        tests_from: a notebook to take the public tests from when ``path`` has none in its
            metadata (default: a notebook of the same assignment in ``path``'s folder).

    Returns:
        CheckReport: per question passed/failed with otter's messages, plus cells that raised.

    Raises:
        CheckUsageError: the file is missing or not a notebook, has no Otter tests (and
            none were found elsewhere), or a question is unknown.
    """
    from nbclient import NotebookClient

    prepared = prepare_check(path, questions, tests_from=tests_from)
    path, notebook, report, selected = prepared.path, prepared.notebook, prepared.report, prepared.questions
    submitted = [(cell.cell_type, cell.source) for cell in notebook.cells]
    original_indices = [i for i, cell in enumerate(notebook.cells, 1) if not _is_export_cell(cell)]
    notebook.cells = [cell for cell in notebook.cells if not _is_export_cell(cell)]
    notebook.metadata["kernelspec"] = {"name": kernel_name, "display_name": kernel_name, "language": "python"}
    handle, out = tempfile.mkstemp(prefix="gradkit-check-", suffix=".json")
    os.close(handle)
    sockets = tempfile.mkdtemp(prefix="gradkit-kernel-")
    try:
        # otter.Notebook reads the tests from a notebook file: a clean copy (the file on disk
        # may have a byte order mark, ids nbformat refuses, or no tests of its own)
        tests_copy = os.path.join(sockets, path.name)
        nbformat.write(notebook, tests_copy)
        notebook.cells.append(nbformat.v4.new_code_cell(_CHECK_CELL.format(notebook=tests_copy, questions=selected, out=out)))
        km = _ipc_kernel_manager(kernel_name, sockets)
        client = NotebookClient(notebook, kernel_name=kernel_name, timeout=timeout, allow_errors=True, resources={"metadata": {"path": str(path.parent)}},
                                km=km)
        try:
            client.execute()
        except Exception as error:  # noqa: BLE001 - nbclient: CellTimeoutError, DeadKernelError, kernel start failures
            report.failure = f"the notebook did not finish running: {type(error).__name__}: {error}".strip()
        finally:
            _shutdown(km)
        found = _read_found(out)
    finally:
        Path(out).unlink(missing_ok=True)
        shutil.rmtree(sockets, ignore_errors=True)

    for index, cell in zip(original_indices, notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                report.cell_errors.append(CellError(index, f"{output.get('ename')}: {output.get('evalue')}"))
    if report.failure is None and not found:
        report.failure = "the public tests did not run (the check cell raised: " + _last_error(notebook.cells[-1]) + ")"
    for question in selected:
        got = found.get(question)
        if got is None:
            report.questions.append(QuestionCheck(question, False, 0.0, 0.0, report.failure or "not checked"))
        elif "error" in got:
            report.questions.append(QuestionCheck(question, False, 0.0, 0.0, f"the check could not run: {got['error']}"))
        else:
            report.questions.append(QuestionCheck(question, got["passed"], got["score"], got["possible"], got["output"]))
    # an answer typed into a raw or markdown cell: say so, as the grading feedback does
    answers = find_non_code_answers(submitted, [q.output for q in report.questions if not q.passed])
    for question in report.questions:
        if not question.passed:
            question.output = explained_output(question.output, answers)
    return report


def format_report(report: CheckReport, *, quiet: bool = False) -> str:
    """The report as ``gradkit check`` prints it: cell errors, then each question's result
    (``q1: passed`` / ``q1: FAILED`` with otter's message indented; ``quiet``: without the
    messages)."""
    lines = [f"{report.notebook.name}: public tests (hidden tests run only when your submission is graded)"]
    if report.read_notes:
        lines.append(f"  read as Jupyter reads it: {', '.join(report.read_notes)}")
    if report.tests_from is not None:
        lines.append(f"  this notebook has lost its Otter metadata (public tests); taken from {report.tests_from}")
    for line in report.not_run:
        lines.append(f"  cell {line.cell}, line {line.line}: not run here nor when graded (installs packages): `{line.code}`")
    if report.review:
        lines.append("  WILL NEED REVIEW: these lines send your submission to an instructor, and every question counts 0 "
                     "until they clear it:")
        lines += [f"    {text}" for text in report.review]
    if report.failure:
        lines.append(f"  {report.failure}")
    for error in report.cell_errors:
        lines.append(f"  cell {error.index} raised {error.error}")
    lines.append("")
    for question in report.questions:
        lines.append(f"{question.name}: {'passed' if question.passed else 'FAILED'}")
        if not quiet:
            lines += ["    " + line if line else "" for line in question.output.strip().splitlines()]
            lines.append("")
    passed = sum(q.passed for q in report.questions)
    lines.append(f"{passed} of {len(report.questions)} questions pass their public tests")
    return "\n".join(lines)


def main(*, notebook: Path, questions: tuple[str, ...] | list[str] = (), quiet: bool = False, timeout: float = DEFAULT_CELL_TIMEOUT,
         tests_from: Path | None = None) -> CheckReport:
    """``gradkit check``: run ``notebook`` in a fresh kernel in its folder, then its public
    tests, and print the report (:func:`format_report`).

    Args:
        notebook: the student's notebook (the file on disk is what runs).
        questions: check only these questions (empty: all).
        quiet: one line per question and the count, without otter's messages.
        timeout: seconds each cell may run.
        tests_from: the notebook to take the public tests from when ``notebook`` lost
            them (None: a notebook of the same assignment beside it).

    Returns:
        CheckReport: what ran and what passed.

    Raises:
        CheckUsageError: no such file, not a notebook, no Otter tests in it or beside it,
            an unknown question (the CLI prints ``Error: ...`` and exits 2).
    """
    log.info("checking %s (questions: %s, cell timeout %g s)", notebook, ", ".join(questions) or "all", timeout)
    report = check_notebook(notebook, list(questions) or None, timeout=timeout, tests_from=tests_from)
    log.info("%s: %d of %d questions pass their public tests", notebook, sum(q.passed for q in report.questions), len(report.questions))
    click.echo(format_report(report, quiet=quiet))
    return report


def _ipc_kernel_manager(kernel_name: str, folder: str):
    """A kernel manager whose kernel talks over Unix sockets in ``folder`` where the
    platform has them (no TCP port, and so no ipykernel warning "Kernel is running over
    TCP without encryption" on the student's terminal); over TCP elsewhere (Windows)."""
    from jupyter_client.manager import KernelManager

    if os.name != "posix":
        return KernelManager(kernel_name=kernel_name)
    return KernelManager(kernel_name=kernel_name, transport="ipc", connection_file=os.path.join(folder, "kernel.json"))


def _shutdown(km) -> None:
    """Stop the kernel (nbclient leaves a kernel manager it was given running)."""
    try:
        if km.has_kernel:
            km.shutdown_kernel(now=False)
    except Exception:  # noqa: BLE001 - a kernel that already died
        try:
            km.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001
            pass


def _read_notebook(path: Path):
    """The notebook read as ``gradkit grade`` reads it (:mod:`autograder.notebook_reader`)."""
    if not path.is_file():
        raise CheckUsageError(f"{path}: no such file")
    try:
        return read_notebook_file(path)
    except NotebookReadError as error:
        raise CheckUsageError(f"{path}: not a readable Jupyter notebook ({error})") from None


def _tests_source(notebook: nbformat.NotebookNode, path: Path, tests_from: Path | None) -> tuple[Path, dict] | None:
    """Where the public tests (that notebook's ``metadata.otter``: ``tests``, ``OK_FORMAT``)
    come from when ``notebook`` has none in its metadata:
    ``tests_from``, else the other notebooks in ``path``'s folder with Otter tests for the
    same assignment (any assignment name if ``notebook`` has none), when they all carry
    the same tests. ``None`` when the
    notebook has its own tests or nothing was found (:func:`public_questions` then says so).

    Raises:
        CheckUsageError: ``tests_from`` is unreadable, has no tests, or is for another assignment.
    """
    otter = notebook.metadata.get("otter") if isinstance(notebook.metadata.get("otter"), dict) else {}
    if otter.get("tests"):
        return None
    name = otter.get("assignment_name")
    if tests_from is not None:
        tests_from = Path(tests_from).resolve()
        theirs = _otter_metadata(tests_from)
        if theirs is None or not theirs.get("tests"):
            raise CheckUsageError(f"{tests_from}: no Otter tests in this notebook's metadata (--tests takes the handed-out student notebook)")
        if name and theirs.get("assignment_name") not in (None, name):
            raise CheckUsageError(f"{tests_from}: tests of assignment {theirs.get('assignment_name')!r}, but {path.name} is {name!r}")
        return tests_from, theirs
    found = []
    for other in sorted(path.parent.glob("*.ipynb")):
        if other.resolve() == path:
            continue
        theirs = _otter_metadata(other)
        if theirs and theirs.get("tests") and (name is None or theirs.get("assignment_name") == name):
            found.append((other.resolve(), theirs))
    distinct = {json.dumps(theirs.get("tests"), sort_keys=True) for _, theirs in found}
    return found[0] if len(distinct) == 1 else None  # several notebooks: only if they agree on the tests


def _otter_metadata(path: Path) -> dict | None:
    try:
        otter = read_notebook_file(path).notebook.metadata.get("otter")
    except NotebookReadError:
        return None
    return otter if isinstance(otter, dict) else None


def _is_export_cell(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "code" and bool(_EXPORT_CALL.search(cell.source))


def _read_found(out: str) -> dict:
    try:
        text = Path(out).read_text(encoding="utf-8")
        return json.loads(text) if text.strip() else {}
    except (OSError, json.JSONDecodeError):
        return {}


def _last_error(cell: nbformat.NotebookNode) -> str:
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    return f"{errors[-1].get('ename')}: {errors[-1].get('evalue')}" if errors else "no output"
