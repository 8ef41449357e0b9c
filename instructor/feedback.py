"""A feedback file per submission, for the student: score per question and test output.

Public test results are always shown. Hidden test details (which hidden check failed and
its message) are shown with ``show_hidden=True``; without them a student sees the points
each question earned and the public feedback. Which one a grading folder writes follows the
assignment's ``gradkit: hidden_results`` (feedback files are handed out after grading, so
they count as published: details shown unless it is ``hidden``), unless the instructor
chose ``--show-hidden``/``--hide-hidden`` (:func:`instructor.outputs.feedback_shows_hidden`).
Hidden tests' messages never carry a reference value (the checks make sure of it).
Points an instructor set by hand are marked as such, and the instructor's comments
(:mod:`instructor.overrides`) are listed under their questions; the instructor's notes
are not shown.
"""

from __future__ import annotations

from pathlib import Path

from autograder.outcome import COMPLETED, is_completed

from .gradebook import GradebookRow, safe_name

__all__ = ["FEEDBACK_DIR", "feedback_text", "write_feedback"]

FEEDBACK_DIR = "feedback"


def feedback_text(row: GradebookRow, points: dict[str, float], *, show_hidden: bool = False) -> str:
    """Markdown feedback for one submission.

    Args:
        row: the gradebook row.
        points: question -> points possible.
        show_hidden: include the hidden tests' output per question.

    Returns:
        str: Markdown text.
    """
    possible = sum(points.values())
    lines = [f"# Feedback for {row.label}", "", f"**Score: {row.total:g} / {possible:g} points**", ""]
    if row.status != COMPLETED:
        lines += [f"Grading note: {row.status}", ""]
    hand = set(row.hand_set)
    lines += ["| question | points |", "|---|---|"]
    lines += [f"| {q} | {row.scores.get(q) or 0:g} / {p:g}{' (set by hand by the instructor)' if q in hand else ''} |"
              for q, p in points.items()]
    comments = row.comments
    if comments:
        lines += ["", "## Comments from the instructor", ""]
        lines += [f"- **{q}**: {text}" for q, text in comments.items()]
    tests = {t.get("name"): t for t in row.results.get("tests", [])}
    public = tests.get("Public Tests")
    if public is not None:
        lines += ["", "## Public tests", "", "```", public.get("output", "").strip(), "```"]
    autograded = [q for q in points if q not in hand]  # hand-set points were not lost in hidden tests
    if (not show_hidden and sum(row.scores.get(q) or 0 for q in autograded) < sum(points[q] for q in autograded)
            and is_completed(row.status)):
        lines += ["", "Points missing above were lost in hidden tests (values, unseen points, how each "
                  "gradient was computed); their details are not shown here."]
    if show_hidden:
        for q in points:
            if q in tests:
                lines += ["", f"## {q}: all tests", "", "```", tests[q].get("output", "").strip(), "```"]
    return "\n".join(lines) + "\n"


def write_feedback(rows: list[GradebookRow], points: dict[str, float], out_dir: Path, *, show_hidden: bool = False) -> None:
    """Write ``out_dir/feedback/<safe label>.md`` for every row."""
    folder = Path(out_dir) / FEEDBACK_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.md"):  # from an earlier run's submissions
        stale.unlink()
    for row in rows:
        (folder / (safe_name(row.label) + ".md")).write_text(feedback_text(row, points, show_hidden=show_hidden), encoding="utf-8")
