"""gradkit's reader of otter's test files (:func:`autograder.otter_tests.load_test_file`)
builds exactly the object otter's own ``ExceptionTestFile.from_string`` builds from the
same text, though it compiles the text only once: the same test cases, points, flags and
code, the same results and failure messages (with the failing line) when run, and the
same errors for a file otter cannot read. Handed the code the grading process compiled
(:func:`autograder.otter_tests.compiled_test_file`, as the fork engine sends it to each
child), it does not compile at all, and builds the same object."""

from __future__ import annotations

import base64
import importlib.util
import marshal
import textwrap
import zipfile

import pytest
from otter.test_files.exception_test import ExceptionTestFile

from autograder import otter_tests
from autograder.otter_tests import TestFileError, compiled_test_file, load_test_file

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


def test_code_compiled_by_the_grading_process_is_used_instead_of_compiling(monkeypatch):
    compiled = compiled_test_file(SOURCE, "./tests/q1.py")
    magic, _, data = compiled.partition(":")
    assert magic == importlib.util.MAGIC_NUMBER.hex()
    assert marshal.loads(base64.b64decode(data)) == compile(SOURCE, "./tests/q1.py", "exec", dont_inherit=True)

    def no_compiling(source, path):
        raise AssertionError("compiled again")

    monkeypatch.setattr(otter_tests, "_compile", no_compiling)
    ours = load_test_file(SOURCE, "./tests/q1.py", compiled)  # no compile() at all
    theirs = ExceptionTestFile.from_string(SOURCE, path="./tests/q1.py")
    assert _described(ours) == _described(theirs)
    for env in ({"x": 3}, {"x": 2.0}, {}):
        assert _run(load_test_file(SOURCE, "./tests/q1.py", compiled), env) == _run(ExceptionTestFile.from_string(SOURCE, path="./tests/q1.py"), env)
    with pytest.raises(TestFileError, match="compiled again"):  # without it, the source is compiled
        load_test_file(SOURCE, "./tests/q1.py")


def test_code_it_cannot_use_is_compiled_from_the_source():
    compiled = compiled_test_file(SOURCE, "./tests/q1.py")
    _, _, data = compiled.partition(":")
    expected = _described(load_test_file(SOURCE, "./tests/q1.py"))
    for unusable in ("", "00000000:" + data, compiled[:-40], compiled.split(":")[0] + ":!!", compiled.split(":")[0] + ":" + "aGVsbG8=",
                     compiled.split(":")[0] + ":" + base64.b64encode(marshal.dumps(("not", "code"))).decode()):
        assert _described(load_test_file(SOURCE, "./tests/q1.py", unusable)) == expected


@pytest.mark.parametrize("patched", ["marshal.loads", "binascii.a2b_base64", "base64.b64decode"])
def test_a_notebooks_patch_of_the_modules_that_load_the_compiled_code_is_not_used(patched, monkeypatch):
    """Red team atk5 (``b41``): marshal, base64 and binascii are modules a notebook can patch
    in the fork engine's child before the tests load; the loader uses the functions bound
    when it was imported (in the zygote), so a replaced one builds nothing."""
    import binascii

    compiled = compiled_test_file(SOURCE, "./tests/q1.py")
    forged = compile(SOURCE.replace("assert", "assert True or"), "./tests/q1.py", "exec", dont_inherit=True)
    module_name, name = patched.split(".")
    module = {"marshal": marshal, "binascii": binascii, "base64": base64}[module_name]
    stand_in = {"marshal.loads": lambda data, *args: forged,
                "binascii.a2b_base64": lambda data, *args, **kwargs: marshal.dumps(forged),
                "base64.b64decode": lambda data, *args, **kwargs: marshal.dumps(forged)}[patched]
    monkeypatch.setattr(module, name, stand_in)
    loaded = load_test_file(SOURCE, "./tests/q1.py", compiled)
    monkeypatch.undo()
    assert _described(loaded) == _described(ExceptionTestFile.from_string(SOURCE, path="./tests/q1.py"))
    for env in ({"x": 3}, {"x": 2.0}, {}):
        assert _run(loaded, env) == _run(ExceptionTestFile.from_string(SOURCE, path="./tests/q1.py"), env)


def test_the_fork_engines_bundle_carries_each_test_files_compiled_code(tmp_path):
    from autograder.engines.fork import protocol
    from autograder.engines.fork.bundle import read_bundle

    other = SOURCE.replace('name = "q1"', 'name = "q2"')
    archive = tmp_path / "autograder.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("tests/q2.py", other)
        z.writestr("tests/q1.py", SOURCE)
        z.writestr("otter_config.json", "{}")
    bundle = read_bundle(archive)
    assert [path for path, _ in bundle.tests] == ["./tests/q1.py", "./tests/q2.py"]
    assert bundle.compiled == [compiled_test_file(source, path) for path, source in bundle.tests]
    message = protocol.ZipTests(bundle.tests, bundle.compiled)
    assert protocol.decode(protocol.encode(message)[:-1], (protocol.ZipTests,)) == message
    assert protocol.decode(b'{"kind": "tests", "tests": [["./tests/q1.py", "x = 1"]]}', (protocol.ZipTests,)).compiled == []
