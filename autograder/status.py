"""A submission's grading status: structured fields, and the one place they become text.

What became of a submission is stored as fields, never as text to be read back:

* the engine's part (:class:`autograder.outcome.GradingOutcome`): its kind
  (:data:`ENGINE_KINDS`: every test ran, timed out, kernel died, could not be graded) and
  its own words (``"Completed"``, ``"timed out after 60 s in cell 4; ..."``, a failure's
  reason), with the notes engines add after ``"; "`` (a repaired file, an interrupted cell);
* what the input says about it (a Gradescope folder whose submitters are unknown,
  :mod:`instructor.discovery`);
* the findings (:class:`autograder.findings.Finding`) and the review decision
  (:mod:`autograder.review`);
* the questions set by hand and those whose override is on a changed submission
  (:mod:`instructor.override_rule`).

:class:`GradingStatus` holds them; :func:`render_status` is the one function that writes the
``grading_status`` text of grades.csv, students.csv, the report, feedback and the LMS
reports. Nothing reads that text back: every reader asks the fields
(:attr:`GradingStatus.kind`, :attr:`GradingStatus.completed`...).

**Completed**, for every report (terminal summary, report.html, feedback, the Canvas and
Moodle reports): :attr:`GradingStatus.completed`, the outcome kind is ``completed``: every
test ran *and* the score stands (no review pending or rejected; a cleared one stands). A
flagged submission whose tests all ran is not completed until cleared: the terminal
summary counts it under *need review* (or *rejected*), the report lists it among the
submissions with grading problems, the LMS reports mark it NOT COMPLETED. Before the status
was stored as fields, the terminal summary alone counted it as completed. Whether every
test ran, whatever the review says, is :attr:`GradingStatus.tests_ran` (the desk's *not
completed* filter; flagged submissions have their own filter there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .findings import Finding, findings_summary

__all__ = [
    "CHANGED", "COMPLETED", "ENGINE_KINDS", "GradingStatus", "KERNEL_DIED", "NEEDS_REVIEW", "NOT_GRADED", "OUTCOME_KINDS",
    "RAN", "REJECTED_STATUS", "SET_BY_HAND", "TIMED_OUT", "failure_text", "format_score", "interrupted_note",
    "kernel_died_status", "non_code_cell_note", "output_capped_note", "render_status", "render_student_status", "tests_stopped_note", "timed_out_status",
]

COMPLETED = "Completed"
"""The engine's words for a submission that was executed and tested (as in otter's table)."""

RAN = "completed"
"""Kind: every test ran (and, as an outcome, the score stands)."""
TIMED_OUT = "timed out"
"""Kind: the submission ran past its time limit; what ran before the stuck cell was graded."""
KERNEL_DIED = "kernel died"
"""Kind: the process running the notebook died; what ran before that cell was graded."""
NOT_GRADED = "could not be graded"
"""Kind: no test ran (an unreadable file, a wrong assignment, grading failed): 0 points."""
ENGINE_KINDS = (RAN, TIMED_OUT, KERNEL_DIED, NOT_GRADED)
"""What an engine can say became of a submission (:attr:`autograder.outcome.GradingOutcome.kind`)."""

NEEDS_REVIEW = "needs review"
"""Kind and status prefix: flagged (findings), nobody decided yet; it counts 0."""
REJECTED_STATUS = "rejected after review"
"""Kind and status prefix: flagged, and an instructor rejected it; it counts 0."""
OUTCOME_KINDS = (*ENGINE_KINDS, NEEDS_REVIEW, REJECTED_STATUS)
"""Every :attr:`GradingStatus.kind`."""

SET_BY_HAND = "set by hand"
"""Status marker (``; set by hand: q3=4.5``) of a submission with hand-set points."""
CHANGED = "override on a changed submission"
"""Status marker of a submission whose file or autograder changed after an override."""

_PENDING, _CLEARED, _REJECTED = "", "cleared", "rejected"  # autograder.review's decisions (it imports this module)
_MARKER_TEXT = re.compile("(" + re.escape(SET_BY_HAND) + "|" + re.escape(CHANGED) + "):", re.IGNORECASE)


def format_score(points: float | None) -> str:
    """Points as written in statuses and listings: ``4.5``, ``2``, ``none`` (no score)."""
    return "none" if points is None else f"{float(points):g}"


@dataclass(frozen=True)
class GradingStatus:
    """What became of one submission, as stored fields.

    Attributes:
        engine_kind: one of :data:`ENGINE_KINDS`.
        engine_text: the engine's own status with its notes (``"Completed"``,
            ``"Completed; cell 3 ran past 30 s and was interrupted"``, a failure's reason).
        input_note: what the input says about the submission (``""``: nothing), shown after
            the engine's text.
        findings: the submission's findings; none means nothing to review.
        review: ``""`` (pending), ``"cleared"`` or ``"rejected"`` (see :mod:`autograder.review`).
        hand_set: (question, points) set by hand, in question order.
        changed: questions whose override is on a changed submission, in question order.

    Raises:
        ValueError: an unknown ``engine_kind`` or ``review``.
    """

    engine_kind: str
    engine_text: str
    input_note: str = ""
    findings: tuple[Finding, ...] = ()
    review: str = _PENDING
    hand_set: tuple[tuple[str, float], ...] = ()
    changed: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.engine_kind not in ENGINE_KINDS:
            raise ValueError(f"unknown engine outcome kind {self.engine_kind!r} (one of {', '.join(ENGINE_KINDS)})")
        if self.review not in (_PENDING, _CLEARED, _REJECTED):
            raise ValueError(f"unknown review decision {self.review!r}")

    @property
    def kind(self) -> str:
        """The outcome kind (:data:`OUTCOME_KINDS`): ``needs review`` or ``rejected after
        review`` for a flagged submission not cleared, else the engine's kind."""
        if self.findings and self.review == _PENDING:
            return NEEDS_REVIEW
        if self.findings and self.review == _REJECTED:
            return REJECTED_STATUS
        return self.engine_kind

    @property
    def completed(self) -> bool:
        """Whether the score stands: every test ran and no review is pending or rejected
        (the one meaning of "completed" for every report; see the module doc)."""
        return self.kind == RAN

    @property
    def tests_ran(self) -> bool:
        """Whether the engine ran every test, whatever the review says."""
        return self.engine_kind == RAN

    @property
    def hand_set_questions(self) -> list[str]:
        """Questions whose points were set by hand."""
        return [q for q, _ in self.hand_set]

    def text(self) -> str:
        """:func:`render_status` of this status."""
        return render_status(self)


def render_status(status: GradingStatus) -> str:
    """The ``grading_status`` text of a submission: the one place it is written.

    Format (unchanged from the text gradkit wrote before it was stored as fields):
    ``<engine text>[; <input note>]``; flagged and not cleared:
    ``needs review: <first finding> (and N more); graded: <that>`` (``rejected after
    review: ...`` once rejected); cleared: ``<that>; cleared after review``; then
    ``; set by hand: q3=4.5, q1=0`` and ``; override on a changed submission: q3 (it counts;
    confirm or unset it)``. The markers' words, where they appear in text the submission
    brought (a file name quoted in a failure), are written ``"set by hand":`` so the text
    reads unambiguously.

    Args:
        status: the fields.

    Returns:
        str: one line.
    """
    text = status.engine_text + (f"; {status.input_note}" if status.input_note else "")
    if status.findings and status.review == _CLEARED:
        text = f"{text}; cleared after review"
    elif status.findings:
        text = f"{status.kind}: {findings_summary(status.findings)}; graded: {text}"
    text = _MARKER_TEXT.sub(r'"\1":', text)
    if status.hand_set:
        text = f"{text}; {SET_BY_HAND}: {', '.join(f'{q}={format_score(p)}' for q, p in status.hand_set)}"
    if status.changed:
        text = f"{text}; {CHANGED}: {', '.join(status.changed)} (it counts; confirm or unset it)"
    return text


_STATUS_HEADS = (COMPLETED.lower(), NEEDS_REVIEW, REJECTED_STATUS, NOT_GRADED)
"""Beginnings of the status texts written here: a failure's reason that begins like one is
prefixed (:func:`failure_text`), so the text reads as what it is."""


def failure_text(reason: str) -> str:
    """The engine text of a submission that could not be graded: ``reason`` (why, naming
    the file), with ``could not be graded: `` in front when it would read as another status
    (a file may be named ``Completed; x.ipynb`` or ``needs review: x.ipynb``), so that no
    reader of ``grading_status`` takes a failure for a completed or flagged submission."""
    return f"{NOT_GRADED}: {reason}" if reason.lower().startswith(_STATUS_HEADS) else reason


def kernel_died_status(cell: int) -> str:
    """``grading_status`` when the process running the notebook died in ``cell`` (0-based)."""
    return (f"the kernel died in cell {cell + 1} (os._exit, a crash or a signal); "
            "questions after that cell were not reached")


def timed_out_status(timeout: float, cell: int) -> str:
    """``grading_status`` when the submission ran past ``timeout`` seconds in ``cell`` (0-based)."""
    return f"timed out after {timeout:g} s in cell {cell + 1}; questions after that cell were not reached"


def interrupted_note(cell: int, cell_timeout: float) -> str:
    """Status note for a cell (0-based) interrupted after ``cell_timeout`` seconds."""
    return f"cell {cell + 1} ran past {cell_timeout:g} s and was interrupted"


def output_capped_note(output_bytes: int, cell: int) -> str:
    """Status note when captured output passed ``output_bytes`` bytes in ``cell`` (0-based)."""
    return f"output past {output_bytes} bytes was dropped (from cell {cell + 1})"


def non_code_cell_note(cell: int, listed: str, kind: str) -> str:
    """Status note for a raw or markdown cell (1-based ``cell``, of ``kind`` ``"raw"`` or
    ``"markdown"``) holding answers the tests miss (``listed``: their names, e.g. ```f2`, `g```)."""
    return f"cell {cell} (holding {listed}) is a {kind} cell and did not run"


def tests_stopped_note(test_file: str, seconds: float) -> str:
    """Note when the tests of one question did not end (a function that never returns when
    the tests call it): that question's test cases count as failed, the others are graded."""
    return f"the tests of {test_file} ran past {seconds:g} s and were stopped; its test cases count as failed"


def render_student_status(status: GradingStatus) -> str:
    """The ``grading_status`` as students may read it (Gradescope's output): the findings
    left out, since they are for instructors only.

    Args:
        status: the fields.

    Returns:
        str: one line: while a review is pending or rejected, ``needs review; graded: ``
        (or ``rejected after review; graded: ``) and :func:`render_status` of the status
        without its findings; otherwise :func:`render_status` itself, which then lists none.
    """
    if status.kind not in (NEEDS_REVIEW, REJECTED_STATUS):
        return render_status(status)  # no finding in it (a cleared one says only that)
    return f"{status.kind}; graded: {render_status(replace(status, findings=()))}"
