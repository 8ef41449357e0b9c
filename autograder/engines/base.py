"""The engine base class: one lifecycle for every engine, one abstract step per engine.

Modelled on papermill's ``Engine.wrap_and_execute_notebook``/``execute_managed_notebook``:
:meth:`Engine.grade` reads and screens the submission, :meth:`Engine.grade_notebook`
runs the lifecycle (limits, the cell timeout, the kernel-death and timeout retry, the
status text) and an engine implements only :meth:`Engine.execute`: run the notebook's
cells and the autograder's tests once, and say how that went (an :class:`Attempt`).
"""

from __future__ import annotations

import functools
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import nbformat

from ..install_lines import strip_notebook_install_lines
from ..non_code_answers import explain_non_code_answers
from ..findings import Finding
from ..outcome import COMPLETED, KERNEL_DIED, RAN, TIMED_OUT, GradingOutcome, kernel_died_status, timed_out_status
from ..screen import screen_notebook
from ..shipped_files import drop_shipped_file_reads, shipped_files
from ..shipped.gradkit_submission import restore_assignment_name, zip_assignment_name
from ..submissions import Submission, SubmissionError, read_submission
from .limits import Limits

__all__ = ["Attempt", "Engine", "runtime_findings"]


@dataclass
class Attempt:
    """How one execution of a notebook (its cells, then the autograder's tests) ended.

    Attributes:
        ended: ``"graded"`` (the tests ran: ``scores``, ``results``), ``"died"`` (the
            process running the cells died), ``"timed out"`` (past ``limits.timeout``
            seconds) or ``"failed"`` (grading could not happen: ``message`` says why).
        scores: question name -> points (float), when graded.
        results: the Gradescope-format ``results.json`` dict, when graded (or the
            engine's own account of a failure; empty: the standard failure results).
        notes: status notes of the run (an interrupted cell, capped output; texts from
            :mod:`autograder.outcome`).
        cell: died or timed out: index (0-based, in the submitted notebook) of the cell
            that was running.
        interrupted: timed out: indices of cells interrupted after the cell timeout (the
            first of them is where a cell that ignored its interrupt held the kernel).
        in_tests: died or timed out after the last cell, while the tests ran.
        message: failed: the reason, used as ``grading_status``.
        findings: what the engine saw at run time (texts, see :func:`runtime_findings`).
        phases: phase name -> wall-clock seconds of this execution, for profiling only
            (see :attr:`autograder.outcome.GradingOutcome.phases`); empty when the engine
            does not measure them.
    """

    ended: Literal["graded", "died", "timed out", "failed"]
    scores: dict[str, float] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    cell: int | None = None
    interrupted: list[int] = field(default_factory=list)
    in_tests: bool = False
    message: str = ""
    findings: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)


def runtime_findings(texts: list[str]) -> list[Finding]:
    """Run-time findings as stored with an outcome (:meth:`autograder.findings.Finding.runtime`:
    rule ``runtime``, no cell or line)."""
    return [Finding.runtime(text) for text in texts]


class Engine(ABC):
    """Grades one submission against an autograder zip.

    Subclasses set ``name`` and implement :meth:`execute`; :meth:`grade` reads the
    submission first, so a file that is not a notebook never reaches an engine, and
    :meth:`grade_notebook` owns what every engine shares; :meth:`unavailable_reason`
    says whether the engine can run on this system (the registry's :func:`get_engine`
    refuses one that cannot).
    """

    name: ClassVar[str]

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """Why this engine cannot run on this system, or None when it can (the default)."""
        return None

    def grade(self, submission: Submission, autograder_zip: Path, *, limits: Limits) -> GradingOutcome:
        """Grade ``submission``; never raises for a bad submission.

        Args:
            submission: the file to grade.
            autograder_zip: the Otter autograder zip built by ``gradkit build``.
            limits: time, memory and output limits.

        Returns:
            GradingOutcome: scores, status and results.json as the tests gave them, with
            the static screen's findings (:mod:`autograder.screen`) added to those the
            engine made; a failure outcome (all questions 0) when the file is not a
            gradable notebook or grading failed.

        Before an engine sees it, the notebook is read as Jupyter reads it (schema slips
        repaired and noted in the status, :mod:`autograder.notebook_reader`), a missing
        assignment name is taken from the zip (:mod:`autograder.shipped.gradkit_submission`) and
        package-install lines are replaced by ``pass`` (:mod:`autograder.install_lines`);
        afterwards, answers held by raw or markdown cells are pointed out in the test
        output and status (:mod:`autograder.non_code_answers`). Every engine therefore
        sees the same notebook.
        """
        start = time.monotonic()
        try:
            read = read_submission(submission)
        except SubmissionError as error:
            return GradingOutcome.failure(submission.label, str(error), time.monotonic() - start)
        notebook = read.notebook
        assignment_name, shipped = _zip_facts(Path(autograder_zip))
        notes = [read.status_note(), restore_assignment_name(notebook, assignment_name)]
        submitted = [(cell.cell_type, cell.source) for cell in notebook.cells]  # for the feedback
        strip_notebook_install_lines(notebook)  # not run at grading, no finding (Colab's %pip cell)
        findings = screen_notebook(notebook)  # before anything runs
        findings = drop_shipped_file_reads(findings, shipped)  # the assignment's data files
        outcome = self.grade_notebook(notebook, submission.label, Path(autograder_zip), limits=limits)
        outcome.findings = findings + outcome.findings
        for note in filter(None, notes):
            outcome.status = f"{outcome.status}; {note}"
        explain_non_code_answers(submitted, outcome)
        outcome.seconds = time.monotonic() - start
        return outcome

    def grade_notebook(self, notebook: nbformat.NotebookNode, label: str, autograder_zip: Path, *, limits: Limits) -> GradingOutcome:
        """Execute ``notebook`` and run the autograder's tests on it, with the rules every
        engine follows:

        * a cell that runs past ``limits.cell_seconds`` is interrupted and the notebook
          goes on (the engine notes it);
        * a process that dies in a cell, or a run past ``limits.timeout``, is graded again
          without the cell that was running (on a timeout: the first interrupted cell, as
          a cell that ignores its interrupt holds the kernel for every later one) and the
          cells after it; the status says so (:func:`~autograder.outcome.kernel_died_status`,
          :func:`~autograder.outcome.timed_out_status`);
        * a death or a timeout while the tests ran is not graded again (it would end the
          same way, at twice the cost); a second death or timeout is a failure.

        Returns:
            GradingOutcome: as :meth:`grade` describes (without the screen's findings), with
            the ``phases`` of every execution added up.
        """
        attempts: list[Attempt] = []
        outcome = self._grade_attempts(notebook, label, autograder_zip, limits, attempts)
        for attempt in attempts:
            for name, seconds in attempt.phases.items():
                outcome.phases[name] = outcome.phases.get(name, 0.0) + seconds
        return outcome

    def _grade_attempts(self, notebook: nbformat.NotebookNode, label: str, autograder_zip: Path, limits: Limits,
                        attempts: list[Attempt]) -> GradingOutcome:
        """:meth:`grade_notebook`'s rules; appends each :class:`Attempt` to ``attempts``."""
        attempt = self.execute(notebook, autograder_zip, limits=limits, stop_before=None)
        attempts.append(attempt)
        status, kind = COMPLETED, RAN
        if attempt.ended == "timed out" and attempt.in_tests:
            return _failure(label, f"timed out after {limits.timeout:g} s while the tests ran "
                                   "(a function the tests call did not return)", attempt.findings)
        if attempt.ended == "died" and attempt.in_tests:
            return _failure(label, "the grading process died while the tests ran "
                                   "(a function the tests call ended it)", attempt.findings)
        if attempt.ended in ("died", "timed out"):
            if attempt.ended == "timed out":
                stop = min(attempt.interrupted or [attempt.cell or 0])
                status, kind = timed_out_status(limits.timeout, stop), TIMED_OUT
            else:
                stop = attempt.cell or 0
                status, kind = kernel_died_status(stop), KERNEL_DIED
            attempt = self.execute(notebook, autograder_zip, limits=limits, stop_before=stop)
            attempts.append(attempt)
            if attempt.ended == "timed out":
                return GradingOutcome.failure(label, f"timed out after {limits.timeout:g} s")
            if attempt.ended == "died":
                return GradingOutcome.failure(label, f"the grading process died twice (last in cell {(attempt.cell or 0) + 1})")
        if attempt.ended == "failed":
            outcome = _failure(label, attempt.message, attempt.findings)
            if attempt.results:
                outcome.results = attempt.results
            return outcome
        if attempt.notes:
            status = f"{status}; " + "; ".join(attempt.notes)
        return GradingOutcome(label=label, scores=attempt.scores, status=status, results=attempt.results,
                              findings=runtime_findings(attempt.findings), kind=kind)

    @abstractmethod
    def execute(self, notebook: nbformat.NotebookNode, autograder_zip: Path, *, limits: Limits, stop_before: int | None) -> Attempt:
        """Run ``notebook``'s code cells, then the autograder zip's tests, once.

        Args:
            notebook: the submission as :meth:`grade` prepared it (do not change it: a
                retry runs it again).
            autograder_zip: the autograder zip.
            limits: the limits; a cell gets ``limits.cell_seconds``, the whole run
                ``limits.timeout``, each process the memory cap.
            stop_before: run only the cells before this index (0-based; None: all).

        Returns:
            Attempt: how the run ended.
        """

    def prepare(self, autograder_zip: Path) -> None:
        """Check and load ``autograder_zip`` once before a batch (no-op by default).

        Raises:
            ValueError: the engine cannot grade with this zip (the message says why).
        """

    def expect(self, submissions: int) -> None:
        """Say how many submissions this engine is about to grade, before its first
        :meth:`warm_up` or :meth:`grade` (a hint for what its start-up should pay for; no-op
        by default). Grading more or fewer still works.

        Args:
            submissions: the number of submissions (0 or more).
        """

    def warm_up(self) -> None:
        """Start what the calling grading thread will reuse (no-op by default), so that its
        start-up time is not counted in a submission's ``seconds``."""

    def close(self) -> None:
        """Release what the engine keeps between submissions (processes); idempotent."""


def _failure(label: str, reason: str, findings: list[str]) -> GradingOutcome:
    outcome = GradingOutcome.failure(label, reason)
    outcome.findings = runtime_findings(findings)
    return outcome


def _zip_facts(autograder_zip: Path) -> tuple[str | None, frozenset[str]]:
    """What :meth:`Engine.grade` takes from the autograder zip for every submission: its
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
