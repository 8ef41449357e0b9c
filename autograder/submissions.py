"""Finding submissions on disk and reading the notebook out of each one.

A submission is an ``.ipynb`` file, an Otter export ``.zip`` holding one notebook, or a
folder holding any number of them (searched recursively). Junk that archivers and Jupyter
add (``__MACOSX``, ``.ipynb_checkpoints``, hidden files) is ignored.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import nbformat

__all__ = ["Submission", "SubmissionError", "discover_submissions", "read_submission_notebook"]

SUBMISSION_SUFFIXES = (".ipynb", ".zip")
_JUNK_PARTS = ("__MACOSX", ".ipynb_checkpoints")


class SubmissionError(Exception):
    """A submission cannot be graded; ``str(error)`` names the file and what is wrong."""


@dataclass(frozen=True)
class Submission:
    """One file to grade.

    Attributes:
        path: the ``.ipynb`` or ``.zip`` file.
        label: a name unique within the batch (the path relative to the folder it was
            found in, or the file name), used as the ``file`` column of ``grades.csv``.
    """

    path: Path
    label: str


def _is_junk(parts: tuple[str, ...]) -> bool:
    return any(p in _JUNK_PARTS or p.startswith(".") for p in parts)


def discover_submissions(paths: list[Path]) -> list[Submission]:
    """Expand files and folders into a list of submissions, in a stable order.

    Args:
        paths: ``.ipynb``/``.zip`` files and folders. A file with another suffix is still
            returned (it gets a row saying why it cannot be graded); nothing is dropped.

    Returns:
        list[Submission]: one per file, labels unique (a numeric suffix resolves clashes).

    Raises:
        FileNotFoundError: a path does not exist.
    """
    found: list[tuple[Path, str]] = []
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file or folder")
        if path.is_dir():
            for item in sorted(path.rglob("*")):
                rel = item.relative_to(path)
                if item.is_file() and item.suffix.lower() in SUBMISSION_SUFFIXES and not _is_junk(rel.parts):
                    found.append((item, str(PurePosixPath(path.name, *rel.parts))))
        else:
            found.append((path, path.name))
    seen: dict[str, int] = {}
    result = []
    for item, label in found:
        count = seen.get(label, 0)
        seen[label] = count + 1
        result.append(Submission(item, label if count == 0 else f"{label}~{count + 1}"))
    return result


def read_submission_notebook(path: Path) -> nbformat.NotebookNode:
    """Read and validate the notebook of a submission.

    Args:
        path: an ``.ipynb`` file, or a ``.zip`` (an Otter export) holding exactly one
            notebook outside ``__MACOSX``/``.ipynb_checkpoints``.

    Returns:
        nbformat.NotebookNode: the notebook, as nbformat version 4.

    Raises:
        SubmissionError: not a notebook or zip, a broken zip, no or several notebooks,
            undecodable or truncated JSON, or JSON that is not a valid notebook.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                names = [
                    n for n in archive.namelist()
                    if n.lower().endswith(".ipynb") and not _is_junk(PurePosixPath(n).parts)
                ]
                if not names:
                    raise SubmissionError(f"{path.name}: the zip holds no notebook (.ipynb)")
                if len(names) > 1:
                    raise SubmissionError(
                        f"{path.name}: the zip holds {len(names)} notebooks ({', '.join(sorted(names))}); "
                        "expected exactly one"
                    )
                raw = archive.read(names[0])
                where = f"{path.name}:{names[0]}"
        except zipfile.BadZipFile as error:
            raise SubmissionError(f"{path.name}: not a readable zip file ({error})") from None
    elif suffix == ".ipynb":
        raw = path.read_bytes()
        where = path.name
    else:
        raise SubmissionError(f"{path.name}: not a notebook (.ipynb) or an Otter export (.zip)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SubmissionError(f"{where}: not UTF-8 text, so not a notebook") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        hint = " (is it an HTML page saved as .ipynb?)" if text.lstrip()[:1] == "<" else ""
        raise SubmissionError(f"{where}: not valid notebook JSON{hint}: {error}") from None
    try:
        nb = nbformat.reads(json.dumps(data), as_version=4)
        nbformat.validate(nb)
    except Exception as error:  # nbformat raises several unrelated types
        raise SubmissionError(f"{where}: JSON that is not a valid Jupyter notebook: {str(error).splitlines()[0]}") from None
    return nb
