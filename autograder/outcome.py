"""The result of grading one submission, as every engine returns it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .findings import Finding
from .points import points_earned
from .status import COMPLETED, ENGINE_KINDS, KERNEL_DIED, NEEDS_REVIEW, NOT_GRADED, RAN, REJECTED_STATUS, TIMED_OUT

__all__ = ["COMPLETED", "GradingOutcome", "interrupted_note", "kernel_died_status", "output_capped_note", "timed_out_status",
           "KERNEL_DIED", "NOT_GRADED", "RAN", "TIMED_OUT"]

_STATUS_HEADS = (COMPLETED.lower(), NEEDS_REVIEW, REJECTED_STATUS, NOT_GRADED)
"""Beginnings of the status texts gradkit writes (:mod:`autograder.status`): a failure's
reason that begins like one is prefixed, so the text reads as what it is."""


@dataclass
class GradingOutcome:
    """Scores and feedback of one submission.

    Attributes:
        label: the submission's unique label (the ``file`` column).
        scores: question name -> points earned (float, points). Empty when grading failed
            before any test ran; the grade table then shows 0 for every question.
        status: the engine's own words: ``"Completed"``, or why the submission could not be
            (fully) graded, with notes after ``"; "``. Rendered into ``grading_status`` by
            :func:`autograder.status.render_status`; never read back.
        results: the Gradescope-format ``results.json`` dict (``score``, ``tests[]``...),
            always present, also for failures.
        seconds: wall-clock grading time in seconds.
        findings: tampering found in the submission (:class:`autograder.findings.Finding`:
            the static screen's, plus what an engine saw at run time); any finding means
            ``needs review`` (:mod:`autograder.review`). ``scores`` and ``status`` stay what
            the tests gave.
        kind: what became of it, one of :data:`autograder.status.ENGINE_KINDS`
            (``"completed"``: every test ran). Set wherever ``status`` is.
    """

    label: str
    scores: dict[str, float]
    status: str
    results: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    kind: str = RAN

    def __post_init__(self) -> None:
        if self.kind not in ENGINE_KINDS:
            raise ValueError(f"{self.label}: unknown outcome kind {self.kind!r} (one of {', '.join(ENGINE_KINDS)})")

    @property
    def total(self) -> float:
        """Points earned over all questions."""
        return points_earned(self.scores)

    @classmethod
    def failure(cls, label: str, reason: str, seconds: float = 0.0) -> "GradingOutcome":
        """An outcome for a submission that could not be graded, with a results.json.

        Args:
            label: the submission's label.
            reason: why, naming the file; becomes ``grading_status`` and the test output.
                A reason that would read as another status (it starts with the file's
                name, and a file may be named ``Completed; x.ipynb`` or ``needs review:
                x.ipynb``) gets ``could not be graded: `` in front, so that no reader of
                ``grading_status`` takes a failure for a completed or flagged submission.
                Its kind is ``could not be graded``.
            seconds: time spent, in seconds.
        """
        if reason.lower().startswith(_STATUS_HEADS):
            reason = f"could not be graded: {reason}"
        results = {
            "score": 0,
            "output": f"This submission could not be graded: {reason}",
            "tests": [
                {
                    "name": "Submission could not be graded",
                    "status": "failed",
                    "score": 0,
                    "max_score": 0,
                    "output": reason,
                    "visibility": "visible",
                }
            ],
        }
        return cls(label=label, scores={}, status=reason, results=results, seconds=seconds, kind=NOT_GRADED)


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


def tests_stopped_note(test_file: str, seconds: float) -> str:
    """Note when the tests of one question did not end (a function that never returns when
    the tests call it): that question's test cases count as failed, the others are graded."""
    return f"the tests of {test_file} ran past {seconds:g} s and were stopped; its test cases count as failed"
