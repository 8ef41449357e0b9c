"""Shared fixtures: one real build of the bundled assignment, and its samples graded once.

Everything here is real: Otter Assign builds the notebooks, a Jupyter kernel executes
them, and otter-grader runs the tests. Session-scoped, so the suite builds once.

The ``slow`` marker (registered in pyproject.toml, strict markers) is on every test that
starts a Jupyter kernel, the fork engine's zygote or an otter run (otter's grading, the
``otter`` engine, a Gradescope-layout ``run_autograder``). It is given here by fixture
use: every test that uses one of :data:`ENGINE_FIXTURES` (directly or through another
fixture) is slow; the few tests that start one themselves carry ``@pytest.mark.slow``.
A guard keeps that exact: a test without the marker that starts such a process (seen by
an audit hook on ``subprocess.Popen``) fails, naming it. ``pytest -m "not slow"`` runs
the unit tests alone.

``--full-differential`` grades every corpus sample with both engines in
``tests/test_engines.py`` (default: one sample of each corpus kind).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import pytest

from instructor.batch import grade_batch
from instructor.build import build_assignment
from instructor.samples import load_samples, write_samples

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT = REPO / "assignments" / "autograd-basics"


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The autograd-basics assignment built (and verified) into a temporary dist/."""
    return build_assignment(ASSIGNMENT, tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def master():
    return nbformat.read(ASSIGNMENT / "autograd-basics.ipynb", as_version=4)


@pytest.fixture(scope="session")
def bundled_samples():
    return load_samples(ASSIGNMENT / "samples")


@pytest.fixture(scope="session")
def graded_samples(built, bundled_samples, tmp_path_factory):
    """(samples, grade table, grading output folder) for the bundled samples."""
    root = tmp_path_factory.mktemp("samples")
    paths = write_samples(built.student_notebook, bundled_samples, root / "submissions")
    out = root / "grading"
    table = grade_batch(autograder_zip=built.autograder_zip, submissions=paths, out_dir=out, progress=False).table
    return bundled_samples, table, out


@pytest.fixture(scope="session")
def desk_listener():
    """A local HTTP listener that records every request (the desk's hostile payloads point at it)."""
    from .desk_class import Listener

    listener = Listener()
    yield listener
    listener.close()


@pytest.fixture(scope="session")
def desk_class(built, desk_listener, tmp_path_factory):
    """The desk's class graded once (tests/desk_class.py): its grading output folder.
    Tests that change it work on a copy (:func:`shutil.copytree`)."""
    from .desk_class import grade_desk_class

    return grade_desk_class(built, tmp_path_factory.mktemp("desk"), desk_listener.url)


# ---------------------------------------------------------------- the slow marker

ENGINE_FIXTURES = frozenset({
    "built",            # build_assignment verifies with the fork engine (a zygote)
    "manual_built",     # tests/test_manual_questions.py: the same for manual-mini
    "second_built",     # tests/test_second_assignment.py: `gradkit build` (verified)
    "engines",          # tests/test_otter_compat.py: a fork engine and an otter engine
})
"""Fixtures that start a kernel, a zygote or an otter run (themselves or through a build
that verifies); every fixture that depends on one is covered through pytest's closure."""


def pytest_addoption(parser):
    parser.addoption("--full-differential", action="store_true", default=False,
                     help="tests/test_engines.py: grade every corpus sample with both engines "
                          "(default: one sample of each corpus kind)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if ENGINE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


_ENGINE_MODULES = ("ipykernel", "zygote", "otter")
"""``python -m <module>`` starts that count: a Jupyter kernel, the fork engine's zygote,
the otter engine's worker or otter itself."""
_ENGINE_PROGRAMS = ("otter", "run_autograder")
"""Programs run by path that count: otter's CLI, a Gradescope-layout ``run_autograder``."""

_started: list[str] = []


def _engine_process(argv) -> str | None:
    """The command line of ``argv`` if it starts a kernel, a zygote or otter, else None."""
    try:
        argv = [os.fsdecode(a) for a in ([argv] if isinstance(argv, (str, bytes, os.PathLike)) else argv)]
    except TypeError:
        return None
    if not argv:
        return None
    if "-m" in argv[:-1]:
        module = argv[argv.index("-m") + 1]
        if any(word in module for word in _ENGINE_MODULES):
            return " ".join(argv)
    if os.path.basename(argv[0]) in _ENGINE_PROGRAMS:
        return " ".join(argv)
    return None


def _audit(event: str, args: tuple) -> None:
    if event == "subprocess.Popen":
        command = _engine_process(args[1])
        if command is not None:
            _started.append(command)


sys.addaudithook(_audit)


_first_started = pytest.StashKey[int]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item.stash[_first_started] = len(_started)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    started = _started[item.stash.get(_first_started, len(_started)):]
    if started and report.passed and item.get_closest_marker("slow") is None:
        item.stash[_first_started] = len(_started)  # reported once
        report.outcome = "failed"
        report.longrepr = (f"{item.nodeid} is not marked slow but started {started[0]!r}: mark it "
                           "@pytest.mark.slow or use a fixture of tests/conftest.py's ENGINE_FIXTURES")
