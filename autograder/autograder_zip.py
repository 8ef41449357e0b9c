"""Reading facts out of an Otter autograder zip without executing anything in it."""

from __future__ import annotations

import ast
import zipfile
from pathlib import Path, PurePosixPath

__all__ = ["AutograderZipError", "question_points"]


class AutograderZipError(Exception):
    """The file is not a usable Otter autograder zip; the message says why."""


def question_points(autograder_zip: Path) -> dict[str, float]:
    """Points possible per question, read from the zip's ``tests/*.py`` files.

    Otter writes one test file per question with top-level ``name = "q1"`` and
    ``points = 2`` (exception-based format) or ``test = {"name": ..., "points": ...}``
    (OK format); both are read with :mod:`ast`, never executed.

    Args:
        autograder_zip: path of the zip.

    Returns:
        dict[str, float]: question name -> points, in question-name order.

    Raises:
        AutograderZipError: not a zip, no ``tests/``, or a test file without points.
    """
    try:
        archive = zipfile.ZipFile(autograder_zip)
    except (zipfile.BadZipFile, FileNotFoundError, IsADirectoryError) as error:
        raise AutograderZipError(f"{autograder_zip}: not an Otter autograder zip ({error})") from None
    points: dict[str, float] = {}
    with archive:
        tests = [n for n in archive.namelist() if PurePosixPath(n).parent == PurePosixPath("tests") and n.endswith(".py")]
        if not tests:
            raise AutograderZipError(f"{autograder_zip}: no tests/*.py inside; build it with `gradkit build`")
        for member in tests:
            name, pts = _read_test_file(archive.read(member).decode("utf-8"), member)
            points[name] = pts
    return dict(sorted(points.items()))


def _read_test_file(source: str, member: str) -> tuple[str, float]:
    values = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    if "test" in values and isinstance(values["test"], dict):
        values = values["test"]
    if "points" not in values or values["points"] is None:
        raise AutograderZipError(f"{member}: the test file gives no points for its question")
    return str(values.get("name", PurePosixPath(member).stem)), float(values["points"])
