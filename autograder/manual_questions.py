"""Manually graded questions (Otter Assign's ``manual: true``): what the autograder zip
says about them, and how a score table shows them before and after they are scored.

Otter Assign writes no test file for a manual question (Gradescope grades it by hand), so
the points it is worth are not in the zip's ``tests/``. ``gradkit build`` records them in
:data:`MANUAL_QUESTIONS_FILE` at the zip's root (:mod:`instructor.manual_build`); grading
reads them back with :func:`read_manual_questions`.

The state of a manual question for one submission is its score, ``float`` points, or
``None``: **not scored yet**. A manual question is scored when a per-question score for it
exists (an instructor's score override is the way one is given); until then it is never
counted as 0: grade tables leave its cell empty and list it in :data:`MANUAL_PENDING_COLUMN`,
totals add up the scored questions only, and the LMS exports write no grade for the
submission (:mod:`instructor.lms`).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

__all__ = [
    "MANUAL_PENDING_COLUMN", "MANUAL_QUESTIONS_FILE", "manual_entries", "manual_questions_json", "marked_questions", "parse_pending", "pending_text",
    "points_row_marker", "question_order", "read_manual_questions", "split_scores",
]

MANUAL_QUESTIONS_FILE = "gradkit_manual_questions.json"
"""Name of the file at the autograder zip's root that lists the manual questions:
``{"manual_questions": [{"name": "q2", "points": 3.0}, ...]}`` in notebook order."""

MANUAL_PENDING_COLUMN = "manual_pending"
"""Column of grades.csv and students.csv (only when the assignment has manual questions):
the manual questions still awaiting a score, ``;``-separated (empty: all scored)."""

_POINTS_ROW_PREFIX = "manual questions: "


def manual_questions_json(questions: dict[str, float]) -> str:
    """The text of :data:`MANUAL_QUESTIONS_FILE` for ``questions`` (name -> points, in order)."""
    return json.dumps({"manual_questions": [{"name": q, "points": float(p)} for q, p in questions.items()]}, indent=2) + "\n"


def read_manual_questions(autograder_zip: Path) -> dict[str, float]:
    """The manual questions an autograder zip was built with.

    Args:
        autograder_zip: a zip from ``gradkit build``.

    Returns:
        dict[str, float]: question name -> points possible, in notebook order; ``{}`` when the
        zip has no :data:`MANUAL_QUESTIONS_FILE` (no manual questions, or not built by gradkit).

    Raises:
        autograder.autograder_zip.AutograderZipError: not a zip, or the file is malformed
            (the message names the zip and the file).
    """
    from .autograder_zip import AutograderZipError

    try:
        with zipfile.ZipFile(autograder_zip) as archive:
            if MANUAL_QUESTIONS_FILE not in archive.namelist():
                return {}
            raw = archive.read(MANUAL_QUESTIONS_FILE)
    except (zipfile.BadZipFile, FileNotFoundError, IsADirectoryError) as error:
        raise AutograderZipError(f"{autograder_zip}: not an Otter autograder zip ({error})") from None
    where = f"{autograder_zip}: {MANUAL_QUESTIONS_FILE}"
    try:
        entries = json.loads(raw)["manual_questions"]
        questions = {str(e["name"]): float(e["points"]) for e in entries}
    except (ValueError, KeyError, TypeError) as error:
        raise AutograderZipError(f"{where} is malformed ({type(error).__name__}: {error}); rebuild with `gradkit build`") from None
    return questions


def question_order(autograded: dict[str, float], manual: dict[str, float]) -> dict[str, float]:
    """Every question's points possible, autograded and manual, in one column order.

    The order is by question name, as :func:`autograder.autograder_zip.question_points`
    orders the autograded questions, so a manual question sits among them (``q1, q2, q3``).

    Args:
        autograded: question -> points of the questions with tests.
        manual: question -> points of the manual questions.

    Returns:
        dict[str, float]: question -> points possible.
    """
    return dict(sorted({**autograded, **manual}.items()))


def split_scores(scores: dict[str, float], manual: dict[str, float]) -> tuple[dict[str, float], dict[str, float | None]]:
    """Separate a submission's per-question scores into autograded and manual ones.

    A manual question counts as scored when ``scores`` holds a number for it (a score
    override gives one); otherwise it is ``None``, not scored yet.

    Args:
        scores: question -> points (the tests' scores, plus any scores given by hand).
        manual: the assignment's manual questions (question -> points possible).

    Returns:
        (autograded, manual_scores): ``scores`` without the manual questions, and manual
        question -> points earned or ``None``, in the order of ``manual``.
    """
    autograded = {q: s for q, s in scores.items() if q not in manual}
    manual_scores = {q: (float(scores[q]) if scores.get(q) is not None else None) for q in manual}
    return autograded, manual_scores


def pending_text(pending: list[str]) -> str:
    """The :data:`MANUAL_PENDING_COLUMN` cell: pending question names, ``;``-separated."""
    return ";".join(pending)


def points_row_marker(manual: dict[str, float]) -> str:
    """The :data:`MANUAL_PENDING_COLUMN` cell of the points-possible row: which columns are
    manually graded (``manual questions: q2;q4``)."""
    return _POINTS_ROW_PREFIX + pending_text(list(manual))


def marked_questions(cell: str) -> tuple[str, ...]:
    """The manual questions a :func:`points_row_marker` cell names."""
    return parse_pending((cell or "").removeprefix(_POINTS_ROW_PREFIX))


def parse_pending(cell: str) -> tuple[str, ...]:
    """The question names of a :data:`MANUAL_PENDING_COLUMN` cell of a submission row."""
    return tuple(q for q in (cell or "").split(";") if q.strip())


def manual_entries(manual: dict[str, float], manual_scores: dict[str, float | None]) -> list[dict[str, Any]]:
    """Gradescope results.json test entries for the manual questions (visible).

    A question not scored yet has ``max_score`` and no ``score`` (Gradescope's format lets
    a test omit it); a scored one has both.

    Args:
        manual: question -> points possible.
        manual_scores: question -> points earned or ``None``.

    Returns:
        list[dict]: one entry per manual question, in order; ``extra_data`` says
        ``{"manual": true, "pending": bool}``.
    """
    entries = []
    for q, possible in manual.items():
        score = manual_scores.get(q)
        entry: dict[str, Any] = {"name": f"{q} (manually graded)", "max_score": float(possible)}
        if score is None:
            entry["output"] = f"{q} is graded by hand and has not been scored yet ({possible:g} points possible)."
        else:
            entry["score"] = float(score)
            entry["output"] = f"{q} was graded by hand: {score:g} / {possible:g} points."
        entry["visibility"] = "visible"
        entry["extra_data"] = {"manual": True, "pending": score is None}
        entries.append(entry)
    return entries
