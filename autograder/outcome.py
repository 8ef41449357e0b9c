"""The result of grading one submission, as every engine returns it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["COMPLETED", "GradingOutcome", "interrupted_note", "is_completed", "kernel_died_status", "output_capped_note", "timed_out_status"]

COMPLETED = "Completed"
"""``grading_status`` of a submission that was executed and tested (as in otter's table).
Notes may follow after ``"; "`` (an interrupted cell, capped output)."""


_STATUS_HEADS = (COMPLETED.lower(), "needs review", "rejected after review", "could not be graded")
"""Beginnings of ``grading_status`` that say what became of a submission (autograder.review's prefixes too)."""


def is_completed(status: str) -> bool:
    """Whether a ``grading_status`` says every test ran (``"Completed"``, possibly with notes)."""
    return status == COMPLETED or status.startswith(COMPLETED + "; ")


@dataclass
class GradingOutcome:
    """Scores and feedback of one submission.

    Attributes:
        label: the submission's unique label (the ``file`` column).
        scores: question name -> points earned (float, points). Empty when grading failed
            before any test ran; the grade table then shows 0 for every question.
        status: ``"Completed"``, or why the submission could not be (fully) graded.
        results: the Gradescope-format ``results.json`` dict (``score``, ``tests[]``...),
            always present, also for failures.
        seconds: wall-clock grading time in seconds.
        findings: tampering found in the submission, as
            :meth:`autograder.screen.Finding.to_dict` dicts (the static screen, plus what an
            engine saw at run time); any finding means ``needs review``
            (:mod:`autograder.review`). ``scores`` and ``status`` stay what the tests gave.
    """

    label: str
    scores: dict[str, float]
    status: str
    results: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    findings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total(self) -> float:
        """Points earned over all questions."""
        return float(sum(self.scores.values()))

    @classmethod
    def failure(cls, label: str, reason: str, seconds: float = 0.0) -> "GradingOutcome":
        """An outcome for a submission that could not be graded, with a results.json.

        Args:
            label: the submission's label.
            reason: why, naming the file; becomes ``grading_status`` and the test output.
                A reason that would read as another status (it starts with the file's
                name, and a file may be named ``Completed; x.ipynb`` or ``needs review:
                x.ipynb``) gets ``could not be graded: `` in front, so that no reader of
                ``grading_status`` (:func:`is_completed`, the review prefixes) takes a
                failure for a completed or flagged submission.
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
        return cls(label=label, scores={}, status=reason, results=results, seconds=seconds)


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
