"""A submission read and screened, before any engine runs it: the first step of
:meth:`autograder.engines.base.Engine.grade`, on its own so that it can be done ahead of
the grading (``gradkit grade`` does it while the engines start: ``instructor.read_ahead``).

What the step does, in this order (every engine therefore sees the same notebook): the
notebook is read as Jupyter reads it (schema slips repaired and noted,
:mod:`autograder.notebook_reader`), a missing assignment name is taken from the zip
(:mod:`autograder.shipped.gradkit_submission`), the cells as submitted are kept for the
feedback, package-install lines are replaced by ``pass`` (:mod:`autograder.install_lines`),
and the static screen runs (:mod:`autograder.screen`), without the findings that read the
assignment's own data files (:mod:`autograder.shipped_files`).
"""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from ..findings import Finding
from ..install_lines import strip_notebook_install_lines
from ..outcome import GradingOutcome
from ..screen import screen_notebook
from ..shipped.gradkit_submission import restore_assignment_name, zip_assignment_name
from ..shipped_files import drop_shipped_file_reads, shipped_files
from ..submissions import Submission, SubmissionError, read_submission

__all__ = ["PreparedSubmission", "prepare_submission"]


@dataclass(frozen=True)
class PreparedSubmission:
    """One submission read and screened: what :meth:`autograder.engines.base.Engine.grade`
    needs to grade it without reading it again.

    Attributes:
        submission: the submission it was read from.
        autograder_zip: the autograder zip it was prepared for (the path as given).
        notebook: the notebook the engine runs (read, assignment name restored, install
            lines replaced). Made for this value alone: nothing else holds it, and neither
            ``grade`` nor an engine changes it (:meth:`~autograder.engines.base.Engine.execute`
            must not), so grading the same value twice grades the same notebook.
        notes: the status notes of the reading (repairs made, assignment name restored), in
            the order they are appended to the outcome's status.
        submitted: ``(cell_type, source)`` per cell as submitted (before the install lines
            were replaced), for :func:`autograder.non_code_answers.explain_non_code_answers`.
        findings: the static screen's findings, shipped-file reads dropped.
        seconds: wall-clock seconds the reading and screening took.
    """

    submission: Submission
    autograder_zip: Path
    notebook: nbformat.NotebookNode
    notes: tuple[str, ...]
    submitted: tuple[tuple[str, str], ...]
    findings: tuple[Finding, ...]
    seconds: float


def prepare_submission(submission: Submission, autograder_zip: Path) -> PreparedSubmission | GradingOutcome:
    """Read and screen ``submission`` for grading against ``autograder_zip`` (see the
    module doc); never raises for a bad submission.

    Args:
        submission: the file to grade.
        autograder_zip: the autograder zip (only its assignment name and shipped data files
            are read here, once per zip).

    Returns:
        PreparedSubmission | GradingOutcome: the prepared submission, or, for a file that is
        not a gradable notebook (:class:`autograder.submissions.SubmissionError`), the
        failure outcome ``grade`` returns for it (all questions 0, ``seconds``: the reading).

    Raises:
        Exception: whatever reading or screening raised besides ``SubmissionError`` (a bug:
            ``grade`` lets it through, and the batch reports it for that submission).
    """
    start = time.monotonic()
    return _from_a_fresh_stack(_prepare, submission, Path(autograder_zip), start)


def _from_a_fresh_stack(function, *args):
    """``function(*args)`` run in a thread of its own, which starts with the same few frames
    whoever calls: its return value, or what it raised, raised here.

    Why: reading and screening recurse (JSON decoding, nbformat's dicts, the screen's
    visitor), and a notebook nested near Python's recursion limit was read, refused or failed
    with a ``RecursionError`` depending on how many frames the caller already had: the
    read-ahead thread and a grading thread (or ``gradkit grade`` with and without reading
    ahead) gave different outcomes for the same file (red team atk6). Starting from a fresh
    stack makes the outcome the file's alone; a thread costs about 0.1 ms of the 3 to 7 ms a
    reading takes. (Capping the nesting instead would need a bound for every recursive step
    of nbformat and the screen, each kept below the limit.)
    """
    result: list = []

    def run() -> None:
        try:
            result.append((True, function(*args)))
        except BaseException as error:  # noqa: BLE001 - handed to the caller, raised there
            result.append((False, error))

    thread = threading.Thread(target=run, name="gradkit-reading", daemon=True)
    thread.start()
    thread.join()
    ok, value = result[0]
    if not ok:
        raise value
    return value


def _prepare(submission: Submission, autograder_zip: Path, start: float) -> PreparedSubmission | GradingOutcome:
    """:func:`prepare_submission`'s work (``start``: its ``time.monotonic()`` at the call)."""
    try:
        read = read_submission(submission)
    except SubmissionError as error:
        return GradingOutcome.failure(submission.label, str(error), time.monotonic() - start)
    notebook = read.notebook
    assignment_name, shipped = _zip_facts(Path(autograder_zip))
    notes = (read.status_note(), restore_assignment_name(notebook, assignment_name))
    submitted = tuple((cell.cell_type, cell.source) for cell in notebook.cells)  # for the feedback
    strip_notebook_install_lines(notebook)  # not run at grading, no finding (Colab's %pip cell)
    findings = screen_notebook(notebook)  # before anything runs
    findings = drop_shipped_file_reads(findings, shipped)  # the assignment's data files
    return PreparedSubmission(submission=submission, autograder_zip=Path(autograder_zip), notebook=notebook,
                              notes=tuple(filter(None, notes)), submitted=submitted, findings=tuple(findings),
                              seconds=time.monotonic() - start)


def _zip_facts(autograder_zip: Path) -> tuple[str | None, frozenset[str]]:
    """What :func:`prepare_submission` takes from the autograder zip for every submission: its
    assignment name (:func:`~autograder.shipped.gradkit_submission.zip_assignment_name`) and the
    data files students were handed (:func:`~autograder.shipped_files.shipped_files`).

    Read once per zip, not per submission: cached by resolved path, modification time and
    size, so a rebuilt zip is read again. ``(None, frozenset())`` for a zip that cannot be
    read (the engines report that themselves).
    """
    try:
        stat = autograder_zip.stat()
    except OSError:
        return None, frozenset()
    return _read_zip_facts(str(autograder_zip.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _read_zip_facts(path: str, mtime_ns: int, size: int) -> tuple[str | None, frozenset[str]]:
    return zip_assignment_name(Path(path)), frozenset(shipped_files(Path(path)))
