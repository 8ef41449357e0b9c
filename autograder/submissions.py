"""One submission, and reading the notebook out of it.

A submission is an ``.ipynb`` file, or an Otter export ``.zip`` holding one notebook,
possibly stored inside an LMS bulk-download zip. Junk that archivers and Jupyter add
(``__MACOSX``, ``.ipynb_checkpoints``, hidden files) is ignored. Finding submissions among
an instructor's files is :mod:`instructor.discovery`'s job.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import nbformat

from .notebook_reader import NotebookRead, NotebookReadError, parse_notebook

__all__ = ["SUBMISSION_SUFFIXES", "Submission", "SubmissionError", "is_junk", "read_submission", "read_submission_notebook"]

SUBMISSION_SUFFIXES = (".ipynb", ".zip")
_JUNK_PARTS = ("__MACOSX", ".ipynb_checkpoints")


class SubmissionError(Exception):
    """A submission cannot be graded; ``str(error)`` names the file and what is wrong."""


@dataclass(frozen=True)
class Submission:
    """One file to grade.

    Attributes:
        path: the ``.ipynb`` or ``.zip`` file on disk (for a ``member``, the bulk-download
            zip holding it).
        label: a name unique within the batch (the path relative to the folder it was
            found in, or the file name), used as the ``file`` column of ``grades.csv``.
        member: the submission's path inside ``path`` when ``path`` is a bulk download
            (an LMS zip of many students' files); ``None`` otherwise.
        student: who submitted it, when the input says (an LMS user id, a Gradescope
            submitter's email or student id); ``None`` when unknown.
    """

    path: Path
    label: str
    member: str | None = None
    student: str | None = None

    def read_bytes(self) -> bytes:
        """The submission file's bytes (read from the bulk-download zip for a member).

        Raises:
            SubmissionError: the bulk-download zip or the member cannot be read.
        """
        if self.member is None:
            if Path(self.path).is_dir():
                raise SubmissionError(f"{self.label}: a folder without exactly one notebook (.ipynb) in it")
            try:
                return Path(self.path).read_bytes()
            except OSError as error:
                raise SubmissionError(f"{self.label}: cannot be read ({error.strerror or error})") from None
        try:
            with zipfile.ZipFile(self.path) as archive:
                return archive.read(self.member)
        except (zipfile.BadZipFile, KeyError) as error:
            raise SubmissionError(f"{self.label}: cannot read it from {Path(self.path).name} ({error})") from None


def is_junk(parts: tuple[str, ...]) -> bool:
    """Whether a path (as its parts) is archiver or Jupyter junk: ``__MACOSX``,
    ``.ipynb_checkpoints`` or a hidden file or folder."""
    return any(p in _JUNK_PARTS or p.startswith(".") for p in parts)


def read_submission_notebook(submission: "Submission | Path") -> nbformat.NotebookNode:
    """The notebook of a submission (:func:`read_submission` without its notes).

    Raises:
        SubmissionError: see :func:`read_submission`.
    """
    return read_submission(submission).notebook


def read_submission(submission: "Submission | Path") -> NotebookRead:
    """Read the notebook of a submission as Jupyter does (:mod:`autograder.notebook_reader`).

    Args:
        submission: a :class:`Submission` (or a path) of an ``.ipynb`` file, or of a
            ``.zip`` (an Otter export) holding exactly one notebook outside
            ``__MACOSX``/``.ipynb_checkpoints``.

    Returns:
        NotebookRead: the notebook (nbformat 4, schema slips repaired) and notes of what
        was repaired.

    Raises:
        SubmissionError: not a notebook or zip, a broken zip, no or several notebooks,
            undecodable or truncated JSON, or JSON that is not a notebook even after the
            repairs Jupyter makes.
    """
    if not isinstance(submission, Submission):
        submission = Submission(Path(submission), Path(submission).name)
    name = PurePosixPath(submission.member).name if submission.member else Path(submission.path).name
    if submission.member is None and Path(submission.path).is_dir():
        raise SubmissionError(f"{submission.label}: a folder without exactly one notebook (.ipynb) in it")
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in SUBMISSION_SUFFIXES:
        raise SubmissionError(f"{name}: not a notebook (.ipynb) or an Otter export (.zip)")
    data = submission.read_bytes()
    if suffix == ".zip":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = [
                    n for n in archive.namelist()
                    if n.lower().endswith(".ipynb") and not is_junk(PurePosixPath(n).parts)
                ]
                if not names:
                    raise SubmissionError(f"{name}: the zip holds no notebook (.ipynb)")
                if len(names) > 1:
                    raise SubmissionError(
                        f"{name}: the zip holds {len(names)} notebooks ({', '.join(sorted(names))}); "
                        "expected exactly one"
                    )
                raw = archive.read(names[0])
                where = f"{name}:{names[0]}"
        except zipfile.BadZipFile as error:
            raise SubmissionError(f"{name}: not a readable zip file ({error})") from None
    else:
        raw, where = data, name
    return _parse_notebook(raw, where)


def _parse_notebook(raw: bytes, where: str) -> NotebookRead:
    try:
        return parse_notebook(raw, where)
    except NotebookReadError as error:
        raise SubmissionError(str(error)) from None
