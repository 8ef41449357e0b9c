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

``--full-differential`` has the otter engine grade every case where by default it grades
the first of each kind: every corpus sample in ``tests/test_engines.py``, every real-tool
case in ``tests/test_realtools.py``, every case of the three-way test in
``tests/test_gradescope_engine.py``.

The suite runs on pytest-xdist workers (``-n 2`` in pyproject.toml's ``addopts``, with
the scheduler of :func:`pytest_xdist_make_scheduler`). The build and the bundled samples' grading are made once for all workers
(:func:`_once`), and so is the otter engine's grading that the differential test and the
three-way test share (``otter_shared``); each test file is one xdist group, kept whole on one worker (its module
fixtures are set up once), files that share a session fixture one group
(:data:`SHARED_GROUPS`: the desk's class, the hostile class's grading), the parts of the
three-way test a group each (:data:`SPLIT_TESTS`), and the
longest groups are handed out first (:data:`LONGEST_FIRST`), so that the two workers
finish together.
"""

from __future__ import annotations

import os
import pickle
import shutil
import sys
from pathlib import Path
from typing import Callable, TypeVar

import nbformat
import pytest
from filelock import FileLock

from instructor.batch import grade_batch
from instructor.build import build_assignment
from instructor.samples import load_samples, write_samples

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT = REPO / "assignments" / "autograd-basics"

T = TypeVar("T")


def _once(tmp_path_factory, name: str, make: Callable[[Path], T]) -> T:
    """``make(folder)`` once for the whole run, also across xdist workers.

    Without xdist: ``make`` into a fresh temporary folder. Under xdist (the pattern of
    pytest-xdist's documentation): the first worker to take the file lock in the folder
    the workers' temporary folders share makes it into ``<that folder>/<name>`` and
    pickles the result beside it; the others wait on the lock and read the pickle.

    Args:
        tmp_path_factory: pytest's session-scoped factory.
        name: the folder's name, unique per use.
        make: builds into the (not yet existing) folder it is given; returns a picklable value.

    Returns:
        What ``make`` returned (a copy unpickled from disk on the workers that did not make it).
    """
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        return make(tmp_path_factory.mktemp(name))
    shared = tmp_path_factory.getbasetemp().parent
    with FileLock(str(shared / f"{name}.lock")):
        done = shared / f"{name}.pickle"
        if done.exists():
            return pickle.loads(done.read_bytes())
        folder = shared / name
        if folder.exists():  # a worker failed half-way: start over
            shutil.rmtree(folder)
        result = make(folder)
        done.write_bytes(pickle.dumps(result))
        return result


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The autograd-basics assignment built (and verified) into a temporary dist/ (once per run,
    shared by the xdist workers: nothing writes into it)."""
    return _once(tmp_path_factory, "dist", lambda folder: build_assignment(ASSIGNMENT, folder))


@pytest.fixture(scope="session")
def master():
    return nbformat.read(ASSIGNMENT / "autograd-basics.ipynb", as_version=4)


@pytest.fixture(scope="session")
def bundled_samples():
    return load_samples(ASSIGNMENT / "samples")


@pytest.fixture(scope="session")
def graded_samples(built, bundled_samples, tmp_path_factory):
    """(samples, grade table, grading output folder) for the bundled samples (graded once per
    run, shared by the xdist workers; tests that change the output work on a copy)."""

    def grade(root: Path):
        paths = write_samples(built.student_notebook, bundled_samples, root / "submissions")
        out = root / "grading"
        table = grade_batch(autograder_zip=built.autograder_zip, submissions=paths, out_dir=out, progress=False).table
        return table, out

    table, out = _once(tmp_path_factory, "samples", grade)
    return bundled_samples, table, out


@pytest.fixture(scope="session")
def otter_shared(built, request, tmp_path_factory):
    """label -> gradebook row: the otter engine's grading of the bundled samples and the cheat
    corpus that the differential test (tests/test_engines.py) and the three-way test
    (tests/test_gradescope_engine.py) both compare (the first of each kind; every sample
    with ``--full-differential``): graded once per run, shared by the xdist workers
    (:func:`tests.differential.grade_shared_with_otter`)."""
    from .differential import grade_shared_with_otter

    full = request.config.getoption("--full-differential")
    return _once(tmp_path_factory, f"otter-shared-{'full' if full else 'firsts'}",
                 lambda folder: grade_shared_with_otter(built.student_notebook, built.autograder_zip, full, folder))


@pytest.fixture(scope="session")
def math_log_zip_run(built, bundled_samples, tmp_path_factory):
    """(results dict, CompletedProcess): the bundled sample q1-math-log (a hidden q1 test
    fails), uploaded under the notebook's own name, graded by the built zip's
    ``run_autograder`` in Gradescope's layout (:func:`tests.test_gradescope.run_in_gradescope_layout`,
    no prefix: this machine's user and Landlock): once per run, shared by the xdist workers,
    for tests/test_gradescope.py and tests/test_gradescope_engine.py, which both read it
    (about 6.5 s of CPU a run)."""
    from .test_gradescope import _sample_notebook, run_in_gradescope_layout

    sample = next(s for s in bundled_samples if s.name == "q1-math-log")

    def run(folder: Path):
        notebook = _sample_notebook(built.student_notebook, sample, folder / "upload")
        return run_in_gradescope_layout(built.autograder_zip, notebook, folder / "root")

    return _once(tmp_path_factory, "math-log-zip-run", run)


@pytest.fixture(scope="session")
def hostile_graded(built, bundled_samples, tmp_path_factory):
    """The hostile class graded once by ``gradkit grade`` with the fork engine
    (:func:`tests.hostile.grade_hostile_class`): tests/test_batch.py checks the run,
    tests/test_engines.py compares its rows with the otter engine's. Both files are one xdist
    group (:data:`SHARED_GROUPS`), so one worker grades it."""
    from .hostile import grade_hostile_class

    root = tmp_path_factory.mktemp("hostile")
    write_samples(built.student_notebook, bundled_samples, root / "samples")
    return grade_hostile_class(built.autograder_zip, root / "samples", root / "run")


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


COMPILED = ("autograder", "instructor", "student", "benchmarks")
"""The packages :func:`pytest_configure` compiles to ``__pycache__`` once per run (with
``tests/*.py``, not its corpora, which hold IPython magics)."""


def pytest_configure(config):
    """Compile gradkit's modules once, before any test (in the controller, or the one
    process with ``-n 0``): the suite starts some hundreds of Python processes that import
    them (every zygote, ``gradkit`` command, otter worker and the fresh interpreter per
    module of tests/test_modules.py), and where ``PYTHONDONTWRITEBYTECODE`` is set (as in
    this kit's shells) none of them writes a ``.pyc``, so each compiled the modules it
    imports again: about 0.15 s of CPU per zygote start (measured 2026-12-01). Python
    reads an up-to-date ``__pycache__`` whatever that variable says; ``compileall`` skips
    files already compiled and writes atomically, and the build and the zip leave
    ``__pycache__`` out."""
    if hasattr(config, "workerinput"):  # an xdist worker: the controller compiled
        return
    import compileall

    for package in COMPILED:
        compileall.compile_dir(REPO / package, quiet=1)
    compileall.compile_dir(REPO / "tests", maxlevels=0, quiet=1)


def pytest_addoption(parser):
    parser.addoption("--full-differential", action="store_true", default=False,
                     help="the otter engine grades every case (tests/test_engines.py, tests/test_realtools.py, "
                          "the three-way test) instead of one of each kind")


# ---------------------------------------------------------------- xdist: groups and their order

SHARED_GROUPS = {
    "test_desk_browser": "test_desk",  # both read the desk's class (desk_class), graded once per worker
    "test_batch": "test_engines",      # both read the hostile class's grading (hostile_graded)
}
"""Test files kept on one worker with another file's group (module name -> that group)."""

THREE_WAY = "test_gradescope_engine::test_three_way_differential_fork_otter_and_the_zip"
"""The three-way test of tests/test_gradescope_engine.py, whose parts are groups of their own (:data:`SPLIT_TESTS`)."""

LONGEST_FIRST = (
    "test_engines",            # with test_batch (SHARED_GROUPS)
    f"{THREE_WAY}[part1of4]",  # the parts between the long files: a worker that takes a
    "test_gradebook_truth",    # one-test group takes the next group at once (two tests left),
    f"{THREE_WAY}[part2of4]",  # so parts next to each other would go to one worker
    "test_otter_compat",
    f"{THREE_WAY}[part3of4]",
    "test_build",
    f"{THREE_WAY}[part4of4]",
    "test_realtools",
    "test_corpus",             # its public-feedback kernels forked (tests/ipykernel_fork.py): about 70 s, was 216
    "test_gradescope_engine",
    "test_student",
    "test_manual_questions",
    "test_desk",               # with test_desk_browser (SHARED_GROUPS)
    "test_overrides",
    "test_anticheat",
)
"""Groups handed to the workers first, longest first (``--durations`` of two-worker runs,
2026-12-01, the last under changing load); the rest follow in file order. A worker takes its next group when two of its
tests are left, so a long group last would leave the other worker idle at the end."""


SPLIT_TESTS = frozenset({
    THREE_WAY,  # its parts (THREE_WAY_PARTS)
})
"""Parametrized tests (module name::test name) whose every case is a group of its own, so
that the two workers share them; they use no module-scoped fixture (it would be set up on
both workers)."""


def _group(nodeid: str) -> str:
    """The xdist group of a test: its file's module name, the group it shares
    (:data:`SHARED_GROUPS`), or its own node id (:data:`SPLIT_TESTS`)."""
    path, _, rest = nodeid.partition("::")
    module = Path(path).stem
    if f"{module}::{rest.split('[', 1)[0]}" in SPLIT_TESTS:
        return f"{module}::{rest}"
    return SHARED_GROUPS.get(module, module)


def pytest_xdist_make_scheduler(config, log):
    """The controller's scheduler: xdist's scope scheduling with :func:`_group` as the scope.

    (``--dist loadgroup`` would do this with ``xdist_group`` marks, but xdist 3.8 applies
    them by rewriting ``item._nodeid``, which pytest 9's nodes no longer read: every test
    became its own group and module fixtures were set up on both workers.)"""
    from xdist.scheduler import LoadScopeScheduling

    class FileGroups(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _group(nodeid)

    return FileGroups(config, log)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if ENGINE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
    if os.environ.get("PYTEST_XDIST_WORKER") is not None:  # the workers' collection is the controller's queue
        rank = {group: n for n, group in enumerate(LONGEST_FIRST)}
        items.sort(key=lambda item: rank.get(_group(item.nodeid), len(rank)))  # stable: file order otherwise


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
