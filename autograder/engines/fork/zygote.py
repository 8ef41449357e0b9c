"""The fork engine's zygote: a Python process with torch, otter and IPython imported once,
forking one fresh child per submission.

Run as ``python -m autograder.engines.fork.zygote [--spawner] [--one-submission] FD``, where FD is one end of
a Unix socket pair held by :class:`autograder.engines.fork.ForkEngine`. The zygote never
sees a test: it only forks. The engine starts it with ``--spawner``: warmed up once, it
then forks a job server per grading thread (:class:`~autograder.engines.fork.protocol.Spawn`,
with the server's socket attached); each server is a copy of the warmed-up zygote in a
session of its own and serves jobs as below (without ``--spawner`` the zygote serves jobs
itself). Every message on the socket and on the child's pipes is a type of
:mod:`autograder.engines.fork.protocol`: the zygote answers a
:class:`~autograder.engines.fork.protocol.Job` (with the child's event pipe and test pipe
attached) with ``ChildStarted`` and, once the child and every process it left are gone,
``ChildExited``.
For a root grader (Gradescope, :mod:`autograder.gradescope_runner`) the job names an
unprivileged user the child switches to (:mod:`autograder.engines.user_drop`), and may
turn Landlock off where the kernel has none.

The child (:func:`run_child`) times its phases (``Ready`` and ``Results`` carry them, for
profiling), puts itself in its own session, drops every other file
descriptor, applies the memory cap (clamped to the hard limit), hides other processes from
its ``/proc``, applies the Landlock sandbox (:mod:`autograder.engines.sandbox`), locks its
resource limits, drops every capability (:mod:`autograder.engines.privileges`), installs
the system call filter (:mod:`autograder.engines.syscall_filter`), runs the cells with
IPython, undoes and reports tampering (:mod:`autograder.integrity`, and torch's own state:
:mod:`autograder.torch_state`), sends ``Ready`` on its event pipe, and only then reads the
``ZipTests`` from its test pipe, runs them against the notebook's namespace (each test file
with its own time limit, see :func:`_run_tests`) and sends ``Results``. Other events:
``CellStarted`` before each cell and ``Note`` (an interrupted cell, capped output).
"""

from __future__ import annotations

import importlib.util
import os
import resource
import signal
import socket
import sys
import time
import warnings

from ...shipped import CHECKS, REFERENCE
from .. import process
from . import protocol


def _warm_up():
    """Import and exercise everything a submission and the tests use, once, in the zygote."""
    warnings.simplefilter("ignore")
    importlib.import_module("numpy")
    import torch
    import torch.nn  # noqa: F401
    import torch.nn.functional  # noqa: F401
    import torch.optim
    torch.set_num_threads(1)  # one submission per core; also no thread pool left to fork
    # the first optimizer imports torch._dynamo (about 2 s); pay it here, not per submission
    param = torch.zeros(2, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=0.1)
    (param * 2).sum().backward()
    optimizer.step()
    # torch wraps each optimizer class's step() the first time the class is instantiated
    # (Optimizer._patch_step_function); do it for every class here, before the snapshot, or
    # a student's Adam would look like a patched library (and be sent to review)
    for cls in vars(torch.optim).values():
        if isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer) and cls is not torch.optim.Optimizer:
            try:
                cls([torch.zeros(2, 2, requires_grad=True)])
            except Exception:  # noqa: BLE001 - a class that needs other arguments is left as it is
                pass
    torch.autograd.grad((param ** 2).sum(), [param])
    torch.nn.MSELoss()(torch.nn.Linear(2, 1)(torch.ones(3, 2)), torch.ones(3, 1)).backward()
    for module in ("copy", "math", "random"):
        importlib.import_module(module)
    _warm_linecache()

    # matplotlib builds its font cache on first import (seconds, and it runs fc-list):
    # build it once here, in a folder children may read but not write
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401

    import otter
    import otter.check.notebook  # noqa: F401
    import otter.execute  # noqa: F401
    # the test files' classes (exception and OK format: doctest) and gradkit's reader of them
    for module in ("otter.test_files", "otter.test_files.exception_test", "otter.test_files.ok_test"):
        importlib.import_module(module)
    importlib.import_module("...otter_tests", __package__)

    # otter's grading mode, as `otter run` sets it: export() and check_all() do nothing.
    # grader.check() in the student's cells does nothing either: every test runs once,
    # after the last cell, so no test is in this process before the student code ends.
    otter.Notebook.init_grading_mode("tests")
    otter.execute.Checker.disable_tracking()
    otter.Notebook.check = _no_check
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "NoColor"
    shell = InteractiveShell.instance(config=config)
    # plain one-line tracebacks: nobody reads the output, and IPython's verbose formatter
    # costs about 50 ms per error (student notebooks have many: e.g. grader.check cells)
    shell.InteractiveTB.set_mode(mode="Minimal")
    shell.run_cell("1/0", store_history=False, silent=True)  # loads the traceback formatter
    shell.reset(new_session=False)
    # two modules every child imported at first use, in its cells (measured 2026-12-01):
    # the shell's session logger (built on first use by run_cell; %logstart's, inactive)
    # and torch's SchemaCheckMode (imported by torch.utils._python_dispatch whenever modes
    # are switched off, e.g. by deepcopy). Imported here, they are in the snapshot like the
    # rest of their libraries, and a child that imports nothing new leaves sys.modules
    # unwritten, so StateSnapshot.restore need not compare it (see StateSnapshot.add_modules)
    shell.logger  # noqa: B018 - the property builds it
    _warm_otter_notebook()  # with the shell running, as in a child's first cell
    importlib.import_module("torch._subclasses.schema_check_mode")
    return shell


def _warm_otter_notebook() -> None:
    """Construct an ``otter.Notebook`` once here, in grading mode, in an empty temporary
    folder: the path every notebook's first cell takes in a child
    (``grader = otter.Notebook("....ipynb")``: the notebook file is not in the child's
    folder, so the constructor appends its INIT entry to ``.OTTER_LOG`` with dill and
    raises ``FileNotFoundError``). What that computes once per process (dill's pickler
    dispatch, the compiled ``*.otter`` glob pattern, nbformat's read path) is then
    inherited; every child still writes its own ``.OTTER_LOG`` and raises the same error.
    Measured 2026-12-01 (30 children, loaded machine): the first cell's page faults
    831 -> 757, its CPU about 0.7 ms less. Nothing of it stays here but caches: the
    temporary folder is removed and the working directory restored."""
    import tempfile

    import otter

    here = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="gradkit-warm-") as folder:
        os.chdir(folder)
        try:
            otter.Notebook("gradkit-warm-up.ipynb")
        except Exception:  # noqa: BLE001 - the missing notebook, as in every child
            pass
        finally:
            os.chdir(here)


# library files on the stack of ``torch.manual_seed`` run in a cell: torch.cuda, torch.xpu
# and torch.mtia each queue the seed with ``traceback.format_stack()``, which reads every
# file on the stack through linecache (and the notebook template seeds in a provided cell)
_SEED_STACK_MODULES = ("IPython.core.interactiveshell", "IPython.core.async_helpers", "torch.random", "torch._compile",
                       "torch._dynamo.eval_frame", "torch.cuda", "torch.cuda.random", "torch.xpu", "torch.xpu.random", "torch.mtia")


def _warm_linecache() -> None:
    """Read the source lines of :data:`_SEED_STACK_MODULES` into ``linecache`` once, here:
    otherwise every child reads them again at its first ``torch.manual_seed`` (about 3 ms
    of CPU and 250 page faults a submission, measured 2026-12-01). Only library files,
    which the child may read too (its Landlock read roots), so every traceback and
    ``format_stack`` text is the same as when the child reads them itself; never gradkit's
    own files, which the child cannot read. ``linecache.checkcache`` still drops an entry
    whose file changed. A module not imported (another torch version) is skipped."""
    import linecache

    for name in _SEED_STACK_MODULES:
        path = getattr(sys.modules.get(name), "__file__", None)  # imported by now; nothing is imported here
        if path:
            linecache.getlines(path)


# support modules a job server imports once for all its children (_preload_support)
_PRELOADABLE = (CHECKS, REFERENCE)


def _no_check(self, question, global_env=None):  # noqa: ARG001 - otter.Notebook.check's signature
    """``grader.check`` while grading with the fork engine: tests run after the last cell."""
    return None


class _CappedStream:
    """A text stream that keeps count and drops everything past the output cap."""

    def __init__(self, budget: dict):
        self._budget = budget  # counters only: the student's code can reach this object
        self.encoding = "utf-8"

    def write(self, text) -> int:
        size = len(str(text).encode("utf-8", "replace"))
        self._budget["left"] -= size
        if self._budget["left"] < 0 and not self._budget["noted"]:
            self._budget["noted"] = True
        return len(str(text))

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        raise OSError("no file descriptor while grading")


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


class _CellTimeout(KeyboardInterrupt):
    """Raised in the main thread when a cell runs past the cell timeout (like Jupyter's
    interrupt, so ``except Exception`` in student code does not swallow it)."""


def run_child(job: protocol.Job, events: int, tests: int, shell, snapshot, torch_state, audit_record, audit_events: list, zygote_pid: int,
              set_handler=None) -> None:
    """Grade one submission in this freshly forked process; never returns (``os._exit``).

    ``set_handler``: the original ``_signal.signal`` (from the frame-callback guards, see
    :func:`serve`), with which the cell loop puts its ``SIGALRM`` handler back before each
    cell without the guard's search of the stack (measured 2026-12-01: 8-12 us a call in a warm loop, about 50 us a cell in a child); None:
    ``signal.signal``. Kept in this call's frames only, like the channel."""
    try:
        _run_child(job, events, tests, shell, snapshot, torch_state, audit_record, audit_events, zygote_pid, set_handler or signal.signal)
        code = 0
    except BaseException as error:  # noqa: BLE001 - report, then exit; the engine decides
        try:
            protocol.write(events, protocol.Crash(f"{type(error).__name__}: {error}"), job.token)
        except OSError:
            pass
        code = 70
    os._exit(code)


def _run_child(job, events, tests, shell, snapshot, torch_state, audit_record, audit_events, zygote_pid, set_handler) -> None:
    from ... import integrity
    from ...outcome import interrupted_note, output_capped_note
    from .. import privileges, sandbox, syscall_filter, user_drop

    def send(message) -> None:
        protocol.write(events, message, job.token)

    started = time.monotonic()  # the phases' wall-clock seconds, for profiling (Ready, Results)
    os.setsid()
    process.die_with_parent()  # die with the zygote
    null = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):
        os.dup2(null, target)
    os.close(null)
    os.closerange(3, events)
    os.closerange(events + 1, tests)
    os.closerange(tests + 1, 1 << 16)
    workdir = job.workdir
    os.chdir(workdir)
    for name in ("HOME", "TMPDIR", "MPLCONFIGDIR", "IPYTHONDIR"):
        os.environ[name] = workdir
    sys.path[:0] = [workdir]

    # each clamped to the hard limit, then hard = soft: the child cannot lift them
    process.set_limit(resource.RLIMIT_AS, job.memory_mb * 1024 * 1024, lock=True)
    process.set_limit(resource.RLIMIT_CORE, 0, lock=True)
    process.set_limit(resource.RLIMIT_FSIZE, 256 << 20, lock=True)
    # the support files (the check library) are the instructor's: import them before the
    # student code, so they are snapshotted with the rest (gradkit's own may already be
    # imported, the job's exact bytes, by the job server: _preload_support)
    for module in job.support_modules:
        __import__(module)
        # the imported module is all the tests need: its source leaves the working folder
        # before student code runs (the zip's autograder-only reference module among them)
        for leftover in (f"{module}.py", importlib.util.cache_from_source(f"{module}.py")):
            try:
                os.unlink(os.path.join(workdir, leftover))
            except OSError:
                pass
    snapshot.add_modules(job.support_modules)
    # code in files of the submission's folder is the student's, except the support files
    audit_record.student_files(workdir, [os.path.join(workdir, f"{module}.py") for module in job.support_modules])
    # other processes vanish from /proc (needs CAP_SYS_ADMIN, so before the rest); then
    # Landlock, every hard limit locked, no capabilities, and the system call filter
    privileges.hide_other_processes()
    if job.user:  # a root grader (Gradescope): the student code runs as an unprivileged user
        user_drop.give_folder(workdir, *job.user)
        user_drop.drop_to_user(*job.user)
    # /dev/null may be written: otter's OK-format (doctest) tests print their summary to it
    abi = sandbox.restrict(read=job.read_roots, write=[workdir, os.devnull]) if job.landlock else 0
    privileges.lock_limits()
    privileges.drop_capabilities()
    syscall_filter.install(signals=abi < 6)  # Landlock 6+ already keeps signals inside the sandbox
    cells_started = time.monotonic()

    state = {"cell": None, "timer": False}
    budget = {"left": job.output_bytes, "noted": False, "sent": False}

    def note_cap(cell: int) -> None:  # after the cell, by the grader: the stream holds no channel
        if budget["noted"] and not budget["sent"]:
            budget["sent"] = True
            send(protocol.Note(output_capped_note(job.output_bytes, cell)))

    def on_alarm(signum, frame):  # noqa: ARG001
        state["timer"] = True
        raise _CellTimeout()

    stream = _CappedStream(budget)
    seed = job.seed
    interrupted = []
    for index, source in job.cells:
        if job.stop_before is not None and index >= job.stop_before:
            break
        state["cell"], state["timer"] = index, False
        send(protocol.CellStarted(index))
        sys.stdout = sys.stderr = stream
        set_handler(signal.SIGALRM, on_alarm)  # gradkit's own handler back, whatever the last cell did
        if seed is not None and job.seed_variable is None:
            import random

            import numpy
            numpy.random.seed(seed)
            random.seed(seed)
        elif seed is not None:
            source = f"{job.seed_variable} = {seed}\n{source}"
        audit_record(True)
        try:
            signal.setitimer(signal.ITIMER_REAL, job.cell_timeout)
            shell.run_cell(source, store_history=True)
        except BaseException:  # noqa: BLE001 - an interrupt that escaped IPython's own handler
            pass
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            audit_record(False)
        note_cap(index)
        if state["timer"] and index not in interrupted:
            interrupted.append(index)
            send(protocol.Note(interrupted_note(index, job.cell_timeout), interrupted=index))

    # the student code has finished: undo and report what it changed, before any test exists here
    signal.setitimer(signal.ITIMER_REAL, 0)
    snapshot_started = time.monotonic()
    signal.signal(signal.SIGALRM, on_alarm)
    sys.stdout = sys.stderr = stream
    runtime = [f"changed the grader's libraries: {change}" for change in snapshot.restore()]
    # torch's own state (mode stacks, dispatch keys, flags, hooks, kernels): after the Python
    # restore, so the functions used here are torch's own again
    runtime += [f"changed torch's state: {change}" for change in torch_state.check(shell.user_ns)]
    runtime += [f"while running: {event}" for event in dict.fromkeys(audit_events)]
    runtime += [f"left a thread running: {name}" for name in integrity.foreign_threads()]
    strays = integrity.kill_strays({zygote_pid})
    if strays:
        runtime.append(f"left {len(strays)} process(es) running; they were killed before the tests ran")
    now = time.monotonic()
    send(protocol.Ready(runtime, {"sandbox": cells_started - started, "cells": snapshot_started - cells_started,
                                  "snapshot": now - snapshot_started}))

    tests_message = protocol.decode(_read_all(tests), (protocol.ZipTests,))  # a malformed one: a crash, reported
    os.close(tests)
    if integrity.foreign_threads():
        send(protocol.Crash("a thread started by the submission is still running; tests not run"))
        return
    _run_tests(tests_message.tests, shell.user_ns, job, send, snapshot, torch_state, audit_record, audit_events,
               compiled=tests_message.compiled)


_GRACE = 5.0  # seconds past the cell timeout before a test file that ignores the interrupt is given up


def _run_tests(tests: list, namespace: dict, job: protocol.Job, send, snapshot, torch_state, audit_record, audit_events: list,
               compiled: list[str] = ()) -> None:
    """Run the test files against ``namespace``, each with a time limit; send the results.

    The tests call the student's functions, which can loop forever and swallow every
    exception. Each file gets the cell timeout, at which it is interrupted like a cell
    (``KeyboardInterrupt``); if it still has not ended ``_GRACE`` seconds later, the
    ``SIGALRM`` handler itself gives up on it: it counts that file's test cases as failed,
    runs the files after it (each with the same limits, so the handler can nest), sends the
    results and ends the process, never returning into the stuck code. A hang that never
    lets Python handle a signal (a loop in C) is left to the engine's wall-clock timeout,
    which then grades nothing but does not run the notebook again.

    Sends a ``Note`` for each file given up, then ``Results`` (:mod:`autograder.engines.fork.protocol`),
    whose ``late`` holds what the student's code changed (libraries, torch's state, audited
    events) while the tests called it, checked after every test file.

    The student's code can reach the ``SIGALRM`` handler (``signal.getsignal``) and
    ``sys.stdout``: neither holds the tests, the results or the channel. The handler is a
    module-level function that finds this run in the interrupted frame's callers (frames
    are refused to student code, see :mod:`autograder.integrity`).

    ``compiled`` holds, per test file, the code the grading process compiled from it
    (:func:`autograder.otter_tests.compiled_test_file`; ``ZipTests.compiled``), loaded
    instead of compiling the source here; a missing or unusable one is compiled.
    """
    signal.signal(signal.SIGALRM, _on_test_alarm)
    run = _TestRun(tests, namespace, job, send, snapshot, torch_state, audit_record, audit_events, compiled)
    run.run_from(0)
    run.finish()


def _on_test_alarm(signum, frame) -> None:  # noqa: ARG001
    """``SIGALRM`` during the tests: hand it to the :class:`_TestRun` whose ``run_from`` is
    on the interrupted stack (none: a stray alarm, ignored)."""
    import types

    target = _TestRun.run_from.__code__
    while type(frame) is types.FrameType and frame.f_code is not target:
        frame = frame.f_back
    if type(frame) is types.FrameType:
        run = frame.f_locals.get("self")
        if type(run) is _TestRun:
            run.on_alarm()


class _TestRun:
    """The state of one child's test phase; see :func:`_run_tests`. Reachable only from
    this process's frames."""

    def __init__(self, tests, namespace, job, send, snapshot, torch_state, audit_record, audit_events, compiled=()) -> None:
        self.tests, self.namespace, self.job, self.send = tests, namespace, job, send
        self.compiled = list(compiled)
        self.snapshot, self.torch_state, self.audit_record, self.audit_events = snapshot, torch_state, audit_record, audit_events
        self.limit = job.cell_timeout
        self.results: dict = {}
        self.seen = len(audit_events)
        self.index, self.stage = 0, "idle"
        self.late: list[str] = []
        self.started = time.monotonic()
        self.checking = 0.0  # seconds spent in undo(): the "snapshot" phase, apart from "tests"

    def undo(self) -> None:
        """Restore and report what the student's code changed while a test file called it:
        after every file, so a patch one file's call makes and a later call takes back is
        found, and never outlives the file it was made in."""
        started = time.monotonic()
        try:
            self._undo()
        finally:
            self.checking += time.monotonic() - started

    def _undo(self) -> None:
        self.late.extend(f"changed the grader's libraries while the tests ran: {change}" for change in self.snapshot.restore())
        self.late.extend(f"changed torch's state while the tests ran: {change}" for change in self.torch_state.check(self.namespace))

    def finish(self) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        self.audit_record(False)
        self.undo()
        self.late.extend(f"while the tests ran: {event}" for event in dict.fromkeys(self.audit_events[self.seen:]))
        spent = max(0.0, time.monotonic() - self.started)
        phases = {"tests": max(0.0, spent - self.checking), "snapshot": min(self.checking, spent)}
        self.send(protocol.Results(self.results, list(dict.fromkeys(self.late)), phases))

    def _compiled(self, index: int) -> str | None:
        """The grading process's compiled code of test file ``index``, if it sent one."""
        return self.compiled[index] if index < len(self.compiled) else None

    def run_from(self, start: int) -> None:
        from ...otter_tests import load_test_file

        for index in range(start, len(self.tests)):
            path, source = self.tests[index]
            test_file = load_test_file(source, path, self._compiled(index))  # exception or OK format, otter's classes
            self.index, self.stage = index, "soft"
            signal.setitimer(signal.ITIMER_REAL, self.limit)
            self.audit_record(True)  # the tests call the student's functions
            try:
                test_file.run(self.namespace)
                cases = [[r.passed is True, str(r.message)] for r in test_file.test_case_results]
            except BaseException as error:  # noqa: BLE001 - a test interrupted on timeout
                done = len(test_file.test_case_results or [])
                failed = [[False, f"❌ Test case failed\nthe test was interrupted: {type(error).__name__}"]] * (len(test_file.test_cases) - done)
                cases = [[bool(r.passed), str(r.message)] for r in test_file.test_case_results or []] + failed
            finally:
                self.stage = "idle"
                self.audit_record(False)
                signal.setitimer(signal.ITIMER_REAL, 0)
            self.results[path] = cases
            if index + 1 < len(self.tests):
                self.undo()
            # after the last file, finish() checks next (so does on_alarm's path, through
            # finish): the one check sees everything two back-to-back checks would, as the
            # student's code could only have run before it (a signal handler, a thread, a
            # finalizer); torch's C-level check alone takes about 10 ms (2026-12-01)

    def on_alarm(self) -> None:
        from ...otter_tests import load_test_file
        from ...outcome import tests_stopped_note

        if self.stage == "soft":  # the cell timeout: interrupt, as in a cell
            self.stage = "hard"
            signal.setitimer(signal.ITIMER_REAL, _GRACE)
            raise _CellTimeout()
        if self.stage != "hard":
            return
        # the file ignored the interrupt: give it up from here, never going back into it
        self.stage = "idle"
        signal.setitimer(signal.ITIMER_REAL, 0)
        self.audit_record(False)
        path, source = self.tests[self.index]
        count = len(load_test_file(source, path, self._compiled(self.index)).test_cases)
        self.results[path] = [[False, f"❌ Test case failed\nthe test ran past {self.limit + _GRACE:g} s and was stopped"]] * count
        try:
            self.undo()
            self.send(protocol.Note(tests_stopped_note(path.rsplit("/", 1)[-1].removesuffix(".py"), self.limit + _GRACE)))
            self.run_from(self.index + 1)
            self.finish()
        finally:
            os._exit(0)


def serve(sock: socket.socket, *, spawner: bool = False, one_submission: bool = False) -> None:
    """The zygote's loop: one job at a time, until the engine closes the socket.

    With ``spawner``, this process serves no job: it answers each
    :class:`~autograder.engines.fork.protocol.Spawn` by forking a job server (a copy of
    this warmed-up process, in a session of its own, serving jobs on the socket that came
    with the message) and :class:`~autograder.engines.fork.protocol.Spawned`; at end of
    file it waits for its servers (10 s, then kills them). One spawner warms up once for
    every grading thread of the engine (see :mod:`autograder.engines.fork.engine`).

    With ``one_submission`` (the engine grades one, e.g. on Gradescope), the work that pays
    off only over many forks is skipped: no automatic garbage collection while warming up,
    and the heap is not collapsed into huge pages."""
    import gc

    # one submission: no automatic collections while importing. torch, otter and IPython
    # make about a million objects, and the 1,100 collections they trigger (several full
    # ones, each walking everything) cost 1.3 s of CPU for almost no garbage; without them
    # the start spends 0.4 s collecting (the warm-up ends with one full collection: IPython's
    # shell.reset runs gc.collect()), before the snapshot. Not for many forks: the garbage
    # then freed all at once leaves holes in the heap that each child's allocations fill,
    # about 350 more copy-on-write faults (1.5 ms of system time) per submission (2026-12-01)
    if one_submission:
        gc.disable()
    try:
        # imported before the fork: the child cannot read gradkit's files
        for module in ("...outcome", "..privileges", "..sandbox", "..syscall_filter", "..user_drop"):
            importlib.import_module(module, __package__)
        importlib.import_module("..syscall_filter", __package__).prepare()  # each child copies the filter's template
        from ...integrity import StateSnapshot, guard_frame_callbacks, install_audit_hook
        from ...torch_state import TorchState

        shell = _warm_up()
        torch_state = TorchState()  # before the snapshot: the modules it imports are snapshotted too
    finally:
        gc.enable()
    audit_events: list[str] = []
    audit_record = install_audit_hook(audit_events)
    # torch's frame-callback setters, guarded; the originals only in this frame's local
    _gradkit_guards = guard_frame_callbacks(audit_record, audit_events)  # found through this frame while jobs run
    snapshot = StateSnapshot()
    snapshot.freeze()
    # the garbage left, before it is frozen (one submission: the young garbage only, the
    # warm-up's full collection walked everything else already)
    gc.collect(1 if one_submission else 2)
    # pre-fork server practice (gc.freeze, Python 3.7+): everything imported so far moves
    # to a permanent generation, so a child's collections do not walk (and copy on write)
    # the hundreds of MB that torch and otter occupy
    gc.freeze()
    # the C allocator's free chunks filled, so that the children's allocations come from
    # fresh pages instead of copying the zygote's (see .heap_holes): about 10 ms here (half
    # a megabyte), about 30 ms of CPU saved in each child, so for one submission too
    from .heap_holes import fill_heap_holes

    fill_heap_holes()
    # the heap in huge pages: each fork copies (and each child's exit drops) far fewer
    # page-table entries (see .hugepages); the audit hook is not recording here. It costs
    # about 0.25 s (0.19 s of it system time) and saves about 10 ms per fork and exit
    # (2026-12-01): not worth it for the two forks (job server, child) of one submission
    if not one_submission:
        from .hugepages import collapse_heap

        collapse_heap()
    process.die_with_parent()  # die with the engine (a job server: with the spawner)
    sock.sendall(protocol.encode(protocol.ZygoteReady()))
    if spawner:
        sock = _spawn_servers(sock)  # returns in a forked job server only
        if sock is None:
            return
        process.die_with_parent()  # a job server dies with the spawner, which dies with the engine
        sock.sendall(protocol.encode(protocol.ZygoteReady()))
    process.become_subreaper()  # orphans come here
    preloaded: dict[str, bytes] = {}  # gradkit's support modules imported in this server (_preload_support)
    buffer = b""
    while _gradkit_guards is not None:  # always: the guards stay in this frame while jobs run
        line, fds, buffer = _recv_line(sock, buffer)
        if line is None:
            if spawner:  # a forked job server: the spawner's exit handlers are the spawner's to run
                os._exit(0)
            return
        job = _request(sock, line, fds, protocol.Job, "a job", 2)
        if job is None:
            continue
        _preload_support(job, preloaded)
        events, tests = fds
        pid = os.fork()
        if pid == 0:
            sock.close()
            run_child(job, events, tests, shell, snapshot, torch_state, audit_record, audit_events, os.getppid(),
                      _gradkit_guards.originals["signal"])
        os.close(events)
        os.close(tests)
        sock.sendall(protocol.encode(protocol.ChildStarted(pid)))
        _, status = os.waitpid(pid, 0)
        _kill_leftovers()
        sock.sendall(protocol.encode(protocol.ChildExited(os.waitstatus_to_exitcode(status))))


def _preload_support(job: protocol.Job, preloaded: dict[str, bytes]) -> None:
    """Have exactly the job's copies of gradkit's own support modules imported in this job
    server before it forks the job's child (which then finds them in ``sys.modules``),
    instead of each child importing them again: about 6 ms of CPU and 800 page faults a
    submission (measured 2026-12-01).

    Only :data:`_PRELOADABLE` modules: gradkit's shipped files, whose import depends on
    nothing but their source (not on the working folder, the environment or the current
    directory, which the child sets before its own imports), and only the job's copy,
    compared byte for byte with the one imported: a module imported here that the job
    does not ship, or ships other bytes of, is dropped from ``sys.modules`` (and imported
    again here from the job's folder), so the child sees the same modules as if it had
    imported the job's files itself. An import that fails here is left to the child, which
    fails the same way and reports it. The snapshot was taken before (in the zygote): the
    child snapshots these modules with :meth:`~autograder.integrity.StateSnapshot.add_modules`
    as before.

    Args:
        job: the job about to be forked; its support files are in ``job.workdir``.
        preloaded: module name -> source bytes of what this server imported (updated).
    """
    wanted: dict[str, bytes] = {}
    for name in _PRELOADABLE:
        if name in job.support_modules:
            try:
                with open(os.path.join(job.workdir, f"{name}.py"), "rb") as source:
                    wanted[name] = source.read()
            except OSError:
                continue
    if REFERENCE in wanted and CHECKS not in wanted:  # it would import a gradkit_checks this does not track
        wanted = {}
    if preloaded == wanted:
        return
    # both are replaced together: gradkit_reference holds the gradkit_checks it imported
    for name in preloaded:
        sys.modules.pop(name, None)
    preloaded.clear()
    sys.path.insert(0, job.workdir)
    try:
        for name in sorted(wanted):  # gradkit_checks first: gradkit_reference imports it
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - the child imports it again and reports the error
                for dropped in (*preloaded, name):
                    sys.modules.pop(dropped, None)
                preloaded.clear()
                return
            preloaded[name] = wanted[name]
    finally:
        sys.path.remove(job.workdir)
        sys.path_importer_cache.pop(job.workdir, None)


def _spawn_servers(sock: socket.socket) -> socket.socket | None:
    """The spawner's loop (see :func:`serve`): returns, in a forked job server, the socket
    it serves jobs on; in the spawner, None once the engine has closed ``sock`` and the
    servers have ended."""
    servers: set[int] = set()

    def reap(signum=None, frame=None) -> None:  # noqa: ARG001 - SIGCHLD: a server ended
        while servers:
            try:
                ended, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if ended == 0:
                return
            servers.discard(ended)

    signal.signal(signal.SIGCHLD, reap)
    buffer = b""
    while True:
        line, fds, buffer = _recv_line(sock, buffer)
        if line is None:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            _end_servers(servers)
            return None
        if _request(sock, line, fds, protocol.Spawn, "a spawn", 1) is None:
            continue
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            sock.close()
            os.setsid()  # a session of its own: kill_strays in it and in its children covers its jobs only
            return socket.socket(fileno=fds[0])
        os.close(fds[0])
        servers.add(pid)
        reap()  # one that ended before it was in the set
        sock.sendall(protocol.encode(protocol.Spawned(pid)))


def _request(sock: socket.socket, line: bytes, fds: list[int], kind: type, name: str, n_fds: int):
    """Decode ``line`` as one ``kind`` message arriving with exactly ``n_fds`` file
    descriptors, or refuse it: close the descriptors and answer ``JobRefused`` naming what
    was wrong (``name``, e.g. ``"a job"``, in the count's message).

    Returns:
        The decoded message, or None when it was refused.
    """
    try:
        message = protocol.decode(line, (kind,))
        if len(fds) != n_fds:
            raise protocol.MalformedMessage(f"{name} comes with {n_fds} file descriptor{'s' if n_fds != 1 else ''}, not {len(fds)}")
    except protocol.ProtocolError as error:
        for fd in fds:
            os.close(fd)
        sock.sendall(protocol.encode(protocol.JobRefused(str(error))))
        return None
    return message


def _end_servers(servers: set[int]) -> None:
    """Wait for the job servers to end (10 s; their sockets are closed first), then kill them."""
    deadline = time.monotonic() + 10
    while servers and time.monotonic() < deadline:
        try:
            ended, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if ended == 0:
            time.sleep(0.01)
        servers.discard(ended)
    for pid in servers:
        process.kill(pid)
    _kill_orphans()


def _kill_leftovers() -> None:
    """In a job server (or a zygote serving jobs), once its child is reaped: kill and reap
    every process the child left (:func:`_kill_orphans`), unless the server has no child
    process left at all, when there is nothing to kill and the scan of ``/proc`` is skipped
    (it read every process's ``stat``: about 1.8 ms of CPU a submission on this kit's
    machine with 87 processes, measured 2026-12-01).

    Why no child means nothing to kill: :func:`_kill_orphans` kills the processes whose
    parent is this server or that share its session. The server is a subreaper
    (:func:`~autograder.engines.process.become_subreaper`), so every living process
    descended from it has a living parent chain back to it and, with no child, it has no
    descendant; and a session only ever holds processes forked by its members (``setsid``
    starts a new one; ``setpgid`` moves within one), so the server's session holds nothing
    but descendants either. A zombie child is reaped by the check itself, and then the full
    scan runs as before."""
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return  # no child, living or dead: nothing left anywhere below this process
    _kill_orphans()


def _kill_orphans() -> None:
    """Kill and reap every process left behind: as a subreaper, this process adopted them."""
    from ...integrity import kill_strays

    kill_strays(set())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return  # nothing left to reap
        if pid == 0:
            time.sleep(0.01)


def _recv_line(sock: socket.socket, buffer: bytes):
    fds: list[int] = []
    while b"\n" not in buffer:
        data, new_fds, _, _ = socket.recv_fds(sock, 1 << 20, 4)
        if not data:
            return None, [], b""
        fds += new_fds
        buffer += data
    line, buffer = buffer.split(b"\n", 1)
    return line, fds, buffer


def main(argv: list[str]) -> int:
    """Entry point: ``python -m autograder.engines.fork.zygote [--spawner] [--one-submission] FD``
    (see :func:`serve`)."""
    spawner = argv[:1] == ["--spawner"]
    argv = argv[1:] if spawner else argv
    one_submission = argv[:1] == ["--one-submission"]
    argv = argv[1:] if one_submission else argv
    if len(argv) != 1:
        print("usage: python -m autograder.engines.fork.zygote [--spawner] [--one-submission] SOCKET_FD", file=sys.stderr)
        return 2
    sock = socket.socket(fileno=int(argv[0]))
    serve(sock, spawner=spawner, one_submission=one_submission)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
