"""The fork engine's child runs the test files' code as the grading process compiled it
(``ZipTests.compiled``, :func:`autograder.otter_tests.compiled_test_file`) instead of
compiling their sources itself: shown by handing it, for q1, code compiled from a variant
of q1 whose every case fails, under the same path and with the same test cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.engines.fork.engine import ForkEngine
from autograder.engines.limits import Limits
from autograder.otter_tests import compiled_test_file, load_test_file
from autograder.submissions import Submission

SAMPLES = Path(__file__).resolve().parent.parent / "assignments" / "autograd-basics" / "samples"

# appended to q1's source: every test case's function replaced by one that fails
FAIL_EVERY_CASE = '''

def _compiled_by_the_grader(env):
    raise AssertionError("the code the grading process compiled")

for _case in [value for value in globals().values() if isinstance(value, test_case)]:
    _case.test_func = _compiled_by_the_grader
del _case  # otter collects every test_case bound at the top level
'''


@pytest.mark.slow
def test_the_child_runs_the_code_the_grading_process_compiled(built, tmp_path):
    from instructor.samples import load_samples, write_samples

    samples = write_samples(built.student_notebook, load_samples(SAMPLES), tmp_path)
    solution = Submission(path=next(p for p in samples if p.stem == "solution"), label="solution")
    engine = ForkEngine(one_submission=True)
    try:
        bundle = engine._bundle(built.autograder_zip)  # the engine's own, read once per batch
        path, source = bundle.tests[0]
        assert path == "./tests/q1.py" and bundle.compiled[0] == compiled_test_file(source, path)
        assert len(load_test_file(source + FAIL_EVERY_CASE, path).test_cases) == len(load_test_file(source, path).test_cases)
        right = engine.grade(solution, built.autograder_zip, limits=Limits())
        bundle.compiled[0] = compiled_test_file(source + FAIL_EVERY_CASE, path)
        failing = engine.grade(solution, built.autograder_zip, limits=Limits())
    finally:
        engine.close()
    assert right.status == failing.status == "Completed"
    assert right.scores["q1"] > 0 and failing.scores["q1"] == 0  # the source sent alongside passes; the code sent fails
    assert {q: s for q, s in right.scores.items() if q != "q1"} == {q: s for q, s in failing.scores.items() if q != "q1"}
