"""The ``fork`` engine: otter's tests on a pre-warmed, forked, sandboxed Python per submission.

``otter run`` spends seconds per submission starting a Jupyter kernel and importing torch
and otter. This engine keeps one zygote process per grading thread
(:mod:`autograder.fork_zygote`) with all of that imported, and forks it once per
submission. The forked child runs the notebook's code cells with IPython (magics, display,
an error does not stop later cells), then the autograder zip's own otter test files
against the resulting namespace.

What it guarantees (the threat model is in the README):

* **Hidden tests are out of reach while student code runs.** They are read from the zip
  into this process only; no file under the child's working folder holds them, and the
  child is sandboxed by the kernel (Landlock, :mod:`autograder.sandbox`) so it cannot
  open the zip, the master notebook, the gradebook or another submission. The tests are
  written to the child's pipe only after it reports, with this submission's token, that
  its last cell has ended.
* **The child cannot act on other processes.** It has no capability left, its hard limits
  equal its soft ones, a seccomp filter refuses calls on other processes' limits,
  priority and CPUs, ``ptrace``, sockets and the kernel's privileged interfaces,
  and its own ``/proc`` lists only it and its children (:mod:`autograder.privileges`,
  :mod:`autograder.syscall_filter`).
* **Scores are computed here, not in the student's process.** The child returns only
  pass/fail and the message of each test case, as JSON. This process rebuilds otter's
  ``TestFile`` objects (exception or OK format) from the zip's sources and computes points, results.json and the
  grade with otter's own code (``GradingResults.to_gradescope_dict``). Nothing is
  unpickled; a malformed or unsigned reply scores nothing.
* **Tampering is undone and flagged.** Before the tests run, the child restores every
  attribute of torch, NumPy, otter, the check library and the standard library modules
  they use, refuses new audit hooks and kills processes the submission left
  (:mod:`autograder.integrity`), and empties torch's mode stacks and puts back its flags,
  dispatch keys, hooks and kernels (:mod:`autograder.torch_state`); any of that becomes a
  finding, so the submission needs review. The same checks run again after the tests.
* **The tests have their own limit.** A test file that runs past the cell timeout is
  interrupted, and given up 5 s later if it ignores that: its question's test cases
  fail, the other questions are graded, the notebook is not run again.
* The limits of the ``otter`` engine hold: per-cell timeout (the cell is interrupted and
  the notebook goes on), wall-clock timeout and process death (graded again without the
  fatal cell and those after it), memory cap (``RLIMIT_AS``), output cap, and the same
  ``grading_status`` texts.

Difference from ``otter run``, on purpose: otter runs a question's tests where the
notebook calls ``grader.check``, in the middle of the student's code; this engine runs
every test after the last cell, so that no test is in the student's process while its
code runs. A notebook that changes an answer after its check cell is graded on the final
value (the differential test shows no sample of the corpora is affected).
"""

from __future__ import annotations

import json
import os
import secrets
import select
import shutil
import signal
import site
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .engines import Engine, _child_setup, _package_root, register_engine
from .fork_zygote import write_all
from .limits import Limits
from .otter_tests import TestFileError, load_test_file, read_zip_tests
from .outcome import COMPLETED, GradingOutcome, kernel_died_status, timed_out_status
from .sandbox import landlock_abi

__all__ = ["ForkEngine", "ZygoteError"]

_MESSAGE_CHARS = 20_000  # a test message longer than this is cut (student-controlled text)
_IGNORE_TAG = "otter_ignore"


class ZygoteError(RuntimeError):
    """The zygote process could not start or stopped answering."""


@dataclass
class _Bundle:
    """What the engine needs from an autograder zip, read once per batch."""

    tests: list[tuple[str, str]]  # ("./tests/q1.py", source), sorted as otter sorts its glob
    config: dict
    support: dict[str, bytes]  # files/ of the zip -> contents


def _read_bundle(autograder_zip: Path) -> _Bundle:
    support, config = {}, {}
    with zipfile.ZipFile(autograder_zip) as z:
        tests = read_zip_tests(z)
        for name in z.namelist():
            if name.startswith("files/") and not name.endswith("/"):
                support[name[len("files/"):]] = z.read(name)
            elif name == "otter_config.json":
                config = json.loads(z.read(name))
    support.update(_compiled(support))
    for path, source in tests:  # both formats (exception and OK), read by otter's classes
        try:
            load_test_file(source, path)
        except TestFileError as error:
            raise ValueError(f"{autograder_zip}: {error}") from None
    return _Bundle(tests, config, support)


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


def _read_roots() -> list[str]:
    """Folders the child may read: the Python installation and the system's libraries."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, *site.getsitepackages()}
    roots |= {"/usr", "/lib", "/lib64", "/bin", "/etc", "/proc", "/dev", "/sys", "/opt/conda"}
    return sorted(r for r in roots if os.path.exists(r))


class _Zygote:
    """One zygote process and the socket to it."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.cache = tempfile.mkdtemp(prefix="gradkit-zygote-")  # matplotlib's font cache; children read it
        env = {**os.environ, "PYTHONPATH": _package_root() + os.pathsep + os.environ.get("PYTHONPATH", ""), "PYTHONWARNINGS": "ignore",
               "MPLCONFIGDIR": self.cache, "MPLBACKEND": "Agg"}
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([sys.executable, "-m", "autograder.fork_zygote", str(theirs.fileno())], pass_fds=[theirs.fileno()],
                                     env=env, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, start_new_session=True,
                                     preexec_fn=_child_setup(Limits(memory_mb=1 << 20), confine=False))
        theirs.close()
        self.sock = ours
        self.buffer = b""
        hello = self.receive(timeout=300)
        self.pid = hello["pid"]

    def receive(self, timeout: float | None = None) -> dict:
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self.sock], [], [], left)
            data = self.sock.recv(1 << 16) if ready else b""
            if not data:
                self.log.seek(0)
                tail = self.log.read().decode("utf-8", "replace").strip().splitlines()[-3:]
                raise ZygoteError("the fork engine's zygote stopped answering" + (": " + " | ".join(tail) if tail else ""))
            self.buffer += data
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def start(self, job: dict, fds: list[int]) -> int:
        socket.send_fds(self.sock, [(json.dumps(job) + "\n").encode("utf-8")], fds)
        return self.receive(timeout=60)["pid"]

    def close(self) -> None:
        self.sock.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.cache, ignore_errors=True)


@dataclass
class _Run:
    """What one child did, as seen from here."""

    kind: str  # "results", "died", "timeout", "crash"
    results: dict | None = None
    notes: list[str] | None = None
    runtime: list[str] | None = None
    cell: int | None = None
    interrupted: list[int] | None = None
    message: str = ""
    tests: bool = False  # a timeout after the last cell, while the tests ran


@register_engine
class ForkEngine(Engine):
    """Grades with a forked, pre-warmed, sandboxed child per submission (see module doc).

    One zygote per grading thread, started on first use (about 6 s) and stopped by
    :meth:`close`. Raises ``ValueError`` when created on a system without Landlock. Thread-safe: :func:`instructor.batch.grade_batch` calls
    :meth:`grade` from several threads.
    """

    name = "fork"

    def __init__(self, *, user: tuple[int, int] | None = None, landlock: bool = True) -> None:
        """Args:
            user: ``(uid, gid)`` of an unprivileged user each child switches to before the
                student code runs (a root grader on Gradescope, :mod:`autograder.user_drop`);
                None keeps the grader's uid (local grading).
            landlock: confine each child with Landlock; False is allowed only with ``user``
                (a container without Landlock: the uid switch alone confines the child).

        Raises:
            ValueError: Landlock is asked for and missing, or neither confinement is given.
        """
        if landlock and landlock_abi() < 1:
            raise ValueError("the fork engine sandboxes student code with Linux Landlock (kernel 5.13+), which this system "
                             "does not provide; grade with --engine otter (see the README's threat model)")
        if not landlock and user is None:
            raise ValueError("the fork engine needs Landlock or an unprivileged user to confine student code")
        self._user = list(user) if user is not None else None
        self._landlock = landlock
        self._local = threading.local()
        self._zygotes: list[_Zygote] = []
        self._lock = threading.Lock()
        self._bundles: dict[tuple[str, float], _Bundle] = {}
        self._roots = _read_roots()

    def close(self) -> None:
        """Stop every zygote this engine started."""
        with self._lock:
            zygotes, self._zygotes = self._zygotes, []
        for zygote in zygotes:
            zygote.close()

    def _zygote(self) -> _Zygote:
        zygote = getattr(self._local, "zygote", None)
        if zygote is None or zygote.proc.poll() is not None:
            zygote = _Zygote()
            self._local.zygote = zygote
            if self._user is not None:  # matplotlib's font cache: readable by the child's user too
                os.chmod(zygote.cache, 0o755)
            with self._lock:
                self._zygotes.append(zygote)
        return zygote

    def warm_up(self) -> None:
        """Start the calling thread's zygote now (about 6 s), apart from any submission's time."""
        self._zygote()

    def prepare(self, autograder_zip: Path) -> None:
        """Read the zip's tests and support files; ``ValueError`` if the zip is unusable."""
        self._bundle(Path(autograder_zip))

    def _bundle(self, autograder_zip: Path) -> _Bundle:
        key = (str(autograder_zip.resolve()), autograder_zip.stat().st_mtime)
        with self._lock:
            if key not in self._bundles:
                resolved = autograder_zip.resolve()
                for root in self._roots:
                    if resolved.is_relative_to(root):
                        raise ValueError(f"{autograder_zip}: the autograder zip lies under {root}, which graded code may read; "
                                         "keep it outside the Python installation and system folders")
                self._bundles[key] = _read_bundle(autograder_zip)
            return self._bundles[key]

    def grade_notebook(self, notebook: nbformat.NotebookNode, label: str, autograder_zip: Path, *, limits: Limits) -> GradingOutcome:
        bundle = self._bundle(autograder_zip)
        expected = bundle.config.get("assignment_name")
        found = notebook.metadata.get("otter", {}).get("assignment_name") if isinstance(notebook.metadata.get("otter"), dict) else None
        if expected and found and found != expected:
            return GradingOutcome.failure(label, f"the notebook is for assignment {found!r}, not {expected!r}")
        cells = []
        for index, cell in enumerate(notebook.cells):
            tags = cell.get("metadata", {}).get("tags", [])
            ignored = _IGNORE_TAG in tags or (cell.get("metadata", {}).get("otter") or {}).get("ignore", False)
            if cell.cell_type == "code" and not ignored:
                cells.append([index, cell.source if isinstance(cell.source, str) else "".join(cell.source)])
        run = self._run(cells, None, bundle, limits)
        status = COMPLETED
        if run.kind == "timeout" and run.tests:
            # every cell ended and the tests hung where Python could not stop them (the child
            # stops a test that ignores its interrupt itself): running the notebook again
            # would hang the same way, at twice the cost
            return _flagged(GradingOutcome.failure(label, f"timed out after {limits.timeout:g} s while the tests ran "
                                                          "(a function the tests call did not return)"), run.runtime or [])
        if run.kind == "died" and run.tests:  # e.g. os._exit in a function the tests call: same reasoning
            return _flagged(GradingOutcome.failure(label, "the grading process died while the tests ran "
                                                          "(a function the tests call ended it)"), run.runtime or [])
        if run.kind in ("died", "timeout"):
            if run.kind == "timeout":
                stop = min(run.interrupted or [run.cell or 0])
                status = timed_out_status(limits.timeout, stop)
            else:
                stop = run.cell if run.cell is not None else 0
                status = kernel_died_status(stop)
            run = self._run(cells, stop, bundle, limits)
            if run.kind == "timeout":
                return GradingOutcome.failure(label, f"timed out after {limits.timeout:g} s")
            if run.kind == "died":
                return GradingOutcome.failure(label, f"the grading process died twice (last in cell {(run.cell or 0) + 1})")
        runtime = run.runtime or []
        if run.kind == "crash":
            return _flagged(GradingOutcome.failure(label, f"grading failed: {run.message}"), runtime)
        try:
            scores, results = _score(bundle, run.results)
        except ValueError as error:
            return _flagged(GradingOutcome.failure(label, f"grading failed: {error}"), [*runtime, str(error)])
        if run.notes:
            status = f"{status}; " + "; ".join(run.notes)
        return _flagged(GradingOutcome(label=label, scores=scores, status=status, results=results), runtime)

    def _run(self, cells: list, stop_before: int | None, bundle: _Bundle, limits: Limits) -> _Run:
        """Fork one child for the notebook and supervise it until it ends."""
        workdir = tempfile.mkdtemp(prefix="gradkit-fork-")
        token = secrets.token_hex(16)
        events_r, events_w = os.pipe()
        tests_r, tests_w = os.pipe()
        try:
            for name, data in bundle.support.items():
                target = Path(workdir, name)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            Path(workdir, "tests").mkdir()
            zygote = self._zygote()
            job = {
                "workdir": workdir, "cells": cells, "stop_before": stop_before, "token": token,
                "cell_timeout": min(limits.cell_timeout, limits.timeout), "memory_mb": limits.memory_mb,
                "output_bytes": limits.output_bytes, "seed": bundle.config.get("seed"),
                "seed_variable": bundle.config.get("seed_variable"), "read_roots": [*self._roots, zygote.cache],
                "support_modules": sorted(Path(n).stem for n in bundle.support if n.endswith(".py") and "/" not in n),
                "user": self._user, "landlock": self._landlock,
            }
            pid = zygote.start(job, [events_w, tests_r])
            os.close(events_w)
            os.close(tests_r)
            events_w = tests_r = -1
            run = self._supervise(pid, events_r, tests_w, token, bundle, limits, cells, stop_before)
            tests_w = -1  # closed by _supervise
            zygote.receive(timeout=60)  # {"exit": ...}: the child and its leftovers are gone
            return run
        finally:
            for fd in (events_r, events_w, tests_r, tests_w):
                if fd >= 0:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            shutil.rmtree(workdir, ignore_errors=True)

    def _supervise(self, pid, events_r, tests_w, token, bundle, limits, cells, stop_before) -> _Run:
        deadline = time.monotonic() + limits.timeout
        last_cell = expected_last = None
        for index, _ in cells:
            if stop_before is None or index < stop_before:
                expected_last = index
        notes, interrupted, runtime = [], [], []
        ready = False
        buffer = b""
        result: _Run | None = None
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    _kill(pid)
                    return _Run("timeout", cell=last_cell, interrupted=interrupted, tests=ready, runtime=runtime)
                readable, _, _ = select.select([events_r], [], [], left)
                if not readable:
                    continue
                data = os.read(events_r, 1 << 16)
                if not data:
                    break
                buffer += data
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    try:
                        message = json.loads(line)
                        assert isinstance(message, dict)
                    except (ValueError, AssertionError):
                        runtime.append("wrote something other than gradkit's messages to the grading channel")
                        continue
                    if message.get("token") != token:
                        runtime.append("wrote an unsigned message to the grading channel")
                        continue
                    if "cell" in message and not ready:
                        last_cell = message["cell"]
                    elif "note" in message:
                        notes.append(str(message["note"])[:500])
                        if isinstance(message.get("interrupted"), int):
                            interrupted.append(message["interrupted"])
                    elif message.get("ready") and not ready:
                        ready = True
                        runtime += [str(t)[:500] for t in message.get("runtime", [])][:50]
                        if last_cell != expected_last:
                            runtime.append("claimed to have finished before its last cell ran")
                            _kill(pid)
                            return _Run("crash", message="the submission interfered with the grading protocol", runtime=runtime)
                        payload = json.dumps({"tests": bundle.tests}).encode("utf-8")
                        write_all(tests_w, payload)
                        os.close(tests_w)
                        tests_w = -1
                    elif "results" in message and ready and result is None:
                        runtime += [str(t)[:500] for t in message.get("late", [])][:50]
                        result = _Run("results", results=message["results"], notes=notes, runtime=runtime)
                    elif "crash" in message:
                        return _Run("crash", message=str(message["crash"])[:500], runtime=runtime)
                    else:
                        runtime.append("sent grading messages out of order")
            if result is not None:
                return result
            # the child ended without results: it died in the cell that was running, or in the tests
            return _Run("died", cell=last_cell, tests=ready, runtime=runtime)
        finally:
            _kill(pid)
            if tests_w >= 0:
                os.close(tests_w)


def _kill(pid: int) -> None:
    """SIGKILL the child's process group (it is a session leader) and the child."""
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _flagged(outcome: GradingOutcome, runtime: list[str]) -> GradingOutcome:
    """``outcome`` with what the child saw at run time as findings (rule ``runtime``, no
    cell or line: see :func:`autograder.review.finding_text`)."""
    outcome.findings = [{"cell": 0, "line": 0, "code": "", "rule": "runtime", "message": text} for text in runtime]
    return outcome


def _score(bundle: _Bundle, reply: dict) -> tuple[dict[str, float], dict]:
    """Points and results.json from the child's pass/fail reply, with otter's own classes.

    Raises:
        ValueError: the reply does not have one ``[bool, str]`` per test case of every
            test file.
    """
    from otter.run.run_autograder.autograder_config import AutograderConfig
    from otter.test_files import GradingResults
    from otter.test_files.abstract_test import TestCaseResult

    if not isinstance(reply, dict):
        raise ValueError("the grading reply is not a mapping")
    test_files = []
    for path, source in bundle.tests:
        try:
            test_file = load_test_file(source, path)  # exception or OK format
        except TestFileError as error:
            raise ValueError(str(error)) from None
        cases = reply.get(path)
        if not isinstance(cases, list) or len(cases) != len(test_file.test_cases):
            raise ValueError(f"the grading reply for {path} does not match its test cases")
        results = []
        for case, answer in zip(test_file.test_cases, cases):
            if not (isinstance(answer, list) and len(answer) == 2 and isinstance(answer[0], bool) and isinstance(answer[1], str)):
                raise ValueError(f"the grading reply for {path} is malformed")
            results.append(TestCaseResult(test_case=case, message=answer[1][:_MESSAGE_CHARS], passed=answer[0]))
        test_file.test_case_results = results
        test_files.append(test_file)
    graded = GradingResults(test_files)
    scores = {name: float(tf.score) for name, tf in graded.results.items()}
    return scores, graded.to_gradescope_dict(AutograderConfig(bundle.config))
