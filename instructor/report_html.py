"""The instructor's HTML report of a grading run (``gradkit report DIR``).

One self-contained HTML file (plots embedded as PNG): the score distribution, the pass
rate of each question (share of submissions with full marks), the most frequent failure
messages of the checks, the submissions with problems, the scores set by hand and comments
(each override on a changed submission marked), and the slowest submissions.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections import Counter
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from autograder.points import points_possible  # noqa: E402

from .gradebook import GradebookRow  # noqa: E402
from .override_rule import CHANGED, format_score  # noqa: E402
from .atomic_files import write_text_atomic  # noqa: E402

__all__ = ["REPORT_FILE", "failure_messages", "manual_summary", "report_from_folder", "write_report"]

REPORT_FILE = "report.html"
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e-?\d+)?(?![\w])")
_MESSAGE = re.compile(r"^\s*(?:CheckFailed|AssertionError|[A-Za-z]+Error): (.+)$", re.M)


def failure_messages(row: GradebookRow) -> list[tuple[str, str]]:
    """(question, message) of every failed test case in a submission's results.

    Messages are the first line of each check's feedback, with the student's own numbers
    replaced by ``#`` (standalone numbers only, not the digits of names such as ``x1``)
    so that the same mistake counts once across submissions.
    """
    found = []
    for test in row.results.get("tests", []):
        name = test.get("name", "")
        if name == "Public Tests":
            continue
        for message in _MESSAGE.findall(test.get("output", "")):
            text = message.split(":", 1)[0] if len(message) > 160 else message
            # the student's own numbers (not digits inside names such as x1, float64)
            found.append((name, _NUMBER.sub("#", text)))
    return found


def _score(points: float | None) -> str:
    return "" if points is None else format_score(points)


def _table(df: pd.DataFrame) -> str:
    return df.to_html(index=False, escape=True) if len(df) else "<p>None.</p>"


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def write_report(rows: list[GradebookRow], points: dict[str, float], out_dir: Path, *, startup: dict | None = None,
                 manual: dict[str, float] | None = None) -> Path:
    """Write ``out_dir/report.html`` for the given submissions.

    "Slowest submissions" ranks submissions by their own grading time (seconds, from
    reading the file to the last test); the engine's start-up (the fork engine's zygotes,
    about 6 s each, once per grading thread) is not in any submission's time and is shown
    on its own line.

    Args:
        rows: gradebook rows.
        points: question -> points possible.
        out_dir: output folder.
        startup: ``{"engine": name, "seconds": [per grading thread]}`` of the last run that
            graded something (gradebook meta ``engine_startup``), or None.
        manual: question -> points possible, of the manually graded questions: listed in
            their own table (points possible, how many submissions are scored and how many
            await a score), with a line saying how many submissions await a manual score;
            pass rates are of the autograded questions.

    Returns:
        Path: the report's path.
    """
    manual = dict(manual or {})
    possible = points_possible(points, manual) or 1.0
    totals = [r.total for r in rows]
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hist(totals, bins=min(20, max(5, len(set(totals)))), range=(0, possible), color="#4c72b0")
    ax.set_xlabel("points")
    ax.set_ylabel("submissions")
    ax.set_title("Score distribution")
    dist = _png(fig)
    rates = {q: (sum(1 for r in rows if r.scores.get(q, 0) >= p) / len(rows) if rows else 0.0) for q, p in points.items()}
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.bar(list(rates), [100 * v for v in rates.values()], color="#55a868")
    ax.set_ylim(0, 100)
    ax.set_ylabel("% with full marks")
    ax.set_title("Pass rate per question")
    passes = _png(fig)
    counts = Counter(m for r in rows for m in failure_messages(r))
    common = pd.DataFrame([(q, m, n) for (q, m), n in counts.most_common(15)], columns=["question", "message", "submissions"])
    slow = pd.DataFrame([(r.label, round(r.seconds, 2), r.status) for r in sorted(rows, key=lambda r: -r.seconds)[:10]],
                        columns=["submission", "seconds", "status"])
    problems = pd.DataFrame([(r.label, r.status) for r in rows if not r.completed], columns=["submission", "grading_status"])
    hand = pd.DataFrame([(r.label, q, _score(o.points), _score((r.raw_scores or {}).get(q)),
                          CHANGED if q in r.changed_overrides else "", o.comment, o.note)
                         for r in rows for q, o in r.overrides.items()],
                        columns=["submission", "question", "set by hand", "tests gave", "warning", "comment", "note"])
    changed = [r.label for r in rows if r.changed_overrides]
    mean = sum(totals) / len(totals) if totals else 0.0
    manual_html = _manual_section(rows, manual)
    started = ""
    if startup and startup.get("seconds"):
        seconds = startup["seconds"]
        started = (f"<p>Engine start-up of the last grading run ({html.escape(str(startup.get('engine', '')))}): "
                   f"{sum(seconds):.1f} s over {len(seconds)} worker(s), not counted in any submission's time.</p>")
    body = f"""<!doctype html><html><head><meta charset="utf-8"><title>gradkit report</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.2em .5em;text-align:left}}</style></head><body>
<h1>Grading report</h1>
<p>{len(rows)} submissions, mean {mean:.2f} / {possible:g} points; {len(problems)} with grading problems.</p>
<img alt="score distribution" src="data:image/png;base64,{dist}">
<img alt="pass rate per question" src="data:image/png;base64,{passes}">
{manual_html}
<h2>Most frequent failure messages</h2>{_table(common)}
<h2>Submissions with grading problems</h2>{_table(problems)}
<h2>Scores set by hand and comments</h2>
<p>{sum(len(r.hand_set) for r in rows)} scores set by hand, {sum(len(r.comments) for r in rows)} comments;
{len(changed)} submission{"s" if len(changed) != 1 else ""} with an {html.escape(CHANGED)} (the override counts until confirmed
or unset: <code>gradkit review DIR --confirm LABEL Q</code> or <code>--unset LABEL Q</code>){
": " + html.escape(", ".join(changed)) if changed else ""}.</p>{_table(hand)}
<h2>Slowest submissions</h2>{started}{slow.to_html(index=False, escape=True)}
</body></html>"""
    path = Path(out_dir) / REPORT_FILE
    write_text_atomic(path, body)
    return path


def manual_summary(rows: list[GradebookRow], manual: dict[str, float]) -> str:
    """One sentence on the manually graded questions: which, and how many await a score.

    Returns:
        str: ``""`` without manual questions, else e.g. ``"Manually graded: q2 (3 points).
        2 of 2 submissions await a manual score (2 question scores in all); until scored,
        their totals count only the questions graded so far and the LMS exports write no
        grade for them."`` (or ``"... every submission is scored."``).
    """
    if not manual:
        return ""
    listed = ", ".join(f"{q} ({p:g} points)" for q, p in manual.items())
    waiting = [r for r in rows if r.manual_pending]
    if not waiting:
        return f"Manually graded: {listed}. Every submission is scored."
    scores = sum(len(r.manual_pending) for r in waiting)
    return (f"Manually graded: {listed}. {len(waiting)} of {len(rows)} submissions await a manual score "
            f"({scores} question score{'s' if scores != 1 else ''} in all); until scored, their totals count only the "
            "questions graded so far and the LMS exports write no grade for them.")


def _manual_section(rows: list[GradebookRow], manual: dict[str, float]) -> str:
    if not manual:
        return ""
    table = pd.DataFrame([(q, p, sum(1 for r in rows if r.manual_scores.get(q) is not None),
                           sum(1 for r in rows if r.manual_scores.get(q) is None)) for q, p in manual.items()],
                         columns=["question", "points possible", "scored", "awaiting a score"])
    return f"<h2>Manually graded questions</h2><p>{html.escape(manual_summary(rows, manual))}</p>{_table(table)}"


def report_from_folder(out_dir: Path, *, show_hidden: bool | None = None) -> Path:
    """Rebuild ``report.html`` of a grading output folder from its gradebook, with every
    other output (one rule for every output: :func:`instructor.outputs.rebuild_outputs`).

    Args:
        out_dir: the grading output folder.
        show_hidden: record ``--show-hidden`` (True) / ``--hide-hidden`` (False) for the
            feedback files; None keeps the earlier choice.

    Raises:
        FileNotFoundError: the folder has no gradebook.
        instructor.lock.FolderBusy: another command is writing the folder.
    """
    from .outputs import rebuild_outputs

    rebuild_outputs(out_dir, show_hidden=show_hidden)
    return Path(out_dir) / REPORT_FILE
