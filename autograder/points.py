"""Points possible and points earned: each computed here, once, for every output.

grades.csv's ``points-per-question`` row, feedback, the report and the LMS exports take the
points possible from :func:`points_possible`; the gradebook's rows and the grade table take
a submission's total from :func:`points_earned`.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["points_earned", "points_possible"]


def points_possible(points: Mapping[str, float], manual: Mapping[str, float] | None = None) -> float:
    """Points possible of the assignment (float, points): every autograded question's
    points (``points``: question -> points) plus every manually graded one's (``manual``)."""
    return float(sum(points.values()) + sum((manual or {}).values()))


def points_earned(scores: Mapping[str, float | None], manual_scores: Mapping[str, float | None] | None = None) -> float:
    """A submission's total (float, points): the questions' points (``scores``: question ->
    points, None where not scored) plus the manual questions scored so far
    (``manual_scores``, None while not scored: never counted as 0)."""
    return float(sum(v for v in scores.values() if v is not None)
                 + sum(v for v in (manual_scores or {}).values() if v is not None))
