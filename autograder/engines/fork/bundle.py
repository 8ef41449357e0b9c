"""What the fork engine takes from an autograder zip, and how it scores a child's reply.

The zip is read in the engine's process only (:func:`read_bundle`); the child gets the
support files in its working folder and the tests on its test pipe after its last cell.
Points are computed here with otter's own classes (:func:`score`), from nothing but
pass/fail and a message per test case.
"""

from __future__ import annotations

import copy
import functools
import json
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...otter_tests import TestFileError, compiled_test_file, load_test_file, read_zip_tests

__all__ = ["Bundle", "read_bundle", "score"]


@dataclass
class Bundle:
    """What the engine needs from an autograder zip, read once per batch."""

    tests: list[tuple[str, str]]  # ("./tests/q1.py", source), sorted as otter sorts its glob
    config: dict
    support: dict[str, bytes]  # files/ of the zip -> contents
    compiled: list[str] = field(default_factory=list)  # per test file, otter_tests.compiled_test_file (sent to each child)
    _otter_config: Any = field(default=None, init=False, repr=False, compare=False)

    def otter_config(self):
        """otter's ``AutograderConfig`` of :attr:`config`, made on first use and shared by
        every submission (otter's results only read it): making one per submission was
        about 0.4 ms of the grader's CPU (fica's checks of each key, measured 2026-12-01).
        Two threads making it at once both make the same one; either is kept."""
        if self._otter_config is None:
            from otter.run.run_autograder.autograder_config import AutograderConfig

            self._otter_config = AutograderConfig(self.config)
        return self._otter_config


def read_bundle(autograder_zip: Path) -> Bundle:
    """The tests, ``otter_config.json`` and support files of ``autograder_zip``.

    Raises:
        ValueError: a test file otter cannot read (the message names the zip).
    """
    support, config = {}, {}
    with zipfile.ZipFile(autograder_zip) as z:
        tests = read_zip_tests(z)
        for name in z.namelist():
            if name.startswith("files/") and not name.endswith("/"):
                support[name[len("files/"):]] = z.read(name)
            elif name == "otter_config.json":
                config = json.loads(z.read(name))
    support.update(_compiled(support))
    compiled = []
    for path, source in tests:  # both formats (exception and OK), read by otter's classes
        try:
            code = compiled_test_file(source, path)  # compiled once: the check below loads this code
        except (SyntaxError, ValueError):
            code = None  # load_test_file compiles the source again and says what is wrong
        try:
            load_test_file(source, path, code)
        except TestFileError as error:
            raise ValueError(f"{autograder_zip}: {error}") from None
        compiled.append(code)
    return Bundle(tests, config, support, compiled)


def _compiled(support: dict[str, bytes]) -> dict[str, bytes]:
    """Unchecked-hash ``.pyc`` files for the top-level support modules, so each child
    imports the check library without compiling it again (about 30 ms a submission)."""
    import importlib.util
    import py_compile

    out = {}
    with tempfile.TemporaryDirectory(prefix="gradkit-pyc-") as tmp:
        for name, data in support.items():
            if name.endswith(".py") and "/" not in name:
                Path(tmp, name).write_bytes(data)
                pyc = importlib.util.cache_from_source(name)
                try:
                    py_compile.compile(str(Path(tmp, name)), cfile=str(Path(tmp, pyc)), doraise=True,
                                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
                except py_compile.PyCompileError:
                    continue  # the child reports the syntax error when it imports the module
                out[pyc] = Path(tmp, pyc).read_bytes()
    return out


@functools.lru_cache(maxsize=256)
def _parsed_test_file(source: str, path: str):
    """:func:`~autograder.otter_tests.load_test_file`, once per test file: parsing one is
    about 5 ms of the grader's CPU per submission. Shared between threads and submissions,
    so never changed: :func:`score` sets the results on a shallow copy."""
    return load_test_file(source, path)


def score(bundle: Bundle, reply: dict) -> tuple[dict[str, float], dict]:
    """Points and results.json from the child's pass/fail reply, with otter's own classes.

    Args:
        bundle: the zip's tests.
        reply: :attr:`autograder.engines.fork.protocol.Results.results`.

    Returns:
        tuple: (question name -> points (float), the Gradescope-format results.json dict).

    Raises:
        ValueError: the reply does not have one ``(passed, message)`` per test case of
            every test file.
    """
    from otter.test_files import GradingResults
    from otter.test_files.abstract_test import TestCaseResult

    if not isinstance(reply, dict):
        raise ValueError("the grading reply is not a mapping")
    test_files = []
    for path, source in bundle.tests:
        try:
            test_file = copy.copy(_parsed_test_file(source, path))  # this submission's results go on the copy
        except TestFileError as error:
            raise ValueError(str(error)) from None
        cases = reply.get(path)
        if not isinstance(cases, list) or len(cases) != len(test_file.test_cases):
            raise ValueError(f"the grading reply for {path} does not match its test cases")
        results = []
        for case, answer in zip(test_file.test_cases, cases):
            if not (isinstance(answer, (list, tuple)) and len(answer) == 2 and isinstance(answer[0], bool) and isinstance(answer[1], str)):
                raise ValueError(f"the grading reply for {path} is malformed")
            results.append(TestCaseResult(test_case=case, message=answer[1], passed=answer[0]))
        test_file.test_case_results = results
        test_files.append(test_file)
    graded = GradingResults(test_files)
    scores = {name: float(tf.score) for name, tf in graded.results.items()}
    return scores, graded.to_gradescope_dict(bundle.otter_config())
