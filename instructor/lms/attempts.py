"""Which attempt of a student counts: the latest, by one rule used everywhere.

students.csv (:func:`instructor.outputs.students_table`), the Canvas export's per-user-id
choice (:mod:`instructor.lms.canvas`) and the Gradescope submitters of the Canvas and
Moodle exports (:mod:`instructor.lms.gradescope_match`) all sort a student's attempts with
:func:`attempt_key` and keep the last one. It lives in the LMS package because its
tie-breaks read the LMS download names (:mod:`instructor.lms.names`).

The rule (:data:`LATEST_ATTEMPT_RULE`), compared in this order, the higher later:

1. Gradescope's ``:created_at`` (UTC ISO text, :func:`instructor.gradescope.normalize_time`,
   so text order is time order); an attempt without a time is earlier than any with one;
2. the Canvas resubmission number (the ``-N`` Canvas appends to a resubmitted file's stem,
   none = 0; ``shared/brief/lms.md``), then the Canvas attachment id (Canvas numbers
   uploads in increasing order), from the label's download name
   (:attr:`instructor.lms.names.SubmissionIdentity.attempt_order`);
3. the label in natural order: runs of digits compare as numbers, so Gradescope's
   ``submission_10`` is later than ``submission_9`` (Gradescope numbers submissions in
   increasing order), then the label as text, so the order is total and never depends on
   the order rows were read in.
"""

from __future__ import annotations

import re

from .names import parse_submission_name

__all__ = ["LATEST_ATTEMPT_RULE", "attempt_key", "latest_last"]

LATEST_ATTEMPT_RULE = (
    "the latest attempt counts: the latest Gradescope created_at (attempts without one first), then the highest Canvas "
    "resubmission number and attachment id, then the label in natural order (submission_10 after submission_9)"
)

_DIGITS = re.compile(r"(\d+)")


def _natural(label: str) -> tuple:
    """``label`` split into text and numbers: ``"s_10/a.ipynb"`` -> ``("s_", 10, "/a.ipynb")``.
    Two such tuples always hold text and numbers at the same positions, so they compare."""
    parts = _DIGITS.split(label)
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts))


def attempt_key(label: str, created_at: str | None = None) -> tuple:
    """The sort key of the latest-attempt rule (module docstring): the highest key counts.

    Args:
        label: the submission's label (grades.csv ``file``), str.
        created_at: Gradescope's ``:created_at`` as normalised UTC ISO text, or None.

    Returns:
        tuple: (has a time, time text, resubmission number, attachment id or -1, the label
        in natural order, the label); comparable with every other key.
    """
    return (bool(created_at), created_at or "", *parse_submission_name(label).attempt_order, _natural(label), label)


def latest_last(items: list, key) -> list:
    """``items`` sorted oldest first by the latest-attempt rule, so ``[-1]`` counts.

    Args:
        items: any objects (gradebook rows, graded submissions...).
        key: item -> (label, created_at or None).

    Returns:
        list: a new list, the attempt that counts last.
    """
    return sorted(items, key=lambda item: attempt_key(*key(item)))
