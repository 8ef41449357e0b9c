"""``gradkit review``: list flagged submissions and hand-set scores; record decisions,
scores set by hand, comments and confirmations."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import click

from . import CommandFailed, CommandUsageError, gradebook_lock

__all__ = ["main"]

log = logging.getLogger(__name__)


def _split_points(label: str, assignment: str) -> tuple[str, str, float]:
    """``("LABEL", "q3=4.5")`` -> ``("LABEL", "q3", 4.5)``; CommandUsageError if malformed."""
    question, sep, value = assignment.partition("=")
    if not sep or not question.strip():
        raise CommandUsageError(f"--set {label} {assignment}: give the question and points as Q=POINTS, e.g. q3=4.5")
    try:
        return label, question.strip(), float(value)
    except ValueError:
        raise CommandUsageError(f"--set {label} {assignment}: {value!r} is not a number of points") from None


def main(*, out_dir: Path, clear: tuple[str, ...] = (), reject: tuple[str, ...] = (), reopen: tuple[str, ...] = (),
         set_: tuple[tuple[str, str], ...] = (), unset: tuple[tuple[str, str], ...] = (),
         comment: tuple[tuple[str, str, str], ...] = (), confirm: tuple[tuple[str, str], ...] = (),
         history: tuple[str, ...] = (), note: str = "", wait: float = 0) -> None:
    """Record the decisions and overrides given, rewrite every output once, and print the
    flagged submissions and the scores set by hand (or the history asked for).

    Args:
        out_dir: a grading output folder holding ``gradebook.sqlite``.
        clear, reject, reopen: labels whose tests' scores count / that keep 0 / that go
            back to needs review (:func:`instructor.review_decisions.review`).
        set_: (label, ``"Q=POINTS"``) pairs: a question's points set by hand.
        unset: (label, question) pairs: hand-set points removed.
        comment: (label, question, text) triples: the comment for the student ("" removes it).
        confirm: (label, question) pairs: keep hand-set points on a changed submission.
        history: labels whose every decision and grading is printed.
        note: text kept in the history with the decisions and overrides made now.
        wait: seconds to wait when another command writes ``out_dir`` (listing alone
            does not lock).

    Every label, question and range is checked before anything changes.

    Raises:
        CommandUsageError: a malformed ``--set``, ``--note`` without a change, no gradebook,
            an unknown label or question, points out of range.
        CommandFailed: another command is writing ``out_dir``.
    """
    from instructor.gradebook import Gradebook
    from instructor.lock import FolderBusy
    from instructor.outputs import rebuild_outputs
    from instructor.overrides import (
        OverrideError, add_comment, check_override, confirm_override, history as label_history, history_text, override_listing, set_points,
        unset_points,
    )
    from instructor.review_decisions import ReviewError, review, review_listing

    decisions = bool(clear or reject or reopen)
    overrides = bool(set_ or unset or comment or confirm)
    if note and not (decisions or set_ or unset or confirm):
        raise CommandUsageError("--note is kept with a decision: give --clear, --reject, --reopen, --set, --unset or --confirm too")
    sets = [_split_points(label, assignment) for label, assignment in set_]
    log.info("%s: %d decision(s), %d override(s), %d history request(s)", out_dir,
             len(clear) + len(reject) + len(reopen), len(set_) + len(unset) + len(comment) + len(confirm), len(history))
    every = None  # every gradebook row, once changes are written
    try:
        # listing only reads the gradebook (safe while another command writes it); decisions lock
        with gradebook_lock(out_dir, wait) if (decisions or overrides) else contextlib.nullcontext():
            for label, question, points in sets:  # every label, question and range first: refuse before changing anything
                check_override(out_dir=out_dir, label=label, question=question, points=points)
            for label, question, *_ in (*unset, *comment, *confirm):
                check_override(out_dir=out_dir, label=label, question=question)
            wrote = False  # every output is rewritten once, after the last change (also when a later one fails)
            try:
                rows = review(out_dir=out_dir, clear=clear, reject=reject, reopen=reopen, note=note if decisions else "", rebuild=False)
                wrote = decisions
                for label, question, points in sets:
                    log.info("%s %s: %g points set by hand", label, question, points)
                    set_points(out_dir=out_dir, label=label, question=question, points=points, note=note, rebuild=False)
                    wrote = True
                for label, question in unset:
                    log.info("%s %s: hand-set points removed", label, question)
                    unset_points(out_dir=out_dir, label=label, question=question, note=note, rebuild=False)
                    wrote = True
                for label, question, text in comment:
                    log.info("%s %s: comment %s", label, question, "removed" if not text else "set")
                    add_comment(out_dir=out_dir, label=label, question=question, text=text, rebuild=False)
                    wrote = True
                for label, question in confirm:
                    log.info("%s %s: hand-set points confirmed", label, question)
                    confirm_override(out_dir=out_dir, label=label, question=question, note=note, rebuild=False)
                    wrote = True
            finally:
                if wrote:
                    log.info("%s: rewriting every output", out_dir)
                    every = rebuild_outputs(out_dir).rows
            events = {label: label_history(out_dir=out_dir, label=label) for label in history}
    except (ReviewError, OverrideError) as error:
        raise CommandUsageError(str(error)) from None
    except FolderBusy as error:
        raise CommandFailed(str(error)) from None
    if history:
        for label, found in events.items():
            click.echo(f"history of {label}:")
            click.echo(history_text(found))
        if not (decisions or overrides):
            return
    if every is None:  # read once: the flagged ones after overrides, and the override listing
        with Gradebook(out_dir) as book:
            every = book.rows()
    if overrides:
        rows = [r for r in every if r.findings]
    if rows or not overrides:  # after --set/--comment alone, "nothing flagged" is noise
        click.echo(review_listing(rows, out_dir=out_dir))
    listing = override_listing(every, out_dir=out_dir)
    if listing:
        click.echo(listing)
