"""Finding the submissions among the files an instructor got.

Accepted, in any mix:

* ``.ipynb`` files and Otter export ``.zip`` files (one submission each);
* folders, searched recursively (Canvas and Moodle "download all" folders included);
* LMS bulk-download zips: a zip whose entries carry Canvas or Moodle download names
  (``lastnamefirstname_[LATE_]<user id>_<attachment id>_<file>``,
  ``Full Name_<participant id>_assignsubmission_file_<file>``, see ``shared/brief/lms.md``)
  holds one submission per entry;
* a Gradescope "Export Submissions" folder: ``submission_metadata.yml`` maps each
  ``submission_<id>`` folder to its submitters (one, or a group) and its time; the
  folder's notebook is the submission, its student key records every submitter and the
  time (:mod:`instructor.gradescope`). Every entry and every folder becomes a submission:
  an entry whose folder is missing, empty or holds no single notebook is a
  :class:`GradescopeSubmission` with a ``problem`` (graded as 0 points with that status),
  and a folder the metadata does not list (or lists without a submitter) is graded with a
  ``note`` added to its status (:data:`UNLISTED_NOTE`, :data:`NO_SUBMITTER_NOTE`).

Any other file given directly on the command line, and any file inside a folder whose
name is an LMS download name (a student's hand-in, a PDF say), still becomes a submission,
which then gets a row saying why it cannot be graded: no student is dropped. Other files
in folders (data files, notes) are not submissions; :func:`discover_submissions` lists them
in ``skipped``.
"""

from __future__ import annotations

import dataclasses
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from autograder.submissions import SUBMISSION_SUFFIXES, Submission, is_junk

from .gradescope import entry_student_key
from .lms.names import parse_submission_name

log = logging.getLogger(__name__)

__all__ = ["GRADESCOPE_METADATA", "GradescopeSubmission", "LISTING_NOTES", "NO_SUBMITTER_NOTE", "UNLISTED_NOTE",
           "discover_submissions", "input_note", "input_summary", "lms_student"]

GRADESCOPE_METADATA = "submission_metadata.yml"
UNLISTED_NOTE = "not in submission_metadata.yml, so its submitters are unknown"
"""Status note of a Gradescope export folder that the metadata does not list."""
NO_SUBMITTER_NOTE = "submission_metadata.yml names no submitter for it"
"""Status note of a Gradescope folder whose metadata entry has no readable submitter."""
LISTING_NOTES = (UNLISTED_NOTE, NO_SUBMITTER_NOTE)
"""Every note :func:`input_note` may give."""


@dataclass(frozen=True)
class GradescopeSubmission(Submission):
    """A submission of a Gradescope "Export Submissions" folder (see :class:`Submission`).

    Attributes:
        problem: why it cannot be graded although the export lists it (its folder is
            missing, empty, or holds no single notebook); the batch records it as a
            0-point row with this ``grading_status`` without running an engine. None when
            the folder holds one notebook.
        note: what is odd about who submitted it (:data:`LISTING_NOTES`), added to its
            ``grading_status``; None when the metadata names its submitters.
    """

    problem: str | None = None
    note: str | None = None


def input_note(sub: Submission) -> str:
    """What the current input says about ``sub`` for its status (:data:`LISTING_NOTES`), or
    ``""``. Stored apart from the engine's status (:meth:`instructor.gradebook.Gradebook.record`,
    :meth:`~instructor.gradebook.Gradebook.update_student`), so it follows the current
    ``submission_metadata.yml`` on every run; a submission with a ``problem`` is graded as a
    failure whose status is the problem (:meth:`autograder.outcome.GradingOutcome.failure`)."""
    return getattr(sub, "note", None) or ""


def input_summary(found: list[Submission]) -> list[str]:
    """Lines for the terminal summary about Gradescope entries without a notebook and
    folders without known submitters (empty when there are none)."""
    problems = [s for s in found if getattr(s, "problem", None)]
    unlisted = [s for s in found if getattr(s, "note", None)]
    lines = []
    if problems:
        lines.append(f"{len(problems)} Gradescope submission(s) without a gradable notebook in the export, "
                     "each a row with 0 points and its submitters in students.csv (see grading_status): "
                     + ", ".join(s.label for s in problems))
    if unlisted:
        lines.append(f"{len(unlisted)} Gradescope folder(s) whose submitters submission_metadata.yml does not name "
                     "(graded, but no student to give the score to): " + ", ".join(s.label for s in unlisted))
    return lines


def lms_student(label: str) -> str | None:
    """The student key carried by a Canvas or Moodle download name in ``label``.

    Parsed by :func:`instructor.lms.names.parse_submission_name` (every path component is
    tried, as Moodle may use a folder per student).

    Returns:
        str | None: ``"canvas:<user id>"``, ``"moodle:<participant id>"``, or None.
    """
    identity = parse_submission_name(label)
    if identity.platform and identity.lms_id:
        return f"{identity.platform}:{identity.lms_id}"
    return None


def _gradable(name: str) -> bool:
    p = PurePosixPath(name)
    return p.suffix.lower() in SUBMISSION_SUFFIXES and not is_junk(p.parts)


def _bulk_members(path: Path) -> list[str] | None:
    """Entries of an LMS bulk-download zip, or None if ``path`` is not one."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [n for n in archive.namelist() if not n.endswith("/") and _gradable(n)]
    except (zipfile.BadZipFile, OSError):
        return None
    if members and all(lms_student(m) for m in members) and (len(members) > 1 or members[0].lower().endswith(".zip")):
        return sorted(members)
    return None


def _folder_problem(sub_dir: Path, label: str) -> tuple[Path, str | None]:
    """(the file to grade, None) for a folder with one notebook (or one zip), else
    (the folder, why it cannot be graded)."""
    if not sub_dir.is_dir():
        return sub_dir, f"no notebook in the Gradescope export: {label}/ is missing (submission_metadata.yml lists it)"
    everything = sorted(p for p in sub_dir.rglob("*") if p.is_file() and not is_junk(p.relative_to(sub_dir).parts))
    files = [p for p in everything if _gradable(str(p.relative_to(sub_dir)))]
    notebooks = [p for p in files if p.suffix.lower() == ".ipynb"] or files
    if len(notebooks) == 1:
        return notebooks[0], None
    names = [str(p.relative_to(sub_dir)) for p in (notebooks or everything)]
    shown = ", ".join(names[:5]) + (" ..." if len(names) > 5 else "")
    if notebooks:
        return sub_dir, (f"no single notebook in the Gradescope export: {label}/ holds {len(notebooks)} "
                         f"({shown}); expected exactly one")
    if everything:
        return sub_dir, f"no notebook in the Gradescope export: {label}/ holds only {shown}"
    return sub_dir, f"no notebook in the Gradescope export: {label}/ is empty"


def _gradescope_export(folder: Path) -> list[GradescopeSubmission]:
    meta_path = folder / GRADESCOPE_METADATA
    try:
        meta = yaml.safe_load(meta_path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ValueError(f"{meta_path}: not readable YAML ({error})") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{meta_path}: expected a mapping of submission folders to their metadata, "
                         f"found a {type(meta).__name__}")
    entries = {str(k): v for k, v in meta.items()}
    folders = {p.name for p in folder.iterdir() if p.is_dir() and not is_junk((p.name,))}
    found = []
    for name in sorted(folders | set(entries)):  # every folder and every entry: none is dropped
        label = f"{folder.name}/{name}"
        info = entries.get(name)
        student = entry_student_key(info) if isinstance(info, dict) else None
        note = None if student else (NO_SUBMITTER_NOTE if name in entries else UNLISTED_NOTE)
        if name in (".", "..") or "/" in name or "\\" in name:  # never look outside the export
            target, problem = folder, (f"no notebook in the Gradescope export: submission_metadata.yml lists {name!r}, "
                                       "which is not a submission folder's name")
        else:
            target, problem = _folder_problem(folder / name, label)
        found.append(GradescopeSubmission(target, label, student=student, problem=problem, note=note))
    return found


def discover_submissions(paths: list[Path], skipped: list[Path] | None = None) -> list[Submission]:
    """Expand the instructor's files and folders into submissions, in a stable order.

    Args:
        paths: files and folders as given on the command line.
        skipped: if given, files found in folders that are not submissions are appended.

    Returns:
        list[Submission]: one per submission; labels unique (a ``~N`` suffix resolves
        clashes); ``student`` filled from LMS names or Gradescope metadata. A Gradescope
        export gives one :class:`GradescopeSubmission` per folder and per metadata entry
        (with a ``problem`` when there is no single notebook to grade).

    Raises:
        FileNotFoundError: a path does not exist.
        ValueError: a Gradescope ``submission_metadata.yml`` cannot be read.
    """
    found: list[Submission] = []
    for path in map(Path, paths):
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file or folder")
        if path.is_dir() and (path / GRADESCOPE_METADATA).is_file():
            log.info("%s: a Gradescope export (%s)", path, GRADESCOPE_METADATA)
            found += _gradescope_export(path)
        elif path.is_dir():
            for item in sorted(path.rglob("*")):
                rel = item.relative_to(path)
                label = str(PurePosixPath(path.name, *rel.parts))
                if not item.is_file() or is_junk(rel.parts):
                    continue
                if _gradable(str(rel)) or lms_student(label):
                    found += _expand(item, label)
                else:
                    log.debug("%s: not a submission, skipped", item)
                    if skipped is not None:
                        skipped.append(item)
        else:
            found += _expand(path, path.name)
    seen: dict[str, int] = {}
    result = []
    for sub in found:
        count = seen.get(sub.label, 0)
        seen[sub.label] = count + 1
        label = sub.label if count == 0 else f"{sub.label}~{count + 1}"
        result.append(dataclasses.replace(sub, label=label, student=sub.student or lms_student(label)))
        log.debug("found %s (student %s)", label, result[-1].student or "unknown")
    log.info("discovery: %d submission(s) in %d path(s)", len(result), len(paths))
    return result


def _expand(path: Path, label: str) -> list[Submission]:
    if path.suffix.lower() == ".zip":
        members = _bulk_members(path)
        if members:
            return [Submission(path, f"{label}/{m}", member=m) for m in members]
    return [Submission(path, label)]
