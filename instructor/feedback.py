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

from autograder.manual_questions import question_order
from autograder.points import points_possible
from autograder.status import COMPLETED

from .gradebook import GradebookRow, output_names

__all__ = ["FEEDBACK_DIR", "feedback_text", "write_feedback"]

FEEDBACK_DIR = "feedback"


def feedback_text(row: GradebookRow, points: dict[str, float], *, show_hidden: bool = False,
                  manual: dict[str, float] | None = None) -> str:
    """Markdown feedback for one submission.

    Args:
        row: the gradebook row.
        points: question -> points possible, of the autograded questions.
        show_hidden: include the hidden tests' output per question.
        manual: question -> points possible, of the manually graded questions; one not
            scored yet (``row.manual_scores``) reads "not graded yet", never 0.

    Returns:
        str: Markdown text.
    """
    manual = dict(manual or {})
    possible = points_possible(points, manual)
    pending = [q for q in manual if row.manual_scores.get(q) is None]
    lines = [f"# Feedback for {row.label}", "", f"**Score: {row.total:g} / {possible:g} points**", ""]
    if pending:
        lines += [f"Not final: {', '.join(pending)} ({sum(manual[q] for q in pending):g} points) "
                  f"{'is' if len(pending) == 1 else 'are'} graded by hand and {'has' if len(pending) == 1 else 'have'} "
                  "not been graded yet; the score counts the questions graded so far.", ""]
    if row.status != COMPLETED:  # anything beyond the plain "Completed" is worth a note
        lines += [f"Grading note: {row.status}", ""]
    hand = set(row.hand_set)
    lines += ["| question | points |", "|---|---|"]
    by_hand = " (set by hand by the instructor)"
    for q, p in question_order(points, manual).items():
        mark = by_hand if q in hand else ""
        if q not in manual:
            lines.append(f"| {q} | {row.scores.get(q) or 0:g} / {p:g}{mark} |")
        elif row.manual_scores.get(q) is None:
            lines.append(f"| {q} (graded by hand) | not graded yet / {p:g} |")
        else:
            lines.append(f"| {q} (graded by hand) | {row.manual_scores[q]:g} / {p:g} |")  # always set by hand
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
            and row.completed):
        lines += ["", "Points missing above were lost in hidden tests (values, unseen points, how each "
                  "gradient was computed); their details are not shown here."]
    if show_hidden:
        for q in points:
            if q in tests:
                lines += ["", f"## {q}: all tests", "", "```", tests[q].get("output", "").strip(), "```"]
    return "\n".join(lines) + "\n"


def write_feedback(rows: list[GradebookRow], points: dict[str, float], out_dir: Path, *, show_hidden: bool = False,
                   manual: dict[str, float] | None = None) -> None:
    """Write ``out_dir/feedback/<safe label>.md`` for every row (see :func:`feedback_text`;
    names by :func:`instructor.gradebook.output_names`, distinct per row)."""
    folder = Path(out_dir) / FEEDBACK_DIR
    folder.mkdir(parents=True, exist_ok=True)
    names = output_names(row.label for row in rows)
    current = {name + ".md" for name in names.values()}
    for stale in folder.glob("*.md"):  # from an earlier run's submissions
        if stale.name not in current:
            stale.unlink()
    for row in rows:
        path = folder / (names[row.label] + ".md")
        text = feedback_text(row, points, show_hidden=show_hidden, manual=manual)
        try:  # a class graded again with a few more submissions: only theirs are written
            if path.read_text(encoding="utf-8") == text:
                continue
        except (OSError, UnicodeDecodeError):
            pass
        path.write_text(text, encoding="utf-8")
