"""Reading facts out of an Otter autograder zip."""

from __future__ import annotations

import zipfile
from pathlib import Path

from .otter_tests import TestFileError, load_test_file, read_zip_tests

__all__ = ["AutograderZipError", "question_points"]


class AutograderZipError(Exception):
    """The file is not a usable Otter autograder zip; the message says why."""


def question_points(autograder_zip: Path) -> dict[str, float]:
    """Points possible per autograded question, from otter's own test file objects.

    Otter writes one test file per autograded question into the zip's ``tests/``
    (exception or OK format); each is read with otter's class for its format
    (:func:`autograder.otter_tests.load_test_file`), whose ``possible`` resolves
    ``points`` given as a number, as a list per test case, per test case, or not at all
    (otter's rule, ``TestFile.resolve_test_file_points``: 1 point split evenly across the
    test cases). Manual questions have no test file and are not listed.

    Args:
        autograder_zip: path of the zip.

    Returns:
        dict[str, float]: question name -> points possible, in question-name order.

    Raises:
        AutograderZipError: not a zip, no ``tests/``, or a test file otter cannot read.
    """
    try:
        archive = zipfile.ZipFile(autograder_zip)
    except (zipfile.BadZipFile, FileNotFoundError, IsADirectoryError) as error:
        raise AutograderZipError(f"{autograder_zip}: not an Otter autograder zip ({error})") from None
    with archive:
        tests = read_zip_tests(archive)
    if not tests:
        raise AutograderZipError(f"{autograder_zip}: no tests/*.py inside; build it with `gradkit build`")
    points: dict[str, float] = {}
    for path, source in tests:
        try:
            test_file = load_test_file(source, path)
        except TestFileError as error:
            raise AutograderZipError(f"{autograder_zip}: {error}") from None
        points[test_file.name] = float(test_file.possible)
    return dict(sorted(points.items()))
