"""Gradescope submissions in the Canvas and Moodle exports: one claim per submitter.

A Gradescope "Export Submissions" folder carries no Canvas or Moodle download names; its
submitters are known by email and student id (:mod:`instructor.gradescope`), recorded as
each submission's student key in the grading folder's gradebook. Each submitter of a
submission (every member of a group) becomes a claim on the roster row whose identifier
equals their email or student id (Canvas: ``SIS Login ID``, ``SIS User ID``,
``Integration ID``, ``Student Number``; Moodle: the email / ID number column). For each
submitter the latest submission by ``:created_at`` counts (ties: :mod:`instructor.lms.attempts`), so a member's later solo
submission supersedes the group's for that member only. A group submission is listed
once in the report, in ``groups``, with each member's outcome (matched to a row,
superseded by their later submission, unmatched or ambiguous; :func:`group_entries`),
so that every grades.csv row is accounted for exactly once. A grading folder without a gradebook (a bare ``grades.csv``) has no student
keys: its Gradescope rows are reported as unmatched, as before.
"""

from __future__ import annotations

from collections.abc import Callable

from ..gradescope import StudentKey
from ._match import Claim
from .attempts import latest_last
from .common import GradedSubmission, GradingRun
from .export_report import GroupSubmission, MemberOutcome

__all__ = ["GRADESCOPE_MATCH_RULE", "gradescope_claims", "group_entries", "student_keys", "value_lookup"]

GRADESCOPE_MATCH_RULE = (
    "Gradescope submissions (no download name): every submitter, each member of a group alike, fills the roster row "
    "whose {columns} equals their email or student id (case ignored); per submitter the latest submission by "
    "Gradescope's created_at counts (ties: the label in natural order)"
)


def student_keys(run: GradingRun) -> dict[str, StudentKey]:
    """Label -> Gradescope student key of the run's Gradescope submissions (from the
    gradebook rows, :attr:`instructor.gradebook.GradebookRow.student_key`); empty when the
    folder has no gradebook or no Gradescope submission."""
    return {sub.label: sub.student_key for sub in run.submissions if sub.student_key is not None}


def _when(key: StudentKey) -> str:
    return key.created_at or "no time in the metadata"


def _kind(key: StudentKey) -> str:
    return f"a group submission of {len(key.members)}" if key.is_group else "a solo submission"


def group_entries(run: GradingRun, keys: dict[str, StudentKey]) -> list[GroupSubmission]:
    """One empty :class:`GroupSubmission` per group submission of the run (two or more
    submitters), members in the metadata's order, for the export to fill in.

    Args:
        run: grades.csv as read.
        keys: label -> student key (:func:`student_keys`).
    """
    return [GroupSubmission(sub.label, [MemberOutcome(m.key) for m in keys[sub.label].members])
            for sub in run.submissions if sub.label in keys and keys[sub.label].is_group]


def gradescope_claims(run: GradingRun, keys: dict[str, StudentKey],
                      lookup: Callable[[str, str | None], tuple[list[int], str]]) -> tuple[list[Claim], set[str]]:
    """One claim per Gradescope submitter of the run's submissions.

    Args:
        run: grades.csv as read.
        keys: label -> student key (:func:`student_keys`).
        lookup: (member key, student id or None) -> (roster rows, the column(s) that
            matched, for the report).

    Returns:
        (claims, labels): the claims, and the labels they cover (so the caller does not
        report them as "not a download name").
    """
    by_member: dict[str, list[tuple[GradedSubmission, StudentKey]]] = {}
    sid: dict[str, str | None] = {}
    for sub in run.submissions:
        key = keys.get(sub.label)
        if key is None:
            continue
        for member in key.members:
            by_member.setdefault(member.key, []).append((sub, key))
            sid[member.key] = sid.get(member.key) or member.sid
    claims = []
    for member, items in by_member.items():
        items = latest_last(items, lambda item: (item[0].label, item[1].created_at))
        kept, kept_key = items[-1]
        rows, column = lookup(member, sid[member])
        group = f" (group of {len(kept_key.members)})" if kept_key.is_group else ""
        claims.append(Claim(
            who=f"Gradescope submitter {member}", kept=kept,
            others=[(s, f"an earlier Gradescope submission ({_when(k)}) of {member}; for them the latest, "
                        f"{kept.label} ({_kind(kept_key)}, {_when(kept_key)}), counts") for s, k in items[:-1]],
            rows=rows, matched_on=f"Gradescope submitter {member}{group} = {column}",
            no_row_reason=f"Gradescope submitter {member}" + (f" (student id {sid[member]})" if sid[member] else "")
            + f" is in no roster row's {column}",
            member=member,
        ))
    return claims, set().union(*([s.label for s, _ in items] for items in by_member.values())) if by_member else set()


def value_lookup(table_rows: dict[int, list[str]], columns: list[tuple[int, str]]
                 ) -> Callable[[str, str | None], tuple[list[int], str]]:
    """A ``lookup`` for :func:`gradescope_claims` over roster cells.

    Args:
        table_rows: record number -> the row's cells.
        columns: (index, header) of the identifier columns to compare.

    Returns:
        A function (member key, sid) -> (rows whose cell in any of ``columns`` equals the
        key or the sid, case-insensitively; the headers that matched, or all of them).
    """
    def lookup(member: str, sid: str | None) -> tuple[list[int], str]:
        wanted = {v.strip().casefold() for v in (member, sid) if v and v.strip()}
        rows, hit = [], []
        for row, cells in table_rows.items():
            for index, header in columns:
                if index < len(cells) and cells[index].strip().casefold() in wanted:
                    rows.append(row)
                    if header not in hit:
                        hit.append(header)
                    break
        names = hit or [h for _, h in columns]
        return rows, " / ".join(repr(h) for h in names) or "identifier column (none in the file)"
    return lookup
