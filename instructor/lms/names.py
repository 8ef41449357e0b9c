"""Who handed a file in, read from the names Canvas and Moodle give bulk downloads.

Formats (``shared/brief/lms.md``, checked against the platforms' download code):

* Canvas "Download Submissions" names every file
  ``lastnamefirstname_[LATE_]<user id>_<attachment id>_<original file name>``; when a
  student uploads a file whose name they used before, Canvas appends ``-1``, ``-2`` ... to
  the stem of the original name (``autograd-basics-1.ipynb``). The download is flat, but an
  instructor may have unpacked a submitted zip into a folder of the same name.
* Moodle "Download all submissions" names every file
  ``Full Name_<participant id>_assignsubmission_file_<original file name>``, or, with
  "download submissions in folders" (the default since Moodle 3.1), makes a folder
  ``Full Name_<participant id>_assignsubmission_file_`` holding the original file (possibly
  in sub-folders). Moodle turns ``_`` in names into spaces and drops characters such as
  ``'`` and ``:`` (``clean_filename``). The participant id is Moodle's per-assignment id,
  not the user id, and appears in no grade export. With blind marking the name is
  ``Participant``.

A *label* is the ``file`` column of ``grades.csv``: the submission's path relative to the
folder given to ``gradkit grade``, prefixed with that folder's name, POSIX separators, or
the bare file name; ``~2``, ``~3`` ... is appended when two paths give the same label.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath

__all__ = ["CANVAS", "MOODLE", "SubmissionIdentity", "normalize_name", "parse_submission_name"]

CANVAS = "canvas"
MOODLE = "moodle"

# Name part non-greedy: the first "_<digits>_<digits>_" ends it (Canvas names hold no digits).
_CANVAS_RE = re.compile(r"^(?P<name>.+?)_(?:(?P<late>(?i:late))_)?(?P<user>\d+)_(?P<attachment>\d+)_(?P<file>.+)$", re.DOTALL)
# Folder form: nothing (or nothing but the trailing "_") after the plugin name.
_MOODLE_RE = re.compile(r"^(?P<name>.+?)_(?P<participant>\d+)_assignsubmission_(?P<plugin>[a-z]+)(?:_(?P<file>.*))?$", re.DOTALL)
# Otter's grader.export() names its zip <notebook stem>_YYYY_MM_DDTHH_MM_SS.zip, which the
# Canvas pattern would misread (user id 2026, attachment 11): such a name is Canvas's only
# when what follows its ids is itself a whole Otter export name.
_OTTER_EXPORT_RE = re.compile(r"^.+_\d{4}_\d{2}_\d{2}T\d{2}_\d{2}_\d{2}(?:-\d+)?\.zip$", re.DOTALL)
_RESUBMISSION_RE = re.compile(r"^(?P<base>.+)-(?P<n>\d{1,4})$", re.DOTALL)
_CLASH_SUFFIX_RE = re.compile(r"~\d+$")
# Characters Moodle's clean_filename (PARAM_FILE) removes, plus typographic apostrophes.
_DROPPED_IN_NAMES = set("&<>\"`|':\\/\u2018\u2019\u02bc")


@dataclass(frozen=True)
class SubmissionIdentity:
    """The student identity an LMS download name carries.

    Attributes:
        label: the label that was parsed (``~N`` clash suffix included), str.
        platform: ``"canvas"``, ``"moodle"``, or None when no path component of the label
            is a Canvas or Moodle download name (then every other field but ``label`` is
            empty/default).
        lms_id: Canvas user id (the gradebook's ``ID`` column) or Moodle participant id,
            as the digits appear in the name (str), or None.
        name: the name part: Canvas ``lastnamefirstname`` (lower case, no separators),
            Moodle ``Full Name`` (as Moodle's ``fullname()`` printed it), or None.
        late: Canvas's ``LATE_`` marker was present (Moodle names carry none).
        attempt: Canvas resubmission number: 0 for a name without a ``-N`` suffix on the
            original file's stem, N for ``-N`` (so ``-1`` is the second upload). Always 0
            for Moodle, whose download holds only the current submission.
        attachment_id: Canvas attachment id (digits, str), or None.
        file_name: the file name as it follows the ids in the download name (Canvas:
            with the ``-N`` suffix; Moodle folder form: the path inside the folder).
        original_name: ``file_name`` with Canvas's ``-N`` suffix removed, i.e. the name
            the student uploaded.
        component: the path component of the label that carried the identity.
    """

    label: str
    platform: str | None = None
    lms_id: str | None = None
    name: str | None = None
    late: bool = False
    attempt: int = 0
    attachment_id: str | None = None
    file_name: str | None = None
    original_name: str | None = None
    component: str | None = None

    @property
    def attempt_order(self) -> tuple[int, int]:
        """Sort key of the latest-attempt rule: (resubmission number, attachment id as int,
        -1 if none). The highest key is the latest attempt; Canvas appends ``-1``, ``-2``...
        to a resubmission's file name (lms.md), and ties assume attachment ids grow."""
        attachment = int(self.attachment_id) if (self.attachment_id or "").isdigit() else -1
        return self.attempt, attachment

    @property
    def student_key(self) -> str | None:
        """``"canvas:<user id>"`` / ``"moodle:<participant id>"``, or None if unparsed."""
        return f"{self.platform}:{self.lms_id}" if self.platform else None


def _split_resubmission(file_name: str) -> tuple[str, int]:
    """(original name, resubmission number) of a Canvas file name such as ``a-2.ipynb``."""
    stem, dot, ext = file_name.rpartition(".")
    if not dot or not stem:  # no extension: the whole name is the stem
        stem, dot, ext = file_name, "", ""
    m = _RESUBMISSION_RE.match(stem)
    if not m:
        return file_name, 0
    return m["base"] + dot + ext, int(m["n"])


def parse_submission_name(label: str) -> SubmissionIdentity:
    """Parse a submission label (or a bare file name) into an identity. Never raises.

    Every path component is tried, deepest first; a Moodle name anywhere wins over a
    Canvas name (a Moodle folder may hold a file whose own name happens to look like
    Canvas's ``x_1_2_y``). A trailing ``~N`` clash suffix (added by ``gradkit grade``) is
    ignored. Unicode, spaces, hyphens and apostrophes in names are kept as they are.

    Args:
        label: a ``grades.csv`` label such as
            ``canvas-download/smithjohn_LATE_12345_67890_autograd-basics-1.ipynb`` or
            ``moodle/Jane Doe_4567_assignsubmission_file_/autograd-basics.ipynb``.

    Returns:
        SubmissionIdentity: ``platform`` None if no component is a download name.
    """
    if not isinstance(label, str):
        return SubmissionIdentity(label=str(label))
    parts = [p for p in PurePosixPath(_CLASH_SUFFIX_RE.sub("", label)).parts if p not in ("/", ".")]
    for index in range(len(parts) - 1, -1, -1):
        m = _MOODLE_RE.match(parts[index])
        if m:
            inner = "/".join(parts[index + 1:])
            file_name = m["file"] or inner or None
            if m["file"] and inner:  # a file-form name used as a folder: keep the whole path
                file_name = f"{m['file']}/{inner}"
            return SubmissionIdentity(
                label=label, platform=MOODLE, lms_id=m["participant"], name=m["name"],
                file_name=file_name, original_name=file_name, component=parts[index],
            )
    for index in range(len(parts) - 1, -1, -1):
        m = _CANVAS_RE.match(parts[index])
        if m and _OTTER_EXPORT_RE.match(parts[index]) and not _OTTER_EXPORT_RE.match(m["file"]):
            continue  # a student's own export zip, not a Canvas download name
        if m:
            original, attempt = _split_resubmission(m["file"])
            return SubmissionIdentity(
                label=label, platform=CANVAS, lms_id=m["user"], name=m["name"], late=m["late"] is not None,
                attempt=attempt, attachment_id=m["attachment"], file_name=m["file"], original_name=original,
                component=parts[index],
            )
    return SubmissionIdentity(label=label)


def normalize_name(name: str) -> str:
    """A person's name reduced for matching: case, accents and punctuation-insensitive.

    Unicode NFKD with combining marks dropped (``é`` -> ``e``), case-folded (``ß`` ->
    ``ss``), ``_`` read as a space (Moodle replaces it so), the characters Moodle's
    ``clean_filename`` removes (``' " & < > ` | : \\ /``) and typographic apostrophes
    dropped, control characters dropped, runs of white space collapsed. Hyphens are kept.

    Args:
        name: str, e.g. ``"Mary O'Brien"`` or ``"LUCÍA  García_Méndez"``.

    Returns:
        str: e.g. ``"mary obrien"``, ``"lucia garcia mendez"``.
    """
    decomposed = unicodedata.normalize("NFKD", name.replace("_", " "))
    kept = (
        c for c in decomposed
        if not unicodedata.combining(c) and c not in _DROPPED_IN_NAMES and (c.isspace() or unicodedata.category(c)[0] != "C")
    )
    return " ".join("".join(kept).casefold().split())
