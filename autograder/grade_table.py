"""The grade table (``grades.csv``) in the layout of otter's ``final_grades.csv``.

otter's own ``otter.grade.utils.merge_scores_to_df`` builds this table from
``GradingResults`` objects, which exist only inside the process that ran otter: gradkit
moves results between processes as JSON (never as pickles a submission could write), so
it rebuilds the same layout from :class:`~autograder.outcome.GradingOutcome` here.
"""

from __future__ import annotations

import pandas as pd

from .outcome import GradingOutcome

__all__ = ["POINTS_POSSIBLE_LABEL", "grades_table"]

POINTS_POSSIBLE_LABEL = "points-per-question"
"""``file`` value of the first row, which holds the points possible (as in otter)."""


def grades_table(outcomes: list[GradingOutcome], points: dict[str, float]) -> pd.DataFrame:
    """Build the grade table.

    Args:
        outcomes: one per submission; every one gets a row, in the given order.
        points: question name -> points possible, in question order.

    Returns:
        pandas.DataFrame: columns ``file``, one per question (points earned, float),
        ``total_points_earned``, ``percent_correct`` (0-100, 3 decimals) and
        ``grading_status``. The first row, ``file == "points-per-question"``, holds the
        points possible and ``percent_correct`` 100.
    """
    possible = float(sum(points.values()))
    rows = [
        {
            "file": POINTS_POSSIBLE_LABEL,
            **{q: float(p) for q, p in points.items()},
            "total_points_earned": possible,
            "percent_correct": 100.0,
            "grading_status": "--",
        }
    ]
    for outcome in outcomes:
        scores = {q: float(outcome.scores.get(q, 0.0)) for q in points}
        total = sum(scores.values())
        rows.append(
            {
                "file": outcome.label,
                **scores,
                "total_points_earned": round(total, 5),
                "percent_correct": round(100.0 * total / possible, 3) if possible else 0.0,
                "grading_status": outcome.status,
            }
        )
    return pd.DataFrame(rows, columns=["file", *points, "total_points_earned", "percent_correct", "grading_status"])
