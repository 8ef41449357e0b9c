"""Tying groups of submissions (one group per LMS student id) to roster rows, the same way
for every platform: a group fills a row only if it points at exactly one row and no other
group points at that row; everything else is reported, never guessed."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..override_rule import CHANGED
from .common import CsvTable, GradedSubmission, format_points
from .export_report import ExportReport, MatchedRow, RosterRow, SubmissionNote


@dataclass
class Claim:
    """All submissions carrying one LMS student id, and the roster rows they point at.

    Attributes:
        who: how the group is named in messages (``Canvas user id 12345``).
        kept: the submission whose score counts, or None if the group's own files
            conflict (``problem`` says why).
        others: the group's other files, each with the reason it was not used.
        rows: candidate roster rows (record numbers, header = 1).
        matched_on: how ``rows`` were found, for the report.
        no_row_reason: the message when ``rows`` is empty.
        problem: set when the group cannot be used whatever the rows.
        member: the Gradescope submitter the claim is for (one claim per member of a
            group submission), so the report lists a group submission once with each
            member's outcome (:meth:`ExportReport.account`); None for other claims.
    """

    who: str
    kept: GradedSubmission | None
    others: list[tuple[GradedSubmission, str]] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    matched_on: str = ""
    no_row_reason: str = ""
    problem: str | None = None
    member: str | None = None

    @property
    def files(self) -> list[GradedSubmission]:
        """Every submission of the claim: the kept one first (when there is one), then the others."""
        return ([self.kept] if self.kept else []) + [s for s, _ in self.others]


@dataclass
class Roster:
    """The student rows of the instructor's CSV.

    Attributes:
        table: the CSV read.
        student_rows: record number (header = 1) -> index into ``table.rows``.
        names: record number -> the roster's name for the student.
        keys: record number -> the roster's identifier (``ID 12345``).
    """

    table: CsvTable
    student_rows: dict[int, int]
    names: dict[int, str]
    keys: dict[int, str]

    def describe(self, rows: list[int]) -> str:
        """Record numbers as report text: ``"row 3 (Ada Lovelace), row 7 (Alan Turing)"``."""
        return ", ".join(f"row {r} ({self.names[r]})" for r in rows)


def settle(claims: list[Claim], roster: Roster, report: ExportReport) -> dict[int, Claim]:
    """Decide which claim fills which row; fill the report's submission lists.

    Returns:
        dict[int, Claim]: record number -> the claim that fills it.
    """
    tentative: dict[int, list[Claim]] = {}
    for claim in claims:
        if claim.problem:
            for s in claim.files:
                report.account("ambiguous", s.label, claim.problem, tuple(claim.rows), claim.member)
        elif not claim.rows:
            for s in claim.files:
                report.account("unmatched", s.label, claim.no_row_reason, (), claim.member)
        elif len(claim.rows) > 1:
            reason = f"{claim.who} matches {len(claim.rows)} roster rows by {claim.matched_on}: {roster.describe(claim.rows)}"
            for s in claim.files:
                report.account("ambiguous", s.label, reason, tuple(claim.rows), claim.member)
        else:
            tentative.setdefault(claim.rows[0], []).append(claim)
    assigned: dict[int, Claim] = {}
    for row, competing in tentative.items():
        if len(competing) == 1:
            assigned[row] = competing[0]
            continue
        whos = ", ".join(c.who for c in competing)
        reason = f"{len(competing)} different students' submissions ({whos}) all match {roster.describe([row])}"
        for claim in competing:
            for s in claim.files:
                report.account("ambiguous", s.label, reason, (row,), claim.member)
    for row, claim in sorted(assigned.items()):
        for s, reason in claim.others:
            report.account("superseded", s.label, reason, (row,), claim.member)
    return assigned


def fill(roster: Roster, assigned: dict[int, Claim], column: int, keep: list[int], report: ExportReport,
         pending: dict[int, str]) -> list[list[str]]:
    """The output rows: every record kept, in order, cut to the ``keep`` columns; the
    ``column`` cell of each assigned student row set to its score.

    Args:
        roster: the instructor's file.
        assigned: record number -> claim (from :func:`settle`).
        column: index of the filled column in the instructor's header.
        keep: indices of the columns written, in order (``column`` among them).
        report: ``matched``, ``not_completed``, ``manual_pending`` and ``without_submission``
            are appended to. A submission with manual questions not scored yet fills no cell
            (its total is not final): its row goes to ``without_submission`` and the
            submission to ``manual_pending``.
        pending: record number -> why a row without a fill got none (default "no submission").

    Returns:
        list[list[str]]: the data records to write after the header.
    """
    out: list[list[str]] = []
    by_index = {index: row for row, index in roster.student_rows.items()}
    for index, record in enumerate(roster.table.rows):
        if not record:
            out.append([])
            continue
        cells = record + [""] * (max(keep) + 1 - len(record))
        row = by_index.get(index)
        if row is not None:
            claim = assigned.get(row)
            if claim is not None and claim.kept is not None and claim.kept.manual_pending:
                sub = claim.kept  # not final: a partial total is never written as the grade
                waiting = ", ".join(sub.manual_pending)
                report.manual_pending.append(SubmissionNote(
                    sub.label, f"{waiting} graded by hand and not scored yet; the questions scored so far give "
                    f"{format_points(sub.points)} points; no grade written to {roster.names[row]}'s row"
                    + ("" if sub.completed else f" (and its grading_status is {sub.status!r})"), (row,)))
                report.without_submission.append(RosterRow(
                    row=row, student=roster.names[row], key=roster.keys[row], value=cells[column],
                    reason=f"manual grading pending ({waiting}) for {sub.label}; see 'manual grading pending'"))
            elif claim is not None and claim.kept is not None:
                sub = claim.kept
                report.matched.append(MatchedRow(
                    row=row, student=roster.names[row], key=roster.keys[row], submission=sub.label,
                    matched_on=claim.matched_on, points=sub.points, status=sub.status,
                    late=sub.identity.late, previous=cells[column], completed=sub.completed, hand_set=sub.hand_set,
                ))
                report.account("matched", sub.label, claim.matched_on, (row,), claim.member)
                if not sub.completed:
                    earlier = next((i for i, n in enumerate(report.not_completed) if n.submission == sub.label), None)
                    rows = (row,) if earlier is None else (*report.not_completed.pop(earlier).rows, row)
                    report.not_completed.insert(len(report.not_completed) if earlier is None else earlier, SubmissionNote(
                        sub.label, f"grading_status is {sub.status!r}; {format_points(sub.points)} points written to "
                        f"{roster.describe(list(rows))}", rows))  # a group's submission: one note naming every row
                hand = sub.hand_set
                if hand:
                    changed = sub.changed_overrides
                    report.set_by_hand.append(SubmissionNote(
                        sub.label, f"{', '.join(hand)} set by hand by the instructor; {format_points(sub.points)} points written to "
                        f"{roster.names[row]}'s row" + (f"; {CHANGED}: {', '.join(changed)} (the override counts until "
                                                         "confirmed or unset)" if changed else ""), (row,)))
                cells = list(cells)
                cells[column] = format_points(sub.points)
            else:
                report.without_submission.append(RosterRow(
                    row=row, student=roster.names[row], key=roster.keys[row], value=cells[column],
                    reason=pending.get(row, "no submission")))
        out.append([cells[i] for i in keep])
    return out


def pending_reasons(report: ExportReport) -> dict[int, str]:
    """Record number -> a reason for rows that only ambiguous submissions pointed at."""
    reasons: dict[int, list[str]] = {}
    pointed = [(n.submission, n.rows) for n in report.ambiguous] + [
        (g.submission, m.rows) for g in report.groups for m in g.members if m.outcome == "ambiguous"]
    for label, rows in pointed:
        for row in rows:
            if label not in reasons.get(row, []):
                reasons.setdefault(row, []).append(label)
    grouped = {g.submission for g in report.groups}
    return {row: f"only ambiguous submissions point here ({', '.join(labels)}); see "
                 + ("'ambiguous' and 'groups'" if grouped & set(labels) else "'ambiguous'")
            for row, labels in reasons.items()}
