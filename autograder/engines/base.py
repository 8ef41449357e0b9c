"""The engine base class: one lifecycle for every engine, one abstract step per engine.

Modelled on papermill's ``Engine.wrap_and_execute_notebook``/``execute_managed_notebook``:
:meth:`Engine.grade` reads and screens the submission (:meth:`Engine.read_and_screen`,
a step of its own that a caller may take earlier and hand over), :meth:`Engine.grade_notebook`
runs the lifecycle (limits, the cell timeout, the kernel-death and timeout retry, the
status text) and an engine implements only :meth:`Engine.execute`: run the notebook's
cells and the autograder's tests once, and say how that went (an :class:`Attempt`).
"""

from __future__ import annotations

import copy
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import nbformat

from ..non_code_answers import explain_non_code_answers
from ..findings import Finding
from ..outcome import COMPLETED, KERNEL_DIED, RAN, TIMED_OUT, GradingOutcome, kernel_died_status, timed_out_status
from ..submissions import Submission
from .limits import Limits
from .prepared import PreparedSubmission, prepare_submission

__all__ = ["Attempt", "Engine", "PreparedSubmission", "runtime_findings"]


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

    def read_and_screen(self, submission: Submission, autograder_zip: Path) -> PreparedSubmission | GradingOutcome:
        """The first step of :meth:`grade` on its own: read and screen ``submission``
        (:func:`autograder.engines.prepared.prepare_submission`), so that it can be done
        ahead of grading (``gradkit grade`` does it while the engines start) and handed to
        :meth:`grade` as ``prepared``. Never raises for a bad submission.

        Args:
            submission: the file to grade.
            autograder_zip: the autograder zip it will be graded against.

        Returns:
            PreparedSubmission | GradingOutcome: the notebook as the engine will run it, its
            notes, cells as submitted and screen findings; or the failure outcome
            :meth:`grade` returns for a file that is not a gradable notebook.
        """
        return prepare_submission(submission, autograder_zip)

    def grade(self, submission: Submission, autograder_zip: Path, *, limits: Limits,
              prepared: PreparedSubmission | GradingOutcome | None = None) -> GradingOutcome:
        """Grade ``submission``; never raises for a bad submission.

        Args:
            submission: the file to grade.
            autograder_zip: the Otter autograder zip built by ``gradkit build``.
            limits: time, memory and output limits.
            prepared: what :meth:`read_and_screen` returned for this submission and zip,
                when it was read earlier; ``None`` (the default): read it now. It is not
                changed (a failure outcome is returned as a copy), so the same value graded
                twice gives the same outcome.

        Returns:
            GradingOutcome: scores, status and results.json as the tests gave them, with
            the static screen's findings (:mod:`autograder.screen`) added to those the
            engine made; a failure outcome (all questions 0) when the file is not a
            gradable notebook or grading failed. The same fields whether ``prepared`` was
            given or not; ``seconds`` is the reading's wall-clock time plus this call's,
            wherever the reading happened (so it excludes any wait between the two).

        Raises:
            ValueError: ``prepared`` was made for another submission or autograder zip.

        Before an engine sees it, the notebook is read as Jupyter reads it (schema slips
        repaired and noted in the status, :mod:`autograder.notebook_reader`), a missing
        assignment name is taken from the zip (:mod:`autograder.shipped.gradkit_submission`) and
        package-install lines are replaced by ``pass`` (:mod:`autograder.install_lines`);
        afterwards, answers held by raw or markdown cells are pointed out in the test
        output and status (:mod:`autograder.non_code_answers`). Every engine therefore
        sees the same notebook (:mod:`autograder.engines.prepared`).
        """
        start = time.monotonic()
        if prepared is None:
            prepared = self.read_and_screen(submission, autograder_zip)  # timed from start
            if isinstance(prepared, GradingOutcome):
                return prepared
        else:
            _check_prepared(prepared, submission, Path(autograder_zip))
            if isinstance(prepared, GradingOutcome):
                return copy.deepcopy(prepared)  # the caller's value stays as it was
            start -= prepared.seconds  # the reading, done earlier, counts; the wait since does not
        # prepared.notebook is not copied: nothing else holds it (engines/prepared.py) and no engine changes it
        # (execute's contract); a deep copy would cost about 0.6 ms of the 3 to 7 ms reading ahead saves
        outcome = self.grade_notebook(prepared.notebook, submission.label, Path(autograder_zip), limits=limits)
        outcome.findings = list(prepared.findings) + outcome.findings
        for note in prepared.notes:
            outcome.status = f"{outcome.status}; {note}"
        explain_non_code_answers(list(prepared.submitted), outcome)
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


def _check_prepared(prepared: PreparedSubmission | GradingOutcome, submission: Submission, autograder_zip: Path) -> None:
    """Raise ``ValueError`` unless ``prepared`` was made for ``submission`` (and, for a
    :class:`PreparedSubmission`, for ``autograder_zip``)."""
    if isinstance(prepared, GradingOutcome):
        if prepared.label != submission.label:
            raise ValueError(f"{submission.label}: the prepared outcome is for {prepared.label}")
    elif prepared.submission != submission or prepared.autograder_zip != autograder_zip:
        raise ValueError(f"{submission.label}: prepared for {prepared.submission.label} with {prepared.autograder_zip}, "
                         f"not with {autograder_zip}")
