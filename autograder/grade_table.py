"""The grade table (``grades.csv``) in the layout of otter's ``final_grades.csv``.

otter's own ``otter.grade.utils.merge_scores_to_df`` builds this table from
``GradingResults`` objects, which exist only inside the process that ran otter: gradkit
moves results between processes as JSON (never as pickles a submission could write), so
it rebuilds the same layout from :class:`~autograder.outcome.GradingOutcome` here.
"""

from __future__ import annotations

import pandas as pd

from .manual_questions import MANUAL_PENDING_COLUMN, pending_text, points_row_marker, question_order
from .outcome import GradingOutcome
from .points import points_earned, points_possible

__all__ = ["POINTS_POSSIBLE_LABEL", "grades_table"]

POINTS_POSSIBLE_LABEL = "points-per-question"
"""``file`` value of the first row, which holds the points possible (as in otter)."""


def grades_table(outcomes: list[GradingOutcome], points: dict[str, float], manual: dict[str, float] | None = None) -> pd.DataFrame:
    """Build the grade table.

    Args:
        outcomes: one per submission; every one gets a row, in the given order. A manual
            question is scored in ``outcome.scores`` when it has a number there.
        points: question name -> points possible, of the autograded questions, in order.
        manual: question name -> points possible, of the manually graded questions
            (:mod:`autograder.manual_questions`); None or {} for none.

    Returns:
        pandas.DataFrame: columns ``file``, one per question (points earned, float; see
        :func:`autograder.manual_questions.question_order`), ``total_points_earned``,
        ``percent_correct`` (0-100, 3 decimals) and ``grading_status``. The first row,
        ``file == "points-per-question"``, holds the points possible and
        ``percent_correct`` 100. With manual questions, a last column
        ``manual_pending`` lists the manual questions not scored yet (``q2;q4``); their
        cells are empty (NaN), not 0, the total adds up the scored questions only and the
        percentage is of every question's points. The first row's ``manual_pending`` names
        the manual questions (``manual questions: q2``).
    """
    manual = dict(manual or {})
    columns = question_order(points, manual)
    possible = points_possible(points, manual)
    first = {
        "file": POINTS_POSSIBLE_LABEL,
        **{q: float(p) for q, p in columns.items()},
        "total_points_earned": possible,
        "percent_correct": 100.0,
        "grading_status": "--",
    }
    if manual:
        first[MANUAL_PENDING_COLUMN] = points_row_marker(manual)
    rows = [first]
    for outcome in outcomes:
        scores = {q: float(outcome.scores.get(q, 0.0)) for q in points}
        scored = {q: float(outcome.scores[q]) for q in manual if outcome.scores.get(q) is not None}
        total = points_earned(scores, scored)
        row = {
            "file": outcome.label,
            **{q: (scores[q] if q in scores else scored.get(q)) for q in columns},
            "total_points_earned": round(total, 5),
            "percent_correct": round(100.0 * total / possible, 3) if possible else 0.0,
            "grading_status": outcome.status,
        }
        if manual:
            row[MANUAL_PENDING_COLUMN] = pending_text([q for q in manual if q not in scored])
        rows.append(row)
    extra = [MANUAL_PENDING_COLUMN] if manual else []
    return pd.DataFrame(rows, columns=["file", *columns, "total_points_earned", "percent_correct", "grading_status", *extra])
