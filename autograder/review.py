"""What a screened submission counts for: the ``needs review`` rule.

A submission with findings (:mod:`autograder.screen`, or tampering the fork engine saw
while the code ran) is graded in full, but until an instructor decides (``gradkit
review``) its questions count 0 and its ``grading_status`` starts with ``needs review``.
Every question is affected: all tests run after every cell, so code anywhere in the
notebook can change any question's result. ``cleared`` restores the scores the tests
gave; ``rejected`` keeps the zeros. This module is the one place that rule lives; the
gradebook applies it to every export (grades.csv, students.csv, results/, feedback/, the
report, Canvas and Moodle).
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["CLEARED", "NEEDS_REVIEW", "PENDING", "REJECTED", "REJECTED_STATUS", "apply_review", "engine_status", "finding_text", "findings_summary", "results_score"]

NEEDS_REVIEW = "needs review"
"""Prefix of the ``grading_status`` of a flagged submission nobody has reviewed yet."""
PENDING, CLEARED, REJECTED = "", "cleared", "rejected"
"""Review decisions as stored in the gradebook ("" while pending)."""
REJECTED_STATUS = "rejected after review"
"""Prefix of the ``grading_status`` of a flagged submission an instructor rejected."""


def engine_status(status: str) -> str:
    """The engine's own ``grading_status`` inside a counted one (after ``"; graded: "``)."""
    return status.split("; graded: ", 1)[1] if "; graded: " in status else status


def finding_text(finding: dict[str, Any]) -> str:
    """``cell 12, line 3: <message>: `<code>``` (static), ``at run time: <message>`` (runtime)."""
    if finding.get("rule") == "runtime":
        return f"at run time: {finding['message']}"
    return f"cell {finding['cell']}, line {finding['line']}: {finding['message']}: `{finding['code']}`"


def findings_summary(findings: list[dict[str, Any]]) -> str:
    """The first finding's :func:`finding_text`, and how many more there are."""
    return finding_text(findings[0]) + (f" (and {len(findings) - 1} more)" if len(findings) > 1 else "")


def results_score(test: dict[str, Any]) -> str:
    """``"2 / 2 points"``: what a results.json test entry was worth before the review rule."""
    return f"{test.get('score', 0):g} / {test.get('max_score', 0):g} points"


def apply_review(scores: dict[str, float], status: str, results: dict[str, Any], findings: list[dict[str, Any]],
                 decision: str) -> tuple[dict[str, float], str, dict[str, Any]]:
    """The scores, status and results.json a submission counts for.

    Args:
        scores: question -> points the tests gave (points).
        status: the engine's ``grading_status``.
        results: the engine's Gradescope-format results.json dict (not modified).
        findings: :class:`autograder.screen.Finding` dicts; none means nothing to review.
        decision: ``PENDING`` (""), ``CLEARED`` or ``REJECTED``.

    Returns:
        (scores, status, results): unchanged without findings or when cleared (the status
        then notes the clearance); otherwise every question 0, the status
        ``needs review: <first finding>; graded: <status>`` (``rejected after review: ...``
        once rejected), and a results.json whose score and per-question scores are 0
        (each question's output says what the tests gave) with a visible first entry
        listing the findings.

    Raises:
        ValueError: an unknown decision.
    """
    if decision not in (PENDING, CLEARED, REJECTED):
        raise ValueError(f"unknown review decision {decision!r}")
    if not findings:
        return scores, status, results
    if decision == CLEARED:
        return scores, f"{status}; cleared after review", results
    head = NEEDS_REVIEW if decision == PENDING else REJECTED_STATUS
    new_status = f"{head}: {findings_summary(findings)}; graded: {status}"
    counted = copy.deepcopy(results)
    counted["score"] = 0
    for test in counted.get("tests", []):
        if "score" in test:  # each question's entry counts 0 too; its output says why
            gave = results_score(test)
            test["score"] = 0
            test["output"] = f"Counts 0 until an instructor reviews this submission (the tests gave {gave}).\n\n" + str(test.get("output", ""))
    listing = "\n".join(f"- {finding_text(f)}" for f in findings)
    counted.setdefault("tests", []).insert(0, {
        "name": "Needs instructor review" if decision == PENDING else "Rejected after instructor review",
        "status": "failed",
        "score": 0,
        "max_score": 0,
        "output": ("This submission contains code that can change how it is graded, so it counts 0 points "
                   f"until an instructor reviews it:\n{listing}"),
        "visibility": "visible",
    })
    return {q: 0.0 for q in scores}, new_status, counted
