"""gradkit's reader of otter's test files (:func:`autograder.otter_tests.load_test_file`)
builds exactly the object otter's own ``ExceptionTestFile.from_string`` builds from the
same text, though it compiles the text only once: the same test cases, points, flags and
code, the same results and failure messages (with the failing line) when run, and the
same errors for a file otter cannot read."""

from __future__ import annotations

import textwrap

import pytest
from otter.test_files.exception_test import ExceptionTestFile

from autograder.otter_tests import TestFileError, load_test_file

SOURCE = textwrap.dedent('''\
    from otter.test_files import test_case

    OK_FORMAT = False

    name = "q1"
    points = [0.5, 1.5, 2]
    all_or_nothing = False

    @test_case(hidden=False, success_message="fine")
    def test_value(env, x):
        assert x == 3, "x is not 3"

    @test_case(hidden=True, failure_message="look again")
    def test_type(x):
        assert isinstance(x, int)

    @test_case(hidden=True)
    def test_annotated(env, y: int = 1) -> None:
        assert env["x"] > y
    ''')


def _described(test_file):
    return {
        "type": type(test_file), "name": test_file.name, "path": test_file.path, "possible": test_file.possible,
        "all_or_nothing": test_file.all_or_nothing, "source": test_file.source,
        "cases": [(c.name, c.points, c.hidden, c.success_message, c.failure_message, c.body.test_func.__code__.co_code,
                   c.body.test_func.__code__.co_flags, c.body.test_func.__code__.co_filename, c.body.test_func.__annotations__)
                  for c in test_file.test_cases],
    }


def _run(test_file, env):
    test_file.run(env)
    return [(r.passed, r.message) for r in test_file.test_case_results], test_file.grade


def test_the_same_test_file_as_otters_own_reader():
    ours, theirs = load_test_file(SOURCE, "./tests/q1.py"), ExceptionTestFile.from_string(SOURCE, path="./tests/q1.py")
    assert _described(ours) == _described(theirs)
    assert ours.test_cases[2].body.test_func.__annotations__ == {"y": int, "return": None}  # evaluated, as otter does
    for env in ({"x": 3}, {"x": 2.0}, {}):
        assert _run(load_test_file(SOURCE, "./tests/q1.py"), env) == _run(ExceptionTestFile.from_string(SOURCE, path="./tests/q1.py"), env)
    messages = [m for _, m in _run(load_test_file(SOURCE, "./tests/q1.py"), {"x": 2.0})[0]]
    assert "Error at line 11 in test q1:" in messages[0] and "x is not 3" in messages[0]


def test_an_annotation_otter_cannot_evaluate_fails_as_in_otter():
    source = SOURCE + "\nlimit: UndefinedName = 3\n"
    with pytest.raises(NameError):
        ExceptionTestFile.from_string(source, path="./tests/q1.py")
    with pytest.raises(TestFileError, match="NameError: name 'UndefinedName' is not defined"):
        load_test_file(source, "./tests/q1.py")


def test_a_file_without_the_format_global_or_that_does_not_compile_is_refused():
    with pytest.raises(TestFileError, match="no OK_FORMAT global"):
        load_test_file(SOURCE.replace("OK_FORMAT = False", ""), "./tests/q1.py")
    with pytest.raises(TestFileError, match="SyntaxError"):
        load_test_file(SOURCE + "\ndef (:\n", "./tests/q1.py")
