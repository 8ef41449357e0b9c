"""Otter's test files, read with otter's own classes.

Otter Assign writes one test file per autograded question into the autograder zip's
``tests/``, in one of two formats (``tests: ok_format:`` in the ASSIGNMENT CONFIG):

* exception format: a Python file with ``OK_FORMAT = False``, ``name``, optional ``points``
  and ``@test_case(points=..., hidden=...)`` functions
  (:class:`otter.test_files.exception_test.ExceptionTestFile`);
* OK format: ``OK_FORMAT = True`` and a ``test = {"name": ..., "points": ..., "suites": [...]}``
  dict of doctests (:class:`otter.test_files.ok_test.OKTestFile`).

:func:`load_test_file` picks the class the way otter's ``create_test_file`` does (by the
file's ``OK_FORMAT`` global) but from a string, so a test file is never written to disk.
Points possible, per-test-case points (``points`` as a number, a list per test case or
absent: otter's ``TestFile.resolve_test_file_points``), hidden/public and the success and
failure messages all come from the resulting otter objects.

Loading a test file executes its top level (as otter does): the definitions of the test
functions, not their bodies. The file comes from the instructor's autograder zip.
"""

from __future__ import annotations

import base64
import binascii
import importlib.util
import marshal
import types
import zipfile
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from otter.test_files.abstract_test import TestFile

__all__ = ["TestFileError", "compiled_test_file", "load_test_file", "read_zip_tests"]

OK_FORMAT_VARNAME = "OK_FORMAT"
"""The global of a test file that says which format it is (otter's ``nbmeta_config.OK_FORMAT_VARNAME``)."""


class TestFileError(ValueError):
    """A test file otter's classes cannot read; the message names the file and the reason."""

    __test__ = False  # not a pytest test class


def compiled_test_file(source: str, path: str) -> str:
    """The code :func:`load_test_file` compiles from ``source``, as text to hand to another
    process of the same interpreter: the interpreter's bytecode magic number (hex), a
    colon, then ``marshal.dumps`` of the code object in base64. Made once per test file in
    the fork engine's grading process and sent with the tests, so that each child loads
    the code (about 0.02 ms a file) instead of compiling it (0.6 to 1.3 ms a file, about
    3 ms a submission, measured 2026-12-01); the same precompiling the engine already does
    for the support modules' ``.pyc`` files. The grading process is the child's trusted
    side: the child never sends code the other way.

    Args:
        source: the file's text.
        path: its path as otter names it (``./tests/q1.py``).

    Returns:
        str: ``"<magic hex>:<base64>"``.

    Raises:
        SyntaxError, ValueError: ``source`` does not compile (:func:`load_test_file` on
            it reports the same as a :class:`TestFileError`).
    """
    code = _compile(source, path)
    return f"{importlib.util.MAGIC_NUMBER.hex()}:{base64.b64encode(marshal.dumps(code)).decode('ascii')}"


def _compile(source: str, path: str):
    # compiled once, as otter compiles it (its modules import no __future__ features;
    # dont_inherit keeps this module's ``annotations`` out)
    return compile(source, path, "exec", dont_inherit=True)


# bound when this module is imported (in the fork engine's zygote, before any student
# code; these names are snapshotted with the module): the child calls them on the tests
# after the student's code ran, and marshal, base64 and binascii are modules a notebook can
# patch (marshal.loads replaced in a cell made every hidden test pass: red team atk5, b41)
_LOADS = marshal.loads
_A2B_BASE64 = binascii.a2b_base64
_MAGIC_HEX = importlib.util.MAGIC_NUMBER.hex()


def _precompiled(compiled: str | None):
    """The code object of :func:`compiled_test_file`'s text, or None (no text, another
    interpreter's bytecode, or text that is not such code: the caller compiles)."""
    if not compiled:
        return None
    magic, _, data = compiled.partition(":")
    if magic != _MAGIC_HEX:
        return None
    try:
        # base64.b64decode(data, validate=True) is this call (Python 3.11), without its
        # module-level lookup of binascii.a2b_base64 at call time
        code = _LOADS(_A2B_BASE64(data.encode("ascii"), strict_mode=True))
    except (ValueError, EOFError, TypeError, binascii.Error):
        return None
    return code if type(code) is types.CodeType else None


def load_test_file(source: str, path: str, compiled: str | None = None) -> "TestFile":
    """Parse one otter test file with otter's own class for its format.

    Args:
        source: the file's text.
        path: its path as otter names it (``./tests/q1.py``); kept on the object, used in
            results.json and in messages.
        compiled: optional, :func:`compiled_test_file` of the same ``source`` and ``path``
            (made by the same interpreter): its code is used instead of compiling
            ``source`` again; the object built is the same. Ignored when it does not
            hold such code (another interpreter's): ``source`` is compiled.

    Returns:
        otter.test_files.abstract_test.TestFile: an ``OKTestFile`` when the file sets
        ``OK_FORMAT = True``, else an ``ExceptionTestFile``; ``test_cases[i].points`` are
        resolved (floats or ints), ``.possible`` is the question's points possible.

    Raises:
        TestFileError: the file does not execute, has no ``OK_FORMAT`` global, or otter
            rejects it (e.g. a ``points`` list whose length differs from the test cases).
    """
    from otter.test_files.exception_test import ExceptionTestFile
    from otter.test_files.ok_test import OKTestFile

    try:
        # compiled once (or handed over compiled), for both execs below
        code = _precompiled(compiled)
        if code is None:
            code = _compile(source, path)
        env: dict = {}
        exec(code, env)  # noqa: S102 - otter's own create_test_file does the same
        if OK_FORMAT_VARNAME not in env:
            raise TestFileError(f"{path}: not an otter test file (no {OK_FORMAT_VARNAME} global)")
        if env[OK_FORMAT_VARNAME]:
            return OKTestFile.from_spec(env["test"], path=path)
        return _exception_test_file(ExceptionTestFile, code, source, path)
    except TestFileError:
        raise
    except Exception as error:  # noqa: BLE001 - otter raises many types (AssertionError, ValueError, ...)
        raise TestFileError(f"{path}: otter cannot read this test file: {type(error).__name__}: {error}") from None


def _exception_test_file(cls, code, source: str, path: str) -> "TestFile":
    """``cls.from_string(source, path=path)`` (otter's ``ExceptionTestFile``) from the code
    :func:`load_test_file` already compiled: ``from_string`` is ``_compile_string`` (a bare
    ``compile(source, path, "exec")``, the same call as ours) then ``_from_compiled_code``
    and ``source`` set. Compiling is nearly all of loading a test file (about 0.4-1 ms
    each for the bundled ones, 2026-12-01), and the fork engine's child loads every file
    of every submission. An otter without these steps is asked for ``from_string``."""
    build = getattr(cls, "_from_compiled_code", None)
    if build is None or getattr(cls, "_compile_string", None) is None:
        return cls.from_string(source, path=path)
    test_file = build(code, path=path)
    test_file.source = source
    return test_file


def read_zip_tests(archive: zipfile.ZipFile) -> list[tuple[str, str]]:
    """The test files at ``tests/*.py`` of an open autograder zip.

    Returns:
        list[tuple[str, str]]: ``("./tests/q1.py", source)`` pairs sorted by path (the
        order of otter's own ``glob`` of the tests folder after sorting).
    """
    return sorted(
        (f"./{name}", archive.read(name).decode("utf-8"))
        for name in archive.namelist()
        if PurePosixPath(name).parent == PurePosixPath("tests") and name.endswith(".py")
    )
