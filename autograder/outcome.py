"""The result of grading one submission, as every engine returns it.

The engines' status words (:func:`kernel_died_status`, :func:`interrupted_note`...) are
written in :mod:`autograder.status` and re-exported here for the engines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .findings import Finding
from .points import points_earned
from .status import (COMPLETED, ENGINE_KINDS, KERNEL_DIED, NOT_GRADED, RAN, TIMED_OUT, failure_text, interrupted_note,
                     kernel_died_status, output_capped_note, tests_stopped_note, timed_out_status)

__all__ = ["COMPLETED", "GradingOutcome", "interrupted_note", "kernel_died_status", "output_capped_note", "timed_out_status",
           "KERNEL_DIED", "NOT_GRADED", "RAN", "TIMED_OUT", "tests_stopped_note"]


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
        phases: where the time went, phase name -> wall-clock seconds (float), for
            profiling only (never stored as a grade, never shown to students). The ``fork``
            engine fills ``fork``, ``sandbox``, ``cells``, ``snapshot`` (library state
            checked and restored), ``tests`` and ``scoring``; the batch adds ``gradebook``.
            Empty when an engine does not measure them.
    """

    label: str
    scores: dict[str, float]
    status: str
    results: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    kind: str = RAN
    phases: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in ENGINE_KINDS:
            raise ValueError(f"{self.label}: unknown outcome kind {self.kind!r} (one of {', '.join(ENGINE_KINDS)})")

    def add_note(self, note: str) -> None:
        """Append ``note`` (one of :mod:`autograder.status`'s notes) to :attr:`status`, after ``"; "``."""
        self.status = f"{self.status}; {note}"

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
                A reason that would read as another status gets ``could not be graded: ``
                in front (:func:`autograder.status.failure_text`). Its kind is
                ``could not be graded``.
            seconds: time spent, in seconds.
        """
        reason = failure_text(reason)
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
