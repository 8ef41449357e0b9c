"""What a screened submission counts for: the ``needs review`` rule.

A submission with findings (:mod:`autograder.screen`, or tampering the fork engine saw
while the code ran) is graded in full, but until an instructor decides (``gradkit
review``) its questions count 0 and its ``grading_status`` starts with ``needs review`` (:mod:`autograder.status`).
Every question is affected: all tests run after every cell, so code anywhere in the
notebook can change any question's result. ``cleared`` restores the scores the tests
gave; ``rejected`` keeps the zeros. This module is the one place that rule lives; the
gradebook applies it to every export (grades.csv, students.csv, results/, feedback/, the
report, Canvas and Moodle).
"""

from __future__ import annotations

import copy
from typing import Any

from .findings import Finding
from .status import NEEDS_REVIEW, REJECTED_STATUS

__all__ = ["CLEARED", "NEEDS_REVIEW", "PENDING", "PENDING_ENTRY", "REJECTED", "REJECTED_ENTRY", "REJECTED_STATUS", "apply_review", "results_score"]

PENDING, CLEARED, REJECTED = "", "cleared", "rejected"
"""Review decisions as stored in the gradebook ("" while pending)."""
PENDING_ENTRY, REJECTED_ENTRY = "Needs instructor review", "Rejected after instructor review"
"""Names of the results.json entry that lists the findings, pending and rejected."""


def results_score(test: dict[str, Any]) -> str:
    """``"2 / 2 points"``: what a results.json test entry was worth before the review rule."""
    return f"{test.get('score', 0):g} / {test.get('max_score', 0):g} points"


def apply_review(scores: dict[str, float], results: dict[str, Any], findings: list[Finding],
                 decision: str) -> tuple[dict[str, float], dict[str, Any]]:
    """The scores and results.json a submission counts for (its status text is
    :func:`autograder.status.render_status`'s, from the same findings and decision).

    Args:
        scores: question -> points the tests gave (points).
        results: the engine's Gradescope-format results.json dict (not modified).
        findings: :class:`autograder.findings.Finding`; none means nothing to review.
        decision: ``PENDING`` (""), ``CLEARED`` or ``REJECTED``.

    Returns:
        (scores, results): unchanged without findings or when cleared; otherwise every
        question 0 and a results.json whose score and per-question scores are 0 (each
        question's output says what the tests gave) with a visible first entry listing
        the findings.

    Raises:
        ValueError: an unknown decision.
    """
    if decision not in (PENDING, CLEARED, REJECTED):
        raise ValueError(f"unknown review decision {decision!r}")
    if not findings or decision == CLEARED:
        return scores, results
    counted = copy.deepcopy(results)
    counted["score"] = 0
    for test in counted.get("tests", []):
        if "score" in test:  # each question's entry counts 0 too; its output says why
            gave = results_score(test)
            test["score"] = 0
            test["output"] = f"Counts 0 until an instructor reviews this submission (the tests gave {gave}).\n\n" + str(test.get("output", ""))
    listing = "\n".join(f"- {f.text()}" for f in findings)
    counted.setdefault("tests", []).insert(0, {
        "name": PENDING_ENTRY if decision == PENDING else REJECTED_ENTRY,
        "status": "failed",
        "score": 0,
        "max_score": 0,
        "output": ("This submission contains code that can change how it is graded, so it counts 0 points "
                   f"until an instructor reviews it:\n{listing}"),
        "visibility": "visible",
    })
    return {q: 0.0 for q in scores}, counted
