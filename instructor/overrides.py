"""Score overrides, comments and the history of a submission: the grading desk's Python API.

``gradkit review OUT --set/--unset/--comment/--confirm/--history`` and the web page
(``gradkit serve``) both call these functions. Each write takes the folder's writer lock
(:mod:`instructor.lock`), writes the gradebook (its ``overrides`` table; the autograded
scores stay stored beneath), appends an event to the gradebook's ``events`` table (time,
decision, old and new values, note; nothing is overwritten) and rewrites every output with
:func:`instructor.outputs.rebuild_outputs`. What an override counts for, on a flagged or a
changed submission, is :mod:`instructor.override_rule`.
"""

from __future__ import annotations

import difflib
import json
import math
from pathlib import Path

from .gradebook import GRADEBOOK_FILE, Gradebook, GradebookEvent, GradebookRow
from .lock import output_lock
from .override_rule import CHANGED, SET_BY_HAND, format_score
from .outputs import rebuild_outputs

__all__ = ["OverrideError", "add_comment", "check_override", "confirm_override", "history", "history_text", "override_listing", "set_points",
           "unset_points"]


class OverrideError(ValueError):
    """A label, question or points value given to an override is wrong; the one-line
    message says which (with the nearest labels or questions when one is unknown)."""


def _book(out_dir: Path) -> Path:
    out_dir = Path(out_dir)
    if not (out_dir / GRADEBOOK_FILE).is_file():
        raise OverrideError(f"{out_dir}: no {GRADEBOOK_FILE} here; give the --out folder of `gradkit grade`")
    return out_dir


def _check_label(book: Gradebook, out_dir: Path, label: str) -> None:
    labels = book.labels()
    if label in labels:
        return
    near = [known for known in labels if known.endswith("/" + label)] or difflib.get_close_matches(label, labels, n=3)
    hint = f"; did you mean {', '.join(near)}?" if near else " (labels are the `file` column of grades.csv)"
    raise OverrideError(f"{out_dir}: no submission labelled {label!r}{hint}")


def _possible(book: Gradebook, label: str, question: str) -> float:
    """Points possible of ``question`` from the gradebook's points table (OverrideError if unknown)."""
    points = {**book.points(), **book.manual_questions()}  # manual questions get their points by hand
    if question in points:
        return float(points[question])
    near = [q for q in points if q.casefold() == question.casefold()] or difflib.get_close_matches(question, list(points), n=3)
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    raise OverrideError(f"{label}: no question {question!r} in this assignment{hint} (questions: {', '.join(points) or 'none'})")


def check_override(*, out_dir: Path, label: str, question: str, points: float | None = None) -> None:
    """Check, without writing, that ``label`` and ``question`` exist (and that ``points``,
    when given, lie in 0..possible), so that a command making several changes can refuse
    before making any. Reads only.

    Raises:
        OverrideError: as :func:`set_points` would.
    """
    out_dir = _book(out_dir)
    with Gradebook(out_dir) as book:
        _check_label(book, out_dir, label)
        possible = _possible(book, label, question)
    if points is not None:
        _check_points(label, question, points, possible)


def _check_points(label: str, question: str, points, possible: float) -> float:
    try:
        value = float(points)
    except (TypeError, ValueError):
        raise OverrideError(f"{label}: {question}: points must be a number, got {points!r}") from None
    if not math.isfinite(value) or not 0 <= value <= possible:
        raise OverrideError(f"{label}: {question}: points must be between 0 and {possible:g}, got {value:g}")
    return value


def _write(out_dir: Path, label: str, question: str, action, rebuild: bool) -> GradebookRow:
    """Under the lock: check label and question, run ``action(book, possible)``, rebuild
    every output when ``rebuild``, return the row as now counted."""
    out_dir = _book(out_dir)
    with output_lock(out_dir):
        with Gradebook(out_dir) as book:
            _check_label(book, out_dir, label)
            possible = _possible(book, label, question)
            try:
                action(book, possible)
            except ValueError as error:
                raise OverrideError(str(error)) from None
            if not rebuild:
                return book.rows([label])[0]
        rebuilt = rebuild_outputs(out_dir)
    return next(row for row in rebuilt.rows if row.label == label)


def set_points(*, out_dir: Path, label: str, question: str, points: float, note: str = "", rebuild: bool = True) -> GradebookRow:
    """Set one question's points by hand; every output shows them, marked as set by hand.

    The autograded score stays stored beneath. Setting again replaces the points (the
    history keeps the old ones). The question may have no autograded score (a manual
    question): its points possible come from the gradebook's points table.

    Args:
        out_dir: a grading output folder written by ``gradkit grade``.
        label: the submission (the ``file`` column of grades.csv).
        question: the question name, e.g. ``"q3"``.
        points: points to count, 0 <= points <= the question's points possible (float).
        note: the instructor's reason, kept in the history (not shown to the student).
        rebuild: rewrite every output now (:func:`instructor.outputs.rebuild_outputs`);
            False when the caller makes several changes and rebuilds once after them.

    Returns:
        GradebookRow: the submission's row as now counted.

    Raises:
        OverrideError: no gradebook, an unknown label or question (with suggestions), or
            points outside 0..possible or not a finite number.
        instructor.lock.FolderBusy: another command is writing ``out_dir``.
    """
    def action(book: Gradebook, possible: float) -> None:
        book.set_override(label, question, _check_points(label, question, points, possible), note)

    return _write(out_dir, label, question, action, rebuild)


def unset_points(*, out_dir: Path, label: str, question: str, note: str = "", rebuild: bool = True) -> GradebookRow:
    """Remove one question's hand-set points: the autograded score counts again (a comment stays).

    Args:
        out_dir, label, question, rebuild: as for :func:`set_points`.
        note: kept in the history.

    Returns:
        GradebookRow: the row as now counted.

    Raises:
        OverrideError: no gradebook, unknown label or question, or no points set by hand there.
        instructor.lock.FolderBusy: another command is writing ``out_dir``.
    """
    return _write(out_dir, label, question, lambda book, _: book.unset_override(label, question, note), rebuild)


def add_comment(*, out_dir: Path, label: str, question: str, text: str, rebuild: bool = True) -> GradebookRow:
    """Set the instructor's comment for the student on one question (shown in feedback/ and
    results/); it replaces the question's previous comment (kept in the history), and
    ``text=""`` removes it.

    Args:
        out_dir, label, question, rebuild: as for :func:`set_points`.
        text: the comment (Markdown text for the feedback file).

    Returns:
        GradebookRow: the row as now counted.

    Raises:
        OverrideError: no gradebook, unknown label or question, or an empty text where
            there is no comment to remove.
        instructor.lock.FolderBusy: another command is writing ``out_dir``.
    """
    return _write(out_dir, label, question, lambda book, _: book.set_comment(label, question, str(text).strip()), rebuild)


def confirm_override(*, out_dir: Path, label: str, question: str, note: str = "", rebuild: bool = True) -> GradebookRow:
    """Confirm hand-set points on a changed submission (its file or the autograder changed
    after they were set): they stay, and the submission is no longer listed as an
    "override on a changed submission".

    Args:
        out_dir, label, question, rebuild: as for :func:`set_points`.
        note: kept in the history.

    Returns:
        GradebookRow: the row as now counted.

    Raises:
        OverrideError: no gradebook, unknown label or question, no points set by hand
            there, or nothing changed since they were set.
        instructor.lock.FolderBusy: another command is writing ``out_dir``.
    """
    return _write(out_dir, label, question, lambda book, _: book.confirm_override(label, question, note), rebuild)


def history(*, out_dir: Path, label: str) -> list[GradebookEvent]:
    """Every event of a submission, oldest first: gradings, relabellings, review decisions,
    overrides, comments, confirmations; events recorded under its earlier labels (before a
    relabelling) included. Reads only (no lock).

    Raises:
        OverrideError: no gradebook, or no event and no row has that label (with suggestions).
    """
    out_dir = _book(out_dir)
    with Gradebook(out_dir) as book:
        everything = book.events()
        mine = [e for e in everything if e.label == label]
        if not mine:
            _check_label(book, out_dir, label)
        # follow relabellings back: events of the old label up to the relabelling
        result, name, upto = [], label, len(everything)
        while True:
            index = next((i for i in range(upto - 1, -1, -1) if everything[i].label == name and everything[i].action == "relabelled"), None)
            start = index if index is not None else -1
            result = [e for e in everything[start + 1:upto] if e.label == name] + result
            if index is None:
                break
            result.insert(0, everything[index])
            try:
                name = json.loads(everything[index].old).get("label", "")
            except ValueError:
                break
            upto = index
            if not name:
                break
        return result


def _decision(event: GradebookEvent) -> str:
    if event.action != "reviewed":
        return event.action
    try:
        decision = json.loads(event.new or "{}").get("review", "")
    except ValueError:
        decision = ""
    return {"cleared": "cleared", "rejected": "rejected"}.get(decision, "reopened")


def _describe(event: GradebookEvent) -> str:
    try:
        old = json.loads(event.old) if event.old else {}
        new = json.loads(event.new) if event.new else {}
    except ValueError:
        return f"{event.old} -> {event.new}"
    if event.action in ("set", "unset", "confirmed", "commented"):
        q = new.get("question") or old.get("question", "")
        if event.action == "commented":
            return f"{q}: comment {old.get('comment', '')!r} -> {new.get('comment', '')!r}"
        tests = f"tests gave {format_score(new.get('autograded'))}"
        return (f"{q}: counts {format_score(old.get('counted'))} -> {format_score(new.get('counted'))}"
                f" (set by hand {format_score(old.get('points'))} -> {format_score(new.get('points'))}; {tests})")
    if event.action == "relabelled":
        return f"label {old.get('label', '')} -> {new.get('label', '')}"
    if event.action == "removed":
        return f"removed (was {format_score(old.get('total'))} points, {old.get('status', '')})"
    if event.action == "reviewed":
        return (f"review {old.get('review') or 'pending'} -> {new.get('review') or 'pending'}"
                f" (tests gave {format_score(new.get('total'))} points)")
    if event.action == "graded":
        changed = ""
        if old and old.get("file_sha256") != new.get("file_sha256"):
            changed = ", file changed"
        elif old and old.get("autograder_sha256") != new.get("autograder_sha256"):
            changed = ", autograder changed"
        was = f" (was {format_score(old.get('total'))}{changed})" if old else ""
        return f"tests gave {format_score(new.get('total'))} points{was}: {new.get('status', '')}"
    return f"{event.old} -> {event.new}"


def history_text(events: list[GradebookEvent]) -> str:
    """Terminal lines, one per event: ``<time>  <decision>  <what changed>  - note: <note>``."""
    if not events:
        return "No events."
    return "\n".join(f"{e.time}  {_decision(e):<10} {_describe(e)}" + (f"  - note: {e.note}" if e.note else "") for e in events)


def override_listing(rows: list[GradebookRow], *, out_dir: Path | str = "DIR") -> str:
    """Terminal lines about scores set by hand: every override on a changed submission
    (first), then every hand-set score and comment. ``""`` when there is none."""
    changed = [r for r in rows if r.changed_overrides]
    hand = [r for r in rows if r.overrides]
    if not hand:
        return ""
    out = []
    if changed:
        out.append(f"{len(changed)} with an {CHANGED.upper()} (the override counts until confirmed or unset):")
        for r in changed:
            for q in r.changed_overrides:
                o = r.overrides[q]
                now = (r.raw_scores or {}).get(q)
                out.append(f"  {r.label} {q}: set by hand {format_score(o.points)}; the tests gave {format_score(o.autograded)}"
                           f" then, {format_score(now)} now")
        out.append(f"Decide with: gradkit review {out_dir} --confirm LABEL Q | --unset LABEL Q")
    out.append(f"{sum(len(r.hand_set) for r in hand)} scores {SET_BY_HAND}, {sum(len(r.comments) for r in hand)} comments:")
    for r in hand:
        for q, o in r.overrides.items():
            parts = []
            if o.points is not None:
                gave = (r.raw_scores or {}).get(q)
                parts.append(f"{format_score(o.points)} set by hand " + (f"(tests gave {format_score(gave)})" if gave is not None
                                                                         else "(no autograded score)"))
            if o.comment:
                parts.append(f"comment: {o.comment}")
            out.append(f"  {r.label} {q}: " + "; ".join(parts) + (f" - note: {o.note}" if o.note else ""))
    return "\n".join(out)
