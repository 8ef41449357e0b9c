"""Gradescope "Export Submissions" metadata: who handed in each submission, and when.

Format (``shared/brief/lms.md``; Gradescope's export as instructors download it): the
download holds one folder per *active* submission (``submission_<id>/``) and a
``submission_metadata.yml`` written from Ruby, so its keys are symbols (``:submitters``)::

    submission_123:
      :submitters:
      - :name: Ann Loe
        :sid: '001'
        :email: ann@example.edu
      - :name: Bo Li
        :email: bo@example.edu
      :created_at: 2026-01-26 16:12:13.530862000 -08:00
      :score: 10.0
      :history:              # earlier submissions of the same submitters (no files)
      - :id: 120
        :created_at: 2026-01-25 09:00:00.000000000 -08:00
        :score: 4.0

A group submission lists two or more ``:submitters``. Only the active submission of each
submitter (or group) has a folder: ``:history`` entries carry no files and are not graded
again (counted in students.csv's ``attempts`` only through their folder, i.e. not at all).
The export carries no late flag (lateness is Gradescope's own computation against the due
date), so a Gradescope submission is never marked LATE here.

The *student key* of a submission (stored in the gradebook, see
:class:`autograder.submissions.Submission`) records every submitter and the time:
``gradescope:<member>[+<member>...][;at=<UTC ISO time>]``, each member being its email (else
student id, else name), percent-encoded (``+`` -> ``%2B``), followed by ``,sid=<student
id>`` when both are known. :func:`parse_student_key` reads it back (also the older form
without times or student ids), so that students.csv and the LMS exports can give every
member of a group their own row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import quote, unquote

__all__ = ["GRADESCOPE", "Member", "StudentKey", "entry_student_key", "normalize_time", "parse_student_key"]

GRADESCOPE = "gradescope"
_PREFIX = GRADESCOPE + ":"
_SAFE = "@._-~!$'*()"
_TIME_RE = re.compile(
    r"^\s*(?P<date>\d{4}-\d{2}-\d{2})[ T](?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d+))?\s*"
    r"(?P<tz>Z|UTC|[+-]\d{2}:?\d{2})?\s*$")


@dataclass(frozen=True)
class Member:
    """One submitter.

    Attributes:
        key: email, else student id, else name (what students.csv shows after ``gradescope:``).
        sid: the student id (``:sid``), or None.
    """

    key: str
    sid: str | None = None

    @property
    def student(self) -> str:
        """The member's own student key: ``gradescope:<key>``."""
        return _PREFIX + self.key


@dataclass(frozen=True)
class StudentKey:
    """A parsed Gradescope student key.

    Attributes:
        members: the submitters, in the metadata's order (one for a solo submission).
        created_at: ``:created_at`` as a UTC ISO string (``2026-01-27T00:12:13.530862Z``,
            sortable as text), or None when the metadata had none.
    """

    members: tuple[Member, ...]
    created_at: str | None = None

    @property
    def is_group(self) -> bool:
        """Whether more than one student submitted it (a Gradescope group submission)."""
        return len(self.members) > 1


def normalize_time(value: object) -> str | None:
    """``:created_at`` as a UTC ISO string with microseconds and ``Z``, or None.

    Accepts what PyYAML makes of Gradescope's timestamps (a ``datetime``; naive means
    UTC) and the text forms ``2026-01-26 16:12:13.530862000 -08:00`` and ISO 8601
    (nanoseconds are cut to microseconds). Unreadable values give None.
    """
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    elif isinstance(value, str):
        m = _TIME_RE.match(value)
        if not m:
            return None
        frac = (m["frac"] or "0")[:6].ljust(6, "0")
        try:
            moment = datetime.fromisoformat(f"{m['date']}T{m['time']}.{frac}")
        except ValueError:
            return None
        tz = m["tz"]
        if tz and tz not in ("Z", "UTC"):
            sign = 1 if tz[0] == "+" else -1
            digits = tz[1:].replace(":", "")
            moment = moment.replace(tzinfo=timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))))
        else:
            moment = moment.replace(tzinfo=timezone.utc)
    else:
        return None
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _text(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def entry_student_key(entry: dict) -> str | None:
    """The student key of one ``submission_metadata.yml`` entry, or None if it names nobody.

    Args:
        entry: the entry's mapping (``:submitters``, ``:created_at``...; keys with or
            without the leading ``:``).

    Returns:
        str | None: ``gradescope:ann@example.edu,sid=001+bo@example.edu;at=2026-01-27T00:12:13.530862Z``.
    """
    def get(mapping: dict, name: str) -> object:
        return mapping.get(f":{name}", mapping.get(name))

    submitters = get(entry, "submitters") or []
    tokens = []
    for s in submitters if isinstance(submitters, list) else []:
        if not isinstance(s, dict):
            continue
        email, sid, name = _text(get(s, "email")), _text(get(s, "sid")), _text(get(s, "name"))
        key = email or sid or name
        if key:
            tokens.append(quote(key, safe=_SAFE) + (f",sid={quote(sid, safe=_SAFE)}" if sid and sid != key else ""))
    if not tokens:
        return None
    created = normalize_time(get(entry, "created_at"))
    return _PREFIX + "+".join(tokens) + (f";at={created}" if created else "")


def parse_student_key(key: str | None) -> StudentKey | None:
    """Read a key written by :func:`entry_student_key` (or the older ``gradescope:a+b``).

    Returns:
        StudentKey | None: None for keys of other platforms or None.
    """
    if not key or not key.startswith(_PREFIX):
        return None
    body, _, at = key[len(_PREFIX):].partition(";at=")
    members = []
    for token in body.split("+"):
        main, _, sid = token.partition(",sid=")
        if main:
            members.append(Member(unquote(main), unquote(sid) if sid else None))
    if not members:
        return None
    return StudentKey(tuple(members), at or None)
