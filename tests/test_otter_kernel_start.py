"""The otter engine starts a new worker when the Jupyter kernel dies while it starts
(``RuntimeError: Kernel died before replying to kernel_info``: seen once under load in the
suite, 2026-12-01). Nothing of the submission ran then, so the grade is the one a kernel
that started gives; a kernel that never starts is a failure after
:data:`~autograder.engines.otter.engine.KERNEL_STARTS` workers, not a hang.

The kernels here are real: a ``sitecustomize`` module on ``PYTHONPATH`` (which the worker
and its kernel inherit) ends a Jupyter kernel's process at its start while a counter file
holds fewer lines than the test asks for."""

from __future__ import annotations

import os

import pytest

from autograder.engines import get_engine
from autograder.engines.limits import Limits
from autograder.engines.otter.engine import KERNEL_STARTS
from autograder.submissions import Submission

pytestmark = pytest.mark.slow

_SITECUSTOMIZE = '''\
import os, sys
if "ipykernel_launcher" in " ".join(getattr(sys, "orig_argv", ())) and os.environ.get("GRADKIT_TEST_KERNEL_STARTS"):
    with open(os.environ["GRADKIT_TEST_KERNEL_STARTS"], "a") as _log:
        _log.write(f"{os.getpid()}\\n")
    with open(os.environ["GRADKIT_TEST_KERNEL_STARTS"]) as _log:
        if len(_log.read().split()) <= int(os.environ["GRADKIT_TEST_KERNEL_DEATHS"]):
            os._exit(1)  # the kernel dies before it answers kernel_info
'''


@pytest.fixture
def dying_kernels(tmp_path, monkeypatch):
    """Set how many kernels die at their start; yields the file with a line per kernel started."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(_SITECUSTOMIZE, encoding="utf-8")
    starts = tmp_path / "kernel-starts.txt"
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("GRADKIT_TEST_KERNEL_STARTS", str(starts))

    def deaths(n: int):
        monkeypatch.setenv("GRADKIT_TEST_KERNEL_DEATHS", str(n))
        return starts

    return deaths


def test_a_kernel_that_dies_at_its_start_is_started_again_and_the_grade_is_whole(built, dying_kernels):
    starts = dying_kernels(1)
    outcome = get_engine("otter").grade(Submission(built.solution_notebook, "solution"), built.autograder_zip, limits=Limits())
    assert len(starts.read_text().split()) == 2  # the first kernel died, the second graded
    assert outcome.status == "Completed", outcome.status
    assert outcome.scores == built.points, outcome.scores


def test_a_kernel_that_never_starts_fails_the_submission_after_the_set_number_of_workers(built, dying_kernels):
    starts = dying_kernels(100)
    outcome = get_engine("otter").grade(Submission(built.solution_notebook, "solution"), built.autograder_zip, limits=Limits())
    assert len(starts.read_text().split()) == KERNEL_STARTS == 2
    assert outcome.status.startswith(f"grading crashed: the Jupyter kernel did not start, {KERNEL_STARTS} times: "), outcome.status
    assert "kernel_info" in outcome.status, outcome.status  # jupyter_client's own reason, kept
    assert not any(outcome.scores.values()), outcome.scores
