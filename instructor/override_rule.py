"""What a submission counts for once an instructor has set scores by hand: the override rule.

An instructor can set one question's points by hand (``gradkit review OUT --set LABEL
q3=4.5``, :mod:`instructor.overrides`) and leave a comment for the student. The
autograded score stays stored beneath the override; this module is the one place that
turns (autograded scores, overrides) into what every output counts and shows
(grades.csv, students.csv, results/, feedback/, report.html, the Canvas and Moodle
exports), as :mod:`autograder.review` is for the needs-review rule. It is applied after
that rule.

Choices (as nbgrader and Gradescope users expect):

* **A manual score wins.** An override counts whatever the submission's review state:
  on a flagged submission (pending or rejected) the other questions count 0 but a question
  the instructor scored by hand counts its hand-set points (nbgrader: a manual grade
  replaces the autograde).
* **An override on a changed submission keeps counting**, with a visible warning. An
  override is kept with the file hash and autograder hash of the submission it was set
  (or last confirmed) on. When ``gradkit grade`` stores a new autograded score because the
  file or the autograder zip changed, the override still counts (Gradescope keeps manual
  scores across a regrade) and the grading status says
  ``override on a changed submission: q3`` until the instructor confirms it
  (``--confirm``) or removes it (``--unset``).
* **One comment per question**, the latest (as Gradescope and nbgrader keep one comment
  per question); older ones stay in the gradebook's history. Comments are for the
  student (feedback, results.json); the instructor's notes stay in the history.

Statuses: ``<status>; set by hand: q3=4.5, q1=0`` and, while an override is on a changed
submission, ``...; override on a changed submission: q3 (it counts; confirm or unset it)``.
:func:`hand_set_questions` and :func:`changed_questions` read them back (the LMS exports
see only grades.csv).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["CHANGED", "Override", "SET_BY_HAND", "apply_overrides", "changed_questions", "format_score", "hand_set_questions"]

SET_BY_HAND = "set by hand"
"""Marker in ``grading_status`` (``; set by hand: q3=4.5``) of a submission with hand-set points."""
CHANGED = "override on a changed submission"
"""Marker in ``grading_status`` of a submission whose file or autograder changed after an override."""

_SET = re.compile(r"; " + SET_BY_HAND + r": ([^;]*)")
_CHANGED = re.compile(r"; " + CHANGED + r": ([^;(]*)")
_MARKER_TEXT = re.compile("(" + re.escape(SET_BY_HAND) + "|" + re.escape(CHANGED) + "):", re.IGNORECASE)


def format_score(points: float | None) -> str:
    """Points as written in statuses and listings: ``4.5``, ``2``, ``none`` (no score)."""
    return "none" if points is None else f"{float(points):g}"


@dataclass(frozen=True)
class Override:
    """One question's hand-set points and/or comment, as stored (gradebook ``overrides`` table).

    Attributes:
        label: the submission's label.
        question: the question name (``q3``).
        points: hand-set points (float, 0..possible), or None when only a comment is set.
        comment: the comment for the student (``""``: none).
        note: the instructor's note with the last change (not shown to the student).
        file_sha256, autograder_sha256: the submission's file and autograder hashes when
            the points were set or last confirmed.
        autograded: what the tests gave the question then (points; None: no autograded
            score, e.g. a manual question).
        set_at: ISO 8601 UTC time of the last change.
    """

    label: str
    question: str
    points: float | None
    comment: str
    note: str
    file_sha256: str
    autograder_sha256: str
    autograded: float | None
    set_at: str

    def changed(self, file_sha256: str, autograder_sha256: str) -> bool:
        """Whether hand-set points were set on another file or autograder than the row's now."""
        return self.points is not None and (self.file_sha256, self.autograder_sha256) != (file_sha256, autograder_sha256)


def hand_set_questions(status: str) -> list[str]:
    """Questions a ``grading_status`` says were set by hand (``[]`` if none)."""
    found = _SET.search(status or "")
    return [part.split("=", 1)[0].strip() for part in found.group(1).split(",") if part.strip()] if found else []


def changed_questions(status: str) -> list[str]:
    """Questions a ``grading_status`` lists as an override on a changed submission."""
    found = _CHANGED.search(status or "")
    return [part.strip() for part in found.group(1).split(",") if part.strip()] if found else []


def apply_overrides(scores: dict[str, float | None], status: str, results: dict[str, Any], overrides: dict[str, Override], *,
                    raw_scores: dict[str, float | None], points: dict[str, float], file_sha256: str,
                    autograder_sha256: str) -> tuple[dict[str, float | None], str, dict[str, Any]]:
    """The scores, status and results.json a submission counts for with its overrides.

    Args:
        scores: question -> points counted after the review rule (points; None: not scored).
        status: the ``grading_status`` after the review rule.
        results: the Gradescope-format results.json after the review rule (not modified).
        overrides: question -> :class:`Override` of this submission.
        raw_scores: question -> what the tests gave (before the review rule).
        points: question -> points possible.
        file_sha256, autograder_sha256: the row's current hashes (for "changed").

    Returns:
        (scores, status, results): unchanged without overrides (but for the markers'
        text in a status that did not come from this rule, e.g. a file name quoted in a
        failure status: written ``"set by hand":``, so that no reader takes it for one). Otherwise each hand-set
        question counts its points; the status gets ``; set by hand: q=p, ...`` (and
        ``; override on a changed submission: q, ...``); in results.json each such
        question's entry gets the points and an output saying they were set by hand and
        what the tests gave, comments are added to their question's entry (one is added
        for a question that has none), and the top-level ``score`` is the counted total.
    """
    # the markers mean what this rule wrote, never text a submission put there (a file named
    # "x; set by hand: q1=2.ipynb" is quoted in its failure status)
    status = _MARKER_TEXT.sub(r'"\1":', status or "")
    if not overrides:
        return scores, status, results
    scores = dict(scores)
    counted = copy.deepcopy(results)
    tests = counted.setdefault("tests", [])
    by_name = {t.get("name"): t for t in tests if isinstance(t, dict)}
    hand, changed = [], []
    for q, o in overrides.items():
        entry = by_name.get(q)
        if entry is None:
            entry = {"name": q, "score": 0.0, "max_score": float(points.get(q, 0.0)), "output": "", "visibility": "visible"}
            tests.append(entry)
            by_name[q] = entry
        lines = []
        if o.points is not None:
            scores[q] = float(o.points)
            hand.append(f"{q}={format_score(o.points)}")
            gave = raw_scores.get(q)
            lines.append(f"Set by hand by the instructor: {format_score(o.points)} / {format_score(points.get(q))} points"
                         + (f" (the tests gave {format_score(gave)})." if gave is not None else "."))
            entry["score"] = float(o.points)
            if o.changed(file_sha256, autograder_sha256):
                changed.append(q)
        if o.comment:
            lines.append(f"Comment from the instructor: {o.comment}")
        if lines:
            entry["output"] = "\n".join(lines) + ("\n\n" + str(entry.get("output", "")) if entry.get("output") else "\n")
    if hand:
        status = f"{status}; {SET_BY_HAND}: {', '.join(hand)}"
        counted["score"] = float(sum(v for v in scores.values() if v is not None))
    if changed:
        status = f"{status}; {CHANGED}: {', '.join(changed)} (it counts; confirm or unset it)"
    return scores, status, counted
