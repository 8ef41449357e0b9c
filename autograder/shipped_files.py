"""Reading the assignment's own data files is not a finding.

An Otter master notebook that lists data files under ``files:`` ships them to students
and into the autograder zip (``files/``), and its template reads them
(``pd.read_csv("data.csv")``). The static screen (:mod:`autograder.screen`) flags every
file read, which would send every submission of such an assignment to review. Here a
``file`` finding is dropped when its line only *reads*, with one of the read calls below,
a file named by a string literal that the zip ships under ``files/``: the student has the
same file, so reading it reveals nothing. Writes, other paths, computed paths and other
rules stay findings.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path, PurePosixPath

__all__ = ["READ_CALLS", "drop_shipped_file_reads", "shipped_files"]

READ_CALLS = {"read_csv", "read_table", "read_fwf", "read_json", "loadtxt", "genfromtxt", "read_text", "read_bytes", "open"}
"""Calls whose finding may be dropped (pandas/NumPy readers, ``Path.read_*``, ``open``)."""

_CALL = re.compile(r"\b(\w+)\s*\(\s*(?:[\w.]+\s*\(\s*)?(['\"])([^'\"\\]+)\2\s*\)?\s*(?P<rest>[,)])")
_READ_MESSAGE = re.compile(r"(reads or writes a file \((%s)\)|opens a file)$" % "|".join(sorted(READ_CALLS)))
_WRITE_MODE = re.compile(r"""['"][^'"]*[wax+][^'"]*['"]""")


def shipped_files(autograder_zip: Path) -> set[str]:
    """Relative paths of the files an autograder zip ships under ``files/`` (as the
    notebook names them: ``data.csv``, ``data/train.csv``); empty for an unreadable zip."""
    try:
        with zipfile.ZipFile(autograder_zip) as archive:
            names = archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return set()
    return {str(PurePosixPath(n).relative_to("files")) for n in names if n.startswith("files/") and not n.endswith("/")}


def _reads_shipped(code: str, shipped: set[str]) -> bool:
    calls = list(_CALL.finditer(code))
    if len(calls) != 1 or calls[0].group(1) not in READ_CALLS:
        return False
    path = calls[0].group(3).removeprefix("./")
    if path not in shipped:
        return False
    if calls[0].group(1) == "open" and _WRITE_MODE.search(code[calls[0].end(3) + 1:]):
        return False
    return True


def drop_shipped_file_reads(findings: list[dict], shipped: set[str]) -> list[dict]:
    """``findings`` (``Finding.to_dict()`` forms) without ``file`` findings whose line reads
    a shipped file by its literal name (see module doc)."""
    if not shipped:
        return findings
    return [f for f in findings if not (f.get("rule") == "file" and _READ_MESSAGE.match(str(f.get("message", "")))
                                        and _reads_shipped(str(f.get("code", "")), shipped))]
