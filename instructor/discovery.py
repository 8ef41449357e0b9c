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
  time (:mod:`instructor.gradescope`).

Any other file given directly on the command line, and any file inside a folder whose
name is an LMS download name (a student's hand-in, a PDF say), still becomes a submission,
which then gets a row saying why it cannot be graded: no student is dropped. Other files
in folders (data files, notes) are not submissions; :func:`discover_submissions` lists them
in ``skipped``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

import yaml

from autograder.submissions import SUBMISSION_SUFFIXES, Submission, is_junk

from .gradescope import entry_student_key
from .lms.names import parse_submission_name

__all__ = ["GRADESCOPE_METADATA", "discover_submissions", "lms_student"]

GRADESCOPE_METADATA = "submission_metadata.yml"

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


def _gradescope_export(folder: Path) -> list[tuple[Path, str, str | None]]:
    meta_path = folder / GRADESCOPE_METADATA
    try:
        meta = yaml.safe_load(meta_path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ValueError(f"{meta_path}: not readable YAML ({error})") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{meta_path}: expected a mapping of submission folders to their metadata, "
                         f"found a {type(meta).__name__}")
    found = []
    for sub_dir in sorted(p for p in folder.iterdir() if p.is_dir() and not is_junk((p.name,))):
        info = meta.get(sub_dir.name) or {}
        student = entry_student_key(info) if isinstance(info, dict) else None
        files = sorted(p for p in sub_dir.rglob("*") if p.is_file() and _gradable(str(p.relative_to(sub_dir))))
        notebooks = [p for p in files if p.suffix.lower() == ".ipynb"] or files
        target = notebooks[0] if len(notebooks) == 1 else sub_dir  # a folder: graded as "no single notebook"
        found.append((target, f"{folder.name}/{sub_dir.name}", student))
    return found


def discover_submissions(paths: list[Path], skipped: list[Path] | None = None) -> list[Submission]:
    """Expand the instructor's files and folders into submissions, in a stable order.

    Args:
        paths: files and folders as given on the command line.
        skipped: if given, files found in folders that are not submissions are appended.

    Returns:
        list[Submission]: one per submission; labels unique (a ``~N`` suffix resolves
        clashes); ``student`` filled from LMS names or Gradescope metadata.

    Raises:
        FileNotFoundError: a path does not exist.
        ValueError: a Gradescope ``submission_metadata.yml`` cannot be read.
    """
    found: list[Submission] = []
    for path in map(Path, paths):
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file or folder")
        if path.is_dir() and (path / GRADESCOPE_METADATA).is_file():
            found += [Submission(p, label, student=student) for p, label, student in _gradescope_export(path)]
        elif path.is_dir():
            for item in sorted(path.rglob("*")):
                rel = item.relative_to(path)
                label = str(PurePosixPath(path.name, *rel.parts))
                if not item.is_file() or is_junk(rel.parts):
                    continue
                if _gradable(str(rel)) or lms_student(label):
                    found += _expand(item, label)
                elif skipped is not None:
                    skipped.append(item)
        else:
            found += _expand(path, path.name)
    seen: dict[str, int] = {}
    result = []
    for sub in found:
        count = seen.get(sub.label, 0)
        seen[sub.label] = count + 1
        label = sub.label if count == 0 else f"{sub.label}~{count + 1}"
        result.append(Submission(sub.path, label, member=sub.member, student=sub.student or lms_student(label)))
    return result


def _expand(path: Path, label: str) -> list[Submission]:
    if path.suffix.lower() == ".zip":
        members = _bulk_members(path)
        if members:
            return [Submission(path, f"{label}/{m}", member=m) for m in members]
    return [Submission(path, label)]
