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
submission, ``...; override on a changed submission: q3 (it counts; confirm or unset it)``,
written by :func:`autograder.status.render_status` from :func:`hand_set` and
:func:`changed_questions` (structured; nothing reads the text back).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from autograder.status import CHANGED, SET_BY_HAND, format_score

__all__ = ["CHANGED", "Override", "SET_BY_HAND", "apply_overrides", "changed_questions", "format_score", "hand_set"]


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


def hand_set(overrides: dict[str, Override]) -> tuple[tuple[str, float], ...]:
    """(question, points) of every override with hand-set points, in ``overrides`` order."""
    return tuple((q, float(o.points)) for q, o in overrides.items() if o.points is not None)


def changed_questions(overrides: dict[str, Override], file_sha256: str, autograder_sha256: str) -> tuple[str, ...]:
    """Questions whose hand-set points were set on another file or autograder than the
    row's now (:meth:`Override.changed`), in ``overrides`` order."""
    return tuple(q for q, o in overrides.items() if o.changed(file_sha256, autograder_sha256))


def apply_overrides(scores: dict[str, float | None], results: dict[str, Any], overrides: dict[str, Override], *,
                    raw_scores: dict[str, float | None], points: dict[str, float]) -> tuple[dict[str, float | None], dict[str, Any]]:
    """The scores and results.json a submission counts for with its overrides (its status
    text: :func:`autograder.status.render_status` with :func:`hand_set` and :func:`changed_questions`).

    Args:
        scores: question -> points counted after the review rule (points; None: not scored).
        results: the Gradescope-format results.json after the review rule (not modified).
        overrides: question -> :class:`Override` of this submission.
        raw_scores: question -> what the tests gave (before the review rule).
        points: question -> points possible.

    Returns:
        (scores, results): unchanged without overrides. Otherwise each hand-set question
        counts its points; in results.json each such question's entry gets the points and
        an output saying they were set by hand and what the tests gave, comments are added
        to their question's entry (one is added for a question that has none), and the
        top-level ``score`` is the counted total.
    """
    if not overrides:
        return scores, results
    scores = dict(scores)
    counted = copy.deepcopy(results)
    tests = counted.setdefault("tests", [])
    by_name = {t.get("name"): t for t in tests if isinstance(t, dict)}
    hand = False
    for q, o in overrides.items():
        entry = by_name.get(q)
        if entry is None:
            entry = {"name": q, "score": 0.0, "max_score": float(points.get(q, 0.0)), "output": "", "visibility": "visible"}
            tests.append(entry)
            by_name[q] = entry
        lines = []
        if o.points is not None:
            scores[q] = float(o.points)
            hand = True
            gave = raw_scores.get(q)
            lines.append(f"Set by hand by the instructor: {format_score(o.points)} / {format_score(points.get(q))} points"
                         + (f" (the tests gave {format_score(gave)})." if gave is not None else "."))
            entry["score"] = float(o.points)
        if o.comment:
            lines.append(f"Comment from the instructor: {o.comment}")
        if lines:
            entry["output"] = "\n".join(lines) + ("\n\n" + str(entry.get("output", "")) if entry.get("output") else "\n")
    if hand:
        counted["score"] = float(sum(v for v in scores.values() if v is not None))
    return scores, counted
