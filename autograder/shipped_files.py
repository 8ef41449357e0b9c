"""Reading the assignment's own data files is not a finding.

An Otter master notebook that lists data files under ``files:`` ships them to students
and into the autograder zip (``files/``), and its template reads them
(``pd.read_csv("data.csv")``). The static screen (:mod:`autograder.screen`) flags every
file read, which would send every submission of such an assignment to review. Here a
``file`` finding is dropped when its line only *reads*, with one of the read calls below,
a file named by a string literal that the zip ships under ``files/`` and students were
handed with the notebook (``files:``, listed by ``gradkit build`` in the zip's
:data:`STUDENT_FILES_MANIFEST`): the student has the same file, so reading it reveals
nothing. ``autograder_files:`` (e.g. the hidden tests' reference module) stay findings. Writes, other paths, computed paths and other
rules stay findings.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path, PurePosixPath

from .findings import Finding

__all__ = ["READ_CALLS", "STUDENT_FILES_MANIFEST", "drop_shipped_file_reads", "shipped_files"]

READ_CALLS = {"read_csv", "read_table", "read_fwf", "read_json", "loadtxt", "genfromtxt", "read_text", "read_bytes", "open"}
"""Calls whose finding may be dropped (pandas/NumPy readers, ``Path.read_*``, ``open``)."""

_CALL = re.compile(r"\b(\w+)\s*\(\s*(?:[\w.]+\s*\(\s*)?(['\"])([^'\"\\]+)\2\s*\)?\s*(?P<rest>[,)])")
_READ_MESSAGE = re.compile(r"(reads or writes a file \((%s)\)|opens a file)$" % "|".join(sorted(READ_CALLS)))
_READ_ONLY_OPEN = re.compile(r"""\s*(\)|,\s*(mode\s*=\s*)?['"]r[bt]?['"]\s*(\)|,\s*encoding\s*=\s*['"][\w-]+['"]\s*\)))""")


STUDENT_FILES_MANIFEST = "gradkit_student_files.json"
"""Member of a zip built by ``gradkit build``: the JSON list of files handed out to students
with the notebook (Otter's ``files:``; ``autograder_files:`` are in the zip's ``files/``
too, but students never get them, so reading those stays a finding)."""


def shipped_files(autograder_zip: Path) -> set[str]:
    """Relative paths (as the notebook names them: ``data.csv``, ``data/train.csv``) of the
    files the zip ships under ``files/`` that students also have, per the zip's
    :data:`STUDENT_FILES_MANIFEST`; empty for an unreadable zip or one without the manifest."""
    try:
        with zipfile.ZipFile(autograder_zip) as archive:
            names = archive.namelist()
            handed_out = json.loads(archive.read(STUDENT_FILES_MANIFEST)) if STUDENT_FILES_MANIFEST in names else []
    except (OSError, zipfile.BadZipFile, ValueError):
        return set()
    in_zip = {str(PurePosixPath(n).relative_to("files")) for n in names if n.startswith("files/") and not n.endswith("/")}
    return in_zip & {str(p) for p in handed_out if isinstance(p, str)}


def _reads_shipped(code: str, shipped: set[str]) -> bool:
    calls = list(_CALL.finditer(code))
    if len(calls) != 1 or calls[0].group(1) not in READ_CALLS:
        return False
    path = calls[0].group(3).removeprefix("./")
    if path not in shipped:
        return False
    if calls[0].group(1) == "open":  # only open(path) and open(path, "r"/"rb"/"rt"[, encoding=...])
        return bool(_READ_ONLY_OPEN.match(code[calls[0].end(3) + 1:]))
    return True


def drop_shipped_file_reads(findings: list[Finding], shipped: set[str]) -> list[Finding]:
    """``findings`` (:class:`autograder.findings.Finding`) without ``file`` findings whose
    line reads a shipped file by its literal name (see module doc)."""
    if not shipped:
        return findings
    return [f for f in findings if not (f.rule == "file" and _READ_MESSAGE.match(f.message) and _reads_shipped(f.code, shipped))]
