"""``gradkit review``: list flagged submissions and record the instructor's decisions.

A submission the screen flags (:mod:`autograder.screen`) counts 0 until it is reviewed
(:mod:`autograder.review`). Clearing it restores what the tests gave; rejecting it keeps
the zeros. Decisions live in the gradebook, survive re-runs of ``gradkit grade`` (until
the submission's file changes) and every export is rewritten at once.
"""

from __future__ import annotations

import contextlib
import difflib
from pathlib import Path

from autograder.points import points_earned
from autograder.review import CLEARED, PENDING, REJECTED

from .gradebook import GRADEBOOK_FILE, Gradebook, GradebookRow
from .lock import output_lock
from .outputs import rebuild_outputs

__all__ = ["ReviewError", "review", "review_listing"]


class ReviewError(Exception):
    """The grading folder or a label given to ``gradkit review`` is wrong; says which."""


def review(*, out_dir: Path, clear: tuple[str, ...] = (), reject: tuple[str, ...] = (), reopen: tuple[str, ...] = (),
           note: str = "", rebuild: bool = True) -> list[GradebookRow]:
    """Record decisions, rewrite the exports, and return every flagged submission.

    Args:
        out_dir: a grading output folder written by ``gradkit grade``.
        clear: labels whose scores from the tests should count.
        reject: labels that keep 0 points.
        reopen: labels that go back to pending.
        note: text stored with each decision made in this call.
        rebuild: rewrite every output after the decisions (False: the caller makes more
            changes and calls :func:`instructor.outputs.rebuild_outputs` once after them).

    Returns:
        list[GradebookRow]: the flagged submissions (pending, cleared and rejected), by label.

    Raises:
        ReviewError: no gradebook in ``out_dir``, an unknown label, a label with nothing to
            review, or a label given two decisions.
        instructor.lock.FolderBusy: another command is writing ``out_dir``.

    Decisions rewrite every output from every row of the gradebook
    (:func:`instructor.outputs.rebuild_outputs`).
    """
    out_dir = Path(out_dir)
    if not (out_dir / GRADEBOOK_FILE).is_file():
        raise ReviewError(f"{out_dir}: no {GRADEBOOK_FILE} here; give the --out folder of `gradkit grade`")
    decisions = [(label, CLEARED) for label in clear] + [(label, REJECTED) for label in reject] + [(label, PENDING) for label in reopen]
    labels = [label for label, _ in decisions]
    twice = sorted({label for label in labels if labels.count(label) > 1})
    if twice:
        raise ReviewError(f"given more than one decision: {', '.join(twice)}")
    if note and not decisions:
        raise ReviewError("--note is kept with a decision: give --clear, --reject or --reopen too")
    with output_lock(out_dir) if decisions else contextlib.nullcontext(), Gradebook(out_dir) as book:
        labels = book.labels()
        for label, decision in decisions:
            try:
                book.decide(label, decision, note)
            except KeyError as error:
                near = [known for known in labels if known.endswith("/" + label)] or difflib.get_close_matches(label, labels, n=3)
                hint = f"; did you mean {', '.join(near)}?" if near else " (labels are the `file` column of grades.csv)"
                raise ReviewError(f"{error.args[0]}{hint}") from None
            except ValueError as error:
                raise ReviewError(str(error)) from None
        rows = rebuild_outputs(out_dir).rows if decisions and rebuild else book.rows()
    return [row for row in rows if row.findings]


def review_listing(rows: list[GradebookRow], *, out_dir: Path | str = "DIR") -> str:
    """A terminal listing: each flagged submission, its decision, raw score and findings
    (``out_dir``: the grading folder, named in the commands it suggests)."""
    if not rows:
        return "No submission was flagged."
    out = []
    for row in rows:
        state = {PENDING: "NEEDS REVIEW", CLEARED: "cleared", REJECTED: "rejected"}[row.review]
        raw = points_earned(row.raw_scores or {})
        out.append(f"{row.label}: {state} (tests gave {raw:g} points; counts {row.total:g})" + (f" - note: {row.review_note}" if row.review_note else ""))
        out += [f"    {f.text()}" for f in row.findings]
    pending = sum(1 for r in rows if r.needs_review)
    out.append(f"{len(rows)} flagged, {pending} pending.")
    if pending:
        out.append(f"Decide with: gradkit review {out_dir} --clear LABEL | --reject LABEL [--note TEXT]; --reopen LABEL undoes a decision.")
    out.append("Cell numbers count every cell of the notebook from the top, markdown included, as Jupyter shows them.")
    return "\n".join(out)

