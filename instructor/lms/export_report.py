"""What an LMS export did, row by row and submission by submission.

Nothing is dropped silently (``shared/brief/lms.md``, "What a grade export must never do"):
every roster row is either in ``matched`` or in ``without_submission``, and every row of
``grades.csv`` is accounted for exactly once (:meth:`ExportReport.accounted`): a group
submission (Gradescope, two or more submitters) in ``groups``, as one entry listing each
member's outcome; any other in exactly one of ``matched``, ``superseded``, ``unmatched``
or ``ambiguous`` (or ``manual_pending``, written no grade). (A group that fills several roster rows also appears in ``matched``
once per row filled, as ``matched`` lists roster rows.)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .common import format_points, write_text_atomic

__all__ = ["ExportReport", "GroupSubmission", "MatchedRow", "MemberOutcome", "RosterRow", "SubmissionNote", "report_json_path"]

OUTCOMES = ("matched", "superseded", "unmatched", "ambiguous")
"""What happened to a submission, or to one member of a group submission, in an export."""

_NO_GRADE = ("", "-")
"""Cell values that hold no grade: blank, and ``-`` (how Moodle's export shows "no grade")."""


@dataclass(frozen=True)
class MatchedRow:
    """A roster row filled with a submission's score.

    Attributes:
        row: the row's position in the instructor's CSV (header = 1, as a spreadsheet shows it).
        student: how the roster names the student (Canvas ``Student``; Moodle first + last name).
        key: the roster's identifier for the row (``ID 12345``, ``Email address a@b.c``).
        submission: the ``grades.csv`` label whose score was written.
        matched_on: how the submission was tied to the row, e.g. ``Canvas user id 12345``
            or ``name 'Jane Doe' (first last)``.
        points: the score written, float, points.
        status: the submission's ``grading_status`` text.
        late: Canvas's ``LATE_`` marker was in the download name.
        previous: the cell's value in the instructor's file before the export ('' if blank).
        completed: every test ran and the score stands (:attr:`instructor.lms.common.GradedSubmission.completed`).
        hand_set: questions whose points the instructor set by hand.
    """

    row: int
    student: str
    key: str
    submission: str
    matched_on: str
    points: float
    status: str
    late: bool = False
    previous: str = ""
    completed: bool = True
    hand_set: tuple[str, ...] = ()


@dataclass(frozen=True)
class SubmissionNote:
    """A submission that was not used as-is, and why.

    Attributes:
        submission: the ``grades.csv`` label.
        reason: a sentence saying what happened and what to check.
        rows: roster rows concerned (candidates of an ambiguous match, the row a
            superseded or non-completed attempt belongs to), header = 1.
    """

    submission: str
    reason: str
    rows: tuple[int, ...] = ()


@dataclass(frozen=True)
class RosterRow:
    """A roster row that got no score from this export.

    Attributes:
        row: position in the instructor's CSV (header = 1).
        student: the roster's name for the student.
        key: the roster's identifier for the row.
        value: the cell's value, kept as exported ('' for blank).
        reason: ``"no submission"`` or why the submissions found could not be used.
    """

    row: int
    student: str
    key: str
    value: str
    reason: str


def _hand_marker(hand: tuple[str, ...]) -> str:
    """`` (SET BY HAND: q3)`` for questions set by hand, else ``""``."""
    return f" (SET BY HAND: {', '.join(hand)})" if hand else ""


@dataclass
class MemberOutcome:
    """What a group submission did for one of its members.

    Attributes:
        member: the submitter (their email, else student id, else name).
        outcome: one of :data:`OUTCOMES` (``superseded``: the member's later submission,
            e.g. a solo one, counts for them); ``""`` only if the export never got to them.
        reason: for ``matched``, how the member was tied to the row; otherwise why not.
        rows: the roster rows concerned (header = 1).
    """

    member: str
    outcome: str = ""
    reason: str = ""
    rows: tuple[int, ...] = ()


@dataclass
class GroupSubmission:
    """One group submission (two or more submitters), listed once.

    Attributes:
        submission: the ``grades.csv`` label.
        members: each submitter's outcome, in the metadata's order.
    """

    submission: str
    members: list[MemberOutcome] = field(default_factory=list)


def report_json_path(out_csv: Path) -> Path:
    """The JSON report beside an export: ``canvas-import.csv`` -> ``canvas-import.report.json``."""
    out_csv = Path(out_csv)
    return out_csv.with_name(f"{out_csv.stem}.report.json")


@dataclass
class ExportReport:
    """The outcome of one Canvas or Moodle export.

    Attributes:
        platform: ``"canvas"`` or ``"moodle"``.
        source_csv: the instructor's export that was read (str path).
        grades_csv: the grade table that was read (str path).
        out_csv: the import file written (str path).
        column: the assignment/activity column filled.
        points_possible: the assignment's points possible (float, points).
        match_rule: one paragraph stating how submissions were tied to roster rows.
        matched: roster rows filled, in roster order.
        without_submission: roster rows left as exported (no usable submission), in roster order.
        unmatched: submissions that match no roster row (or carry no LMS name).
        ambiguous: submissions that match several roster rows, or compete for one.
        superseded: earlier attempts of a student whose latest attempt was used.
        groups: group submissions, each once with every member's outcome (they are in
            none of ``superseded``, ``unmatched`` and ``ambiguous``).
        not_completed: used submissions whose ``grading_status`` is not ``Completed``
            (their score, usually 0, was written: check them).
        manual_pending: submissions that would fill a row but have manually graded
            questions not scored yet: no grade is written (the row keeps its value and is
            in ``without_submission``), as their total is not final.
        replaced: matched rows whose cell held a different grade before (blank and
            Moodle's ``-`` for "no grade" do not count).
        notes: other things the instructor should know (points possible row, import hints).
        set_by_hand: used submissions with points an instructor set by hand (``gradkit
            review --set``): the score written includes them; the reason names the
            questions and any override on a changed submission.
        warnings: things that may make the LMS import go wrong although the file is
            correct (a Canvas column the importer is reported to skip); shown first.
    """

    platform: str
    source_csv: str
    grades_csv: str
    out_csv: str
    column: str
    points_possible: float
    match_rule: str
    matched: list[MatchedRow] = field(default_factory=list)
    without_submission: list[RosterRow] = field(default_factory=list)
    unmatched: list[SubmissionNote] = field(default_factory=list)
    ambiguous: list[SubmissionNote] = field(default_factory=list)
    superseded: list[SubmissionNote] = field(default_factory=list)
    not_completed: list[SubmissionNote] = field(default_factory=list)
    groups: list[GroupSubmission] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    set_by_hand: list[SubmissionNote] = field(default_factory=list)
    manual_pending: list[SubmissionNote] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def group(self, label: str) -> GroupSubmission | None:
        """The entry of the group submission ``label``, or None if it is not one."""
        return next((g for g in self.groups if g.submission == label), None)

    def account(self, outcome: str, label: str, reason: str, rows: tuple[int, ...] = (), member: str | None = None) -> None:
        """Record what happened to a submission: for a group submission (and a ``member``),
        in that member's line of its :attr:`groups` entry; otherwise as a note in the list
        named ``outcome`` (``superseded``, ``unmatched`` or ``ambiguous``; ``matched``
        notes nothing here, the roster row is in :attr:`matched`)."""
        group = self.group(label) if member is not None else None
        if group is not None:
            line = next((m for m in group.members if m.member == member), None)
            if line is None:
                line = MemberOutcome(member)
                group.members.append(line)
            line.outcome, line.reason, line.rows = outcome, reason, tuple(rows)
        elif outcome != "matched":
            getattr(self, outcome).append(SubmissionNote(label, reason, tuple(rows)))

    def accounted(self) -> list[tuple[str, str]]:
        """(label, where) for every submission the report lists, one per grades.csv row when
        the export is right: ``groups``, or the one list a solo submission is in (its
        ``matched`` rows counted once)."""
        grouped = {g.submission for g in self.groups}
        out = [(g.submission, "groups") for g in self.groups]
        seen = set()
        for m in self.matched:
            if m.submission not in grouped and m.submission not in seen:
                seen.add(m.submission)
                out.append((m.submission, "matched"))
        for key in ("superseded", "unmatched", "ambiguous", "manual_pending"):
            out += [(n.submission, key) for n in getattr(self, key)]
        return out

    @property
    def replaced(self) -> list[MatchedRow]:
        """Matched rows whose cell held another grade before the export (not blank or ``-``)."""
        return [m for m in self.matched if m.previous.strip() not in _NO_GRADE and m.previous.strip() != format_points(m.points)]

    @property
    def json_path(self) -> Path:
        """Where :meth:`write_json` writes: beside ``out_csv``."""
        return report_json_path(Path(self.out_csv))

    @property
    def needs_attention(self) -> bool:
        """True if anything besides clean matches happened."""
        return bool(self.without_submission or self.unmatched or self.ambiguous or self.superseded or self.not_completed or self.replaced
                    or self.manual_pending or self.warnings or any(m.outcome != "matched" for g in self.groups for m in g.members))

    def to_dict(self) -> dict:
        """A JSON-ready dict of every field, with ``counts`` and ``replaced`` added."""
        data = asdict(self)
        data["replaced"] = [asdict(m) for m in self.replaced]
        data["counts"] = {
            key: len(data[key])
            for key in ("matched", "without_submission", "unmatched", "ambiguous", "superseded", "not_completed", "replaced",
                        "manual_pending", "groups")
        }
        return data

    def write_json(self) -> Path:
        """Write :meth:`to_dict` atomically to :attr:`json_path`; returns that path."""
        path = self.json_path
        write_text_atomic(path, json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n")
        return path

    def to_text(self) -> str:
        """A plain-text summary for the terminal: counts first, then every listed item."""
        platform = {"canvas": "Canvas", "moodle": "Moodle"}.get(self.platform, self.platform)
        roster = len(self.matched) + len(self.without_submission)
        lines = [
            f"{platform} export: {len(self.matched)} of {roster} roster rows filled in column {self.column!r} "
            f"(points possible {format_points(self.points_possible)})",
            f"  read  {self.source_csv} and {self.grades_csv}",
            f"  wrote {self.out_csv} and {self.json_path}",
            f"  matching: {self.match_rule}",
        ]
        if self.manual_pending:
            lines.append(f"  NOT FINAL: {len(self.manual_pending)} submission{'s' if len(self.manual_pending) != 1 else ''} "
                         "await manual grading; their rows get no grade until every manual question is scored")

        def section(title: str, items: list[str]) -> None:
            if items:
                name, _, hint = title.partition(" — ")
                lines.append("")
                lines.append(f"{name} ({len(items)}){f' — {hint}' if hint else ''}:")
                lines.extend(f"  {item}" for item in items)

        section("WARNINGS — check before importing", list(self.warnings))
        section("matched", [
            f"row {m.row}: {m.student} [{m.key}] <- {m.submission}: {format_points(m.points)} points"
            f"{' (LATE)' if m.late else ''}{'' if m.completed else ' (NOT COMPLETED)'}{_hand_marker(m.hand_set)}"
            f" — {m.matched_on}"
            for m in self.matched
        ])
        section("scores set by hand — written as the instructor set them", [f"{n.submission}: {n.reason}" for n in self.set_by_hand])
        section("NOT COMPLETED grading — score written, check these", [
            f"{n.submission} (row{'s' if len(n.rows) > 1 else ''} {', '.join(map(str, n.rows))}): {n.reason}" for n in self.not_completed
        ])
        section("MANUAL GRADING PENDING — no grade written until every manual question is scored", [
            f"{n.submission} (row{'s' if len(n.rows) > 1 else ''} {', '.join(map(str, n.rows))}): {n.reason}" for n in self.manual_pending
        ])
        section("replaced a non-blank value", [
            f"row {m.row}: {m.student}: {m.previous!r} -> {format_points(m.points)}" for m in self.replaced
        ])
        section("superseded attempts — not used", [f"{n.submission}: {n.reason}" for n in self.superseded])
        section("group submissions — one entry each, per member", [
            f"{g.submission} (group of {len(g.members)}): " + "; ".join(
                f"{m.member}: {m.outcome or 'NOT ACCOUNTED FOR'}"
                + (f" row{'s' if len(m.rows) > 1 else ''} {', '.join(map(str, m.rows))}" if m.rows else "")
                + (f" — {m.reason}" if m.reason else "")
                for m in g.members)
            for g in self.groups
        ])
        section("UNMATCHED submissions — no roster row filled", [f"{n.submission}: {n.reason}" for n in self.unmatched])
        section("AMBIGUOUS submissions — no roster row filled", [f"{n.submission}: {n.reason}" for n in self.ambiguous])
        section("roster rows without a submission — cell kept as exported", [
            f"row {r.row}: {r.student} [{r.key}]: {r.reason}{f' (kept {r.value!r})' if r.value.strip() else ''}"
            for r in self.without_submission
        ])
        section("notes", list(self.notes))
        return "\n".join(lines)
