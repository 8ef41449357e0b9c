"""The ``fork`` engine: otter's tests on a pre-warmed, forked, sandboxed Python per submission.

``otter run`` spends seconds per submission starting a Jupyter kernel and importing torch
and otter. This engine starts one zygote process (:mod:`autograder.engines.fork.zygote`)
that imports all of that once and forks a job server for each grading thread (so
``--jobs 2`` warms up once, and the servers share the zygote's memory); each server forks
one child per submission. The forked child runs the notebook's code cells with IPython (magics, display,
an error does not stop later cells), then the autograder zip's own otter test files
against the resulting namespace.

What it guarantees (the threat model is in the README):

* **Hidden tests are out of reach while student code runs.** They are read from the zip
  into this process only; no file under the child's working folder holds them, and the
  child is sandboxed by the kernel (Landlock, :mod:`autograder.engines.sandbox`) so it cannot
  open the zip, the master notebook, the gradebook or another submission. The tests are
  written to the child's pipe only after it reports, with this submission's token, that
  its last cell has ended (every message: :mod:`autograder.engines.fork.protocol`).
* **The child cannot act on other processes.** It has no capability left, its hard limits
  equal its soft ones, a seccomp filter refuses calls on other processes' limits,
  priority and CPUs, ``ptrace``, sockets and the kernel's privileged interfaces,
  and its own ``/proc`` lists only it and its children (:mod:`autograder.engines.privileges`,
  :mod:`autograder.engines.syscall_filter`).
* **Scores are computed here, not in the student's process.** The child returns only
  pass/fail and the message of each test case, as JSON. This process rebuilds otter's
  ``TestFile`` objects (exception or OK format) from the zip's sources and computes points, results.json and the
  grade with otter's own code (``GradingResults.to_gradescope_dict``,
  :mod:`autograder.engines.fork.bundle`). Nothing is unpickled; a malformed or unsigned
  message is refused and flagged, and scores nothing.
* **Tampering is undone and flagged.** Before the tests run, the child restores every
  attribute of torch, NumPy, otter, the check library and the standard library modules
  they use, refuses new audit hooks and kills processes the submission left
  (:mod:`autograder.integrity`), and empties torch's mode stacks and puts back its flags,
  dispatch keys, hooks and kernels (:mod:`autograder.torch_state`); any of that becomes a
  finding, so the submission needs review. The same checks run again after the tests.
* **The tests have their own limit.** A test file that runs past the cell timeout is
  interrupted, and given up 5 s later if it ignores that: its question's test cases
  fail, the other questions are graded, the notebook is not run again.
* The limits of the ``otter`` engine hold (:class:`autograder.engines.base.Engine`):
  per-cell timeout (the cell is interrupted and the notebook goes on), wall-clock timeout
  and process death (graded again without the fatal cell and those after it), memory cap
  (``RLIMIT_AS``), output cap, and the same ``grading_status`` texts.

Difference from ``otter run``, on purpose: otter runs a question's tests where the
notebook calls ``grader.check``, in the middle of the student's code; this engine runs
every test after the last cell, so that no test is in the student's process while its
code runs. A notebook that changes an answer after its check cell is graded on the final
value (the differential test shows no sample of the corpora is affected).
"""

from __future__ import annotations

import logging
import os
import queue
import secrets
import select
import shutil
import site
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .. import process, sandbox
from ..base import Attempt, Engine
from ..limits import Limits
from . import protocol
from .bundle import Bundle, read_bundle, score

_log = logging.getLogger(__name__)
_ZYGOTE_LOG_CHARS = 20_000  # the end of the zygote's stdout/stderr put in the log (gradkit -v / -vv)

__all__ = ["ForkEngine", "ZygoteError"]

_IGNORE_TAG = "otter_ignore"
_ZYGOTE_MESSAGES = (protocol.ZygoteReady, protocol.Spawned, protocol.ChildStarted, protocol.JobRefused, protocol.ChildExited)


class ZygoteError(RuntimeError):
    """The zygote process could not start, stopped answering, or refused a job."""


def _read_roots() -> list[str]:
    """Folders the child may read: the Python installation and the system's libraries."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, *site.getsitepackages()}
    roots |= {"/usr", "/lib", "/lib64", "/bin", "/etc", "/proc", "/dev", "/sys", "/opt/conda"}
    return sorted(r for r in roots if os.path.exists(r))


class _Channel:
    """The engine's end of a socket to a zygote process: reads its messages."""

    sock: socket.socket
    buffer: bytes
    pid: int

    def _printed(self) -> str:
        """What the zygote processes have printed so far (stdout and stderr), stripped."""
        raise NotImplementedError

    def receive(self, expect: type, timeout: float | None = None):
        """The zygote's next message, which must be an ``expect``.

        Raises:
            ZygoteError: the zygote ended, did not answer within ``timeout`` seconds, refused
                the job, or sent something else (the message says which).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self.sock], [], [], left)
            data = self.sock.recv(1 << 16) if ready else b""
            if not data:
                text = self._printed()
                _log.info("the fork engine's zygote (pid %s) stopped answering; its stdout and stderr:\n%s", self.pid,
                          text[-_ZYGOTE_LOG_CHARS:] or "(nothing)")
                tail = text.splitlines()[-3:]
                raise ZygoteError("the fork engine's zygote stopped answering" + (": " + " | ".join(tail) if tail else ""))
            self.buffer += data
        line, self.buffer = self.buffer.split(b"\n", 1)
        try:
            message = protocol.decode(line, _ZYGOTE_MESSAGES)
        except protocol.ProtocolError as error:
            raise ZygoteError(f"the fork engine's zygote sent something other than a message: {error}") from None
        if isinstance(message, protocol.JobRefused):
            raise ZygoteError(f"the fork engine's zygote refused the job: {message.reason}")
        if not isinstance(message, expect):
            raise ZygoteError(f"the fork engine's zygote sent {message.kind!r}, expected {expect.kind!r}")
        return message


class _Zygote(_Channel):
    """The spawner: one zygote process (started with ``--spawner``), warmed up once, which
    forks a job server (:class:`_Server`) per grading thread."""

    def __init__(self, one_submission: bool = False) -> None:
        """Start the zygote and wait for it to be warmed up (up to 300 s).

        Args:
            one_submission: the engine grades a single submission (see :class:`ForkEngine`):
                the zygote skips what pays off only over many forks.

        Raises:
            ZygoteError: the zygote ended or did not answer in time.
        """
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.cache = tempfile.mkdtemp(prefix="gradkit-zygote-")  # matplotlib's font cache; children read it
        env = {**os.environ, "PYTHONPATH": process.package_root() + os.pathsep + os.environ.get("PYTHONPATH", ""),
               "PYTHONWARNINGS": "ignore", "MPLCONFIGDIR": self.cache, "MPLBACKEND": "Agg"}
        self.log = tempfile.TemporaryFile()
        # the zygote itself is gradkit's: no memory cap of its own (each child gets one)
        flags = ["--spawner", *(["--one-submission"] if one_submission else [])]
        self.proc = subprocess.Popen([sys.executable, "-m", "autograder.engines.fork.zygote", *flags, str(theirs.fileno())],
                                     pass_fds=[theirs.fileno()], env=env, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log, start_new_session=True,
                                     preexec_fn=process.child_setup(Limits(memory_mb=1 << 20)))
        theirs.close()
        self.pid = self.proc.pid
        self.sock = ours
        self.buffer = b""
        self.receive(protocol.ZygoteReady, timeout=300)
        _log.info("the fork engine's zygote (pid %s) is ready", self.proc.pid)

    def spawn(self) -> "_Server":
        """A new job server forked from this zygote (not thread-safe: hold the engine's lock).

        Raises:
            ZygoteError: the zygote or the server did not answer (the message says why).
        """
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            socket.send_fds(self.sock, [protocol.encode(protocol.Spawn())], [theirs.fileno()])
        finally:
            theirs.close()
        try:
            pid = self.receive(protocol.Spawned, timeout=60).pid
            return _Server(self, ours, pid)
        except BaseException:
            ours.close()
            raise

    def alive(self) -> bool:
        """Whether the zygote process still runs."""
        return self.proc.poll() is None

    def _printed(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace").strip()

    def close(self) -> None:
        """End the zygote (kill it after 15 s: it waits 10 s for its servers) and remove its font cache."""
        self.sock.close()  # the zygote's loop ends at end of file
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill(self.proc.pid)
            self.proc.wait()
        if _log.isEnabledFor(logging.DEBUG):  # what the zygote printed over its life reaches the log (gradkit -vv)
            text = self._printed()[-_ZYGOTE_LOG_CHARS:]
            _log.debug("the fork engine's zygote (pid %s) ended (exit code %s); its stdout and stderr:\n%s", self.proc.pid,
                       self.proc.returncode, text or "(nothing)")
        self.log.close()
        shutil.rmtree(self.cache, ignore_errors=True)


class _Server(_Channel):
    """A job server: a fork of the warmed-up :class:`_Zygote` (a child of it, in a session
    of its own), serving one grading thread's jobs on its own socket."""

    def __init__(self, zygote: _Zygote, sock: socket.socket, pid: int) -> None:
        self.zygote, self.sock, self.pid, self.buffer = zygote, sock, pid, b""
        self.cache = zygote.cache
        self.receive(protocol.ZygoteReady, timeout=60)

    def _printed(self) -> str:
        return self.zygote._printed()  # the server prints to the zygote's log

    def alive(self) -> bool:
        """Whether the server still answers: its socket is open and not at end of file."""
        if self.sock.fileno() < 0 or not self.zygote.alive():
            return False
        readable, _, _ = select.select([self.sock], [], [], 0)
        return not readable or bool(self.sock.recv(1, socket.MSG_PEEK))

    def start(self, job: protocol.Job, fds: list[int]) -> int:
        """Send ``job`` with the child's two pipe ends; the child's pid."""
        socket.send_fds(self.sock, [protocol.encode(job)], fds)
        return self.receive(protocol.ChildStarted, timeout=60).pid

    def close(self) -> None:
        """Close the socket: the server's loop ends at end of file (its zygote reaps it)."""
        self.sock.close()


class _Remover:
    """Removes the children's working folders from a thread of its own, so that a grading
    thread does not wait for the file system: on this kit's disk (ext4 mounted with
    ``discard``) removing a folder that held subfolders took about 7 ms of wall-clock time
    (each ``rmdir`` of ``tests/`` and ``__pycache__/`` 1.5 to 2.7 ms, measured with strace
    on 2026-12-01) for under 0.4 ms of CPU, and the grading thread's next submission waited
    for it. A folder is removed after its child and every process it left are gone, as
    before; :meth:`close` waits until every folder handed over is removed."""

    def __init__(self) -> None:
        # the running thread and its own queue, swapped out together by close(): a remove()
        # racing a close() starts a new thread with a new queue, so neither thread can take
        # the other's folders or its end marker (a join that never returned)
        self._running: tuple[threading.Thread, queue.SimpleQueue] | None = None
        self._lock = threading.Lock()

    def remove(self, folder: str) -> None:
        """Remove ``folder`` (and everything in it, links not followed) soon; errors are
        logged, not raised (see :func:`_remove_tree`)."""
        with self._lock:
            if self._running is None:
                folders: queue.SimpleQueue = queue.SimpleQueue()
                thread = threading.Thread(target=self._run, args=(folders,), name="gradkit-remover", daemon=True)
                thread.start()
                self._running = (thread, folders)
            self._running[1].put(folder)

    @staticmethod
    def _run(folders: queue.SimpleQueue) -> None:
        while (folder := folders.get()) is not None:
            _remove_tree(folder)

    def close(self) -> None:
        """Remove every folder handed over so far, then stop the thread (a new one starts on
        the next :meth:`remove`)."""
        with self._lock:
            running, self._running = self._running, None
        if running is not None:
            thread, folders = running
            folders.put(None)
            thread.join()


def _remove_tree(folder: str) -> None:
    """Remove ``folder`` and everything in it without following symbolic links; raises
    nothing (what cannot be removed is logged and left).

    ``shutil.rmtree`` first (it walks by file descriptor and never follows a link), but in
    Python 3.11 it recurses once per level: the submission owns its working folder, and a
    tree deeper than the recursion limit (``mkdir`` and ``chdir`` in a loop, a few thousand
    levels) makes it raise ``RecursionError``, which ended the remover's thread (every
    later folder then stayed on disk); a tree deeper than the open-file limit is left half
    removed. What is left then goes to ``rm -rf`` (GNU coreutils walks any depth with
    ``fts``, without following links), a process only for such a folder."""
    try:
        shutil.rmtree(folder, ignore_errors=True)
    except Exception:  # noqa: BLE001 - RecursionError from a tree deeper than the recursion limit
        pass
    if not os.path.lexists(folder):
        return
    try:
        subprocess.run(["rm", "-rf", "--one-file-system", "--", folder], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.SubprocessError) as error:
        _log.warning("could not remove %s: %s", folder, error)
    if os.path.lexists(folder):
        _log.warning("could not remove %s", folder)


@dataclass
class _Supervised:
    """What one child did, as seen from the event pipe."""

    ended: str  # "results", "died", "timed out", "crash"
    results: dict | None = None
    notes: list[str] = field(default_factory=list)
    runtime: list[str] = field(default_factory=list)
    cell: int | None = None
    interrupted: list[int] = field(default_factory=list)
    message: str = ""
    tests: bool = False  # it ended after the last cell, while the tests ran
    phases: dict[str, float] = field(default_factory=dict)  # the child's own, checked by protocol.decode


class ForkEngine(Engine):
    """Grades with a forked, pre-warmed, sandboxed child per submission (see module doc).

    One zygote, started on first use (about 6 s) from a thread of its own, and one job
    server forked from it per grading thread; all stopped by :meth:`close`. Raises ``ValueError`` when created on a system without Landlock
    (:meth:`unavailable_reason`). Thread-safe: :func:`instructor.batch.grade_batch` calls
    :meth:`grade` from several threads.
    """

    name = "fork"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """Why the fork engine cannot run here (no Linux Landlock), or None."""
        if sandbox.landlock_abi() < 1:
            return ("the fork engine sandboxes student code with Linux Landlock (kernel 5.13+), which this system "
                    "does not provide; grade with --engine otter (see the README's threat model)")
        return None

    def __init__(self, *, user: tuple[int, int] | None = None, landlock: bool = True, one_submission: bool = False) -> None:
        """Args:
            user: ``(uid, gid)`` of an unprivileged user each child switches to before the
                student code runs (a root grader on Gradescope, :mod:`autograder.engines.user_drop`);
                None keeps the grader's uid (local grading).
            landlock: confine each child with Landlock; False is allowed only with ``user``
                (a container without Landlock: the uid switch alone confines the child).
            one_submission: this engine grades one submission (Gradescope's ``run_autograder``,
                :mod:`autograder.gradescope_runner`): its zygote skips the start-up work that
                pays off only over many forks (about 1.1 s of CPU: automatic garbage
                collection while it imports, its heap collapsed into huge pages). Grading
                more still works, each submission a few ms dearer.

        Raises:
            ValueError: Landlock is asked for and missing, or neither confinement is given.
        """
        reason = self.unavailable_reason() if landlock else None
        if reason:
            raise ValueError(reason)
        if not landlock and user is None:
            raise ValueError("the fork engine needs Landlock or an unprivileged user to confine student code")
        self._user = tuple(user) if user is not None else None
        self._landlock = landlock
        self._local = threading.local()
        self._zygotes: list[_Zygote] = []  # started by this engine; the last one spawns new servers
        self._servers: list[_Server] = []
        self._keepers: list[threading.Event] = []  # set one to end the thread a zygote was started from
        self._lock = threading.Lock()
        self._bundles: dict[tuple[str, int, int], Bundle] = {}
        self._roots = _read_roots()
        self._one_submission = one_submission
        self._remover = _Remover()  # the children's working folders, removed off the grading threads

    SMALL_BATCH = 24
    """:meth:`expect` up to this many submissions starts the zygote as for one submission.
    The many-fork start costs about 1.1 s more CPU (1.3 s of 5.9 s, measured 2026-12-01:
    0.9 s of automatic garbage collection while importing, 0.25 s collapsing the heap into
    huge pages) to save about 10 ms per submission (fork and exit in huge pages) and 1.5 ms
    (fewer copy-on-write faults): from about 25 submissions on it pays off."""

    def expect(self, submissions: int) -> None:
        """Start the zygote as for one submission when at most :data:`SMALL_BATCH` are
        expected (e.g. a build's verification, a small class, a regrade of a few): the
        start that pays off only over many forks would cost more than it saves. Call it
        before the zygote starts (:meth:`warm_up`, :meth:`grade`); it does not change an
        engine made with ``one_submission=True``.

        Args:
            submissions: how many submissions this engine is about to grade.
        """
        self._one_submission = self._one_submission or submissions <= self.SMALL_BATCH

    def close(self) -> None:
        """Stop every job server and zygote this engine started."""
        with self._lock:
            servers, self._servers = self._servers, []
            zygotes, self._zygotes = self._zygotes, []
            keepers, self._keepers = self._keepers, []
        for server in servers:
            server.close()
        for zygote in zygotes:
            zygote.close()
        for keeper in keepers:
            keeper.set()
        self._remover.close()

    def _zygote(self) -> _Server:
        """The calling thread's job server: forked from the engine's zygote, which is started
        (about 6 s) by the first thread that needs it, or again when it has ended."""
        server = getattr(self._local, "server", None)
        if server is None or not server.alive():
            with self._lock:  # one zygote for every thread; the others wait for its start
                zygote = self._zygotes[-1] if self._zygotes else None
                if zygote is None or not zygote.alive():
                    zygote = self._start_zygote()
                    if self._user is not None:  # matplotlib's font cache: readable by the child's user too
                        os.chmod(zygote.cache, 0o755)
                    self._zygotes.append(zygote)
                server = zygote.spawn()
                self._servers.append(server)
            self._local.server = server
        return server

    def _start_zygote(self) -> _Zygote:
        """A new zygote, started from a thread of its own that lives until :meth:`close`:
        the zygote dies with the thread that started it (``PR_SET_PDEATHSIG`` follows the
        parent thread), and a grading thread may end before the others are done with it."""
        started: list = []
        ready, stop = threading.Event(), threading.Event()

        def keep() -> None:
            try:
                started.append(_Zygote(self._one_submission))
            except BaseException as error:  # noqa: BLE001 - raised again in the thread that asked
                started.append(error)
            ready.set()
            stop.wait()

        threading.Thread(target=keep, name="gradkit-zygote", daemon=True).start()
        ready.wait()
        if isinstance(started[0], BaseException):
            stop.set()
            raise started[0]
        self._keepers.append(stop)
        return started[0]

    def warm_up(self) -> None:
        """Have the calling thread's job server ready now (the first thread starts the zygote,
        about 6 s), apart from any submission's time."""
        self._zygote()

    def prepare(self, autograder_zip: Path) -> None:
        """Read the zip's tests and support files; ``ValueError`` if the zip is unusable."""
        self._bundle(Path(autograder_zip))

    def _bundle(self, autograder_zip: Path) -> Bundle:
        # read once per zip; keyed like prepared._zip_facts (a rebuilt zip is read again)
        resolved, stat = autograder_zip.resolve(), autograder_zip.stat()
        key = (str(resolved), stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if key not in self._bundles:
                for root in self._roots:
                    if resolved.is_relative_to(root):
                        raise ValueError(f"{autograder_zip}: the autograder zip lies under {root}, which graded code may read; "
                                         "keep it outside the Python installation and system folders")
                self._bundles[key] = read_bundle(autograder_zip)
            return self._bundles[key]

    def execute(self, notebook: nbformat.NotebookNode, autograder_zip: Path, *, limits: Limits, stop_before: int | None) -> Attempt:
        bundle = self._bundle(autograder_zip)
        expected = bundle.config.get("assignment_name")
        found = notebook.metadata.get("otter", {}).get("assignment_name") if isinstance(notebook.metadata.get("otter"), dict) else None
        if expected and found and found != expected:
            return Attempt("failed", message=f"the notebook is for assignment {found!r}, not {expected!r}")
        cells = []
        for index, cell in enumerate(notebook.cells):
            tags = cell.get("metadata", {}).get("tags", [])
            ignored = _IGNORE_TAG in tags or (cell.get("metadata", {}).get("otter") or {}).get("ignore", False)
            if cell.cell_type == "code" and not ignored:
                cells.append((index, cell.source if isinstance(cell.source, str) else "".join(cell.source)))
        run = self._run(cells, stop_before, bundle, limits)
        phases = run.phases
        if run.ended == "crash":
            return Attempt("failed", message=f"grading failed: {run.message}", findings=run.runtime, phases=phases)
        if run.ended in ("died", "timed out"):
            return Attempt(run.ended, cell=run.cell, interrupted=run.interrupted, in_tests=run.tests, findings=run.runtime,
                           phases=phases)
        started = time.monotonic()
        try:
            scores, results = score(bundle, run.results)
        except ValueError as error:
            return Attempt("failed", message=f"grading failed: {error}", findings=[*run.runtime, str(error)], phases=phases)
        phases["scoring"] = time.monotonic() - started
        return Attempt("graded", scores=scores, results=results, notes=run.notes, findings=run.runtime, phases=phases)

    def _run(self, cells: list[tuple[int, str]], stop_before: int | None, bundle: Bundle, limits: Limits) -> _Supervised:
        """Fork one child for the notebook and supervise it until it ends.

        The result's ``phases`` holds the child's own (``sandbox``, ``cells``, ``snapshot``,
        ``tests``) and ``fork``: the rest of this call's wall-clock time (the working
        folder, the job, forking, the child's exit and reaping, the messages)."""
        started = time.monotonic()
        run = self._run_child(cells, stop_before, bundle, limits)
        run.phases["fork"] = max(0.0, time.monotonic() - started - sum(run.phases.values()))
        return run

    def _run_child(self, cells: list[tuple[int, str]], stop_before: int | None, bundle: Bundle, limits: Limits) -> _Supervised:
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
            job = protocol.Job(
                workdir=workdir, cells=cells, stop_before=stop_before, token=token, cell_timeout=limits.cell_seconds,
                memory_mb=limits.memory_mb, output_bytes=limits.output_bytes, seed=bundle.config.get("seed"),
                seed_variable=bundle.config.get("seed_variable"), read_roots=[*self._roots, zygote.cache],
                support_modules=sorted(Path(n).stem for n in bundle.support if n.endswith(".py") and "/" not in n),
                user=self._user, landlock=self._landlock,
            )
            pid = zygote.start(job, [events_w, tests_r])
            os.close(events_w)
            os.close(tests_r)
            events_w = tests_r = -1
            run = self._supervise(pid, events_r, tests_w, token, bundle, limits, cells, stop_before)
            tests_w = -1  # closed by _supervise
            zygote.receive(protocol.ChildExited, timeout=60)  # the child and its leftovers are gone
            return run
        finally:
            for fd in (events_r, events_w, tests_r, tests_w):
                if fd >= 0:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            self._remover.remove(workdir)

    def _supervise(self, pid: int, events_r: int, tests_w: int, token: str, bundle: Bundle, limits: Limits,
                   cells: list[tuple[int, str]], stop_before: int | None) -> _Supervised:
        """Read the child's events until it ends or runs past ``limits.timeout``; send the
        tests once it is :class:`~autograder.engines.fork.protocol.Ready`. Closes ``tests_w``."""
        deadline = time.monotonic() + limits.timeout
        last_cell = expected_last = None
        for index, _ in cells:
            if stop_before is None or index < stop_before:
                expected_last = index
        notes, interrupted, runtime = [], [], []
        phases: dict[str, float] = {}
        ready = False
        buffer = b""
        result: _Supervised | None = None
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    process.kill(pid)
                    return _Supervised("timed out", cell=last_cell, interrupted=interrupted, tests=ready, runtime=runtime,
                                       phases=phases)
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
                        message = protocol.decode(line, protocol.CHILD_MESSAGES, token)
                    except protocol.UnsignedMessage:
                        runtime.append("wrote an unsigned message to the grading channel")
                        continue
                    except protocol.MalformedMessage:
                        runtime.append("wrote something other than gradkit's messages to the grading channel")
                        continue
                    if isinstance(message, protocol.CellStarted) and not ready:
                        last_cell = message.cell
                    elif isinstance(message, protocol.Note):
                        notes.append(message.text)
                        if message.interrupted is not None:
                            interrupted.append(message.interrupted)
                    elif isinstance(message, protocol.Ready) and not ready:
                        ready = True
                        runtime += message.runtime
                        phases.update(message.phases)
                        if last_cell != expected_last:
                            runtime.append("claimed to have finished before its last cell ran")
                            process.kill(pid)
                            return _Supervised("crash", message="the submission interfered with the grading protocol", runtime=runtime,
                                               phases=phases)
                        protocol.write(tests_w, protocol.ZipTests(bundle.tests, bundle.compiled))
                        os.close(tests_w)
                        tests_w = -1
                    elif isinstance(message, protocol.Results) and ready and result is None:
                        runtime += message.late
                        for name, seconds in message.phases.items():
                            phases[name] = phases.get(name, 0.0) + seconds
                        result = _Supervised("results", results=message.results, notes=notes, runtime=runtime, phases=phases)
                    elif isinstance(message, protocol.Crash):
                        return _Supervised("crash", message=message.reason, runtime=runtime, phases=phases)
                    else:
                        runtime.append("sent grading messages out of order")
            if result is not None:
                return result
            # the child ended without results: it died in the cell that was running, or in the tests
            return _Supervised("died", cell=last_cell, tests=ready, runtime=runtime, phases=phases)
        finally:
            process.kill(pid)
            if tests_w >= 0:
                os.close(tests_w)

