"""Real Jupyter kernels (ipykernel's ``IPKernelApp``) forked from one warm process, for
tests that run many notebooks as a student would (tests/test_corpus.py's public feedback).

A kernel started the usual way (``python -m ipykernel_launcher -f CONNECTION_FILE``) spends
about 4.7 of the 5.8 CPU-seconds of a sample notebook starting Python and importing
ipykernel, torch (with ``torch._dynamo``, which the first optimizer step imports) and
otter (measured 2026-12-01). Here one server process imports them once; each kernel is a
fork of it that then does exactly what ``ipykernel_launcher`` does (in the folder, with
the environment and command line jupyter_client gave it, with fresh random seeds where a
new process has them), so the notebook's own ``import
torch`` and ``import otter`` find the modules already loaded, and everything the notebook
runs, ``grader.check`` included, runs in a real kernel of its own over Jupyter's protocol.

Neither jupyter_client nor ipykernel forks kernels from a warm process (every
provisioner starts a new one), hence this module: a kernel spec whose command is this
module's client (:func:`connect`), which hands its standard streams, folder, environment
and command line to the server (:func:`serve`) over a Unix socket and stands for the
kernel towards jupyter_client: signals sent to it (an interrupt, a kill) reach the kernel,
and it exits with the kernel's status. A client that dies (killed) has its kernel killed
by the server. Only the standard library is imported here at the top: the client is a
small process.

Nothing is preloaded that reads the environment at import in a way the kernel would see
(:data:`PRELOADED`): not matplotlib (ipykernel sets ``MPLBACKEND`` in the kernel before
the notebook runs), not ``ipykernel.kernelapp``. The server's environment is the test
process's, as a kernel's is, but for the ``JPY_*`` variables jupyter_client adds. The
kernels share the server's string-hash seed (``PYTHONHASHSEED``: fixed at start), a
random one like any new process's.
No torch operation runs in the server (no thread pool is started before a fork).

Use :func:`warm_kernels` (a context manager) for a ``kernel_manager`` factory.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

KERNEL_NAME = "gradkit-forked-python3"
"""Name of the kernel spec :func:`warm_kernels` writes."""

PRELOADED = ("numpy", "IPython", "zmq", "tornado.ioloop", "jupyter_client", "ipykernel.ipkernel", "ipykernel.iostream",
             "ipykernel.heartbeat", "ipykernel.parentpoller", "ipykernel.connect", "torch", "torch.nn", "torch.nn.functional", "torch.optim",
             "torch._dynamo", "otter", "otter.check.notebook", "otter.test_files")
"""Modules the server imports once (the notebooks' imports and the kernel's own). Not
``ipykernel.kernelapp``: its ``IPKernelApp`` reads ``JPY_PARENT_PID`` and
``JPY_INTERRUPT_EVENT`` when the module is imported (the kernel imports it, 5 ms)."""

_REPO = Path(__file__).resolve().parent.parent


def _send_line(sock: socket.socket, obj) -> None:
    sock.sendall(json.dumps(obj).encode() + b"\n")


def _recv_line(sock: socket.socket, buffer: bytearray):
    """One JSON line from ``sock`` (``buffer`` keeps what came after it), or None at end of file."""
    while b"\n" not in buffer:
        data = sock.recv(65536)
        if not data:
            return None
        buffer += data
    line, _, rest = bytes(buffer).partition(b"\n")
    buffer[:] = rest
    return json.loads(line)


def _run_kernel(request: dict, fds: list[int]) -> None:
    """In the forked child: become the kernel ``ipykernel_launcher`` would have started; never returns."""
    import importlib.util

    code = 1
    try:
        os.setsid()
        for target, fd in enumerate(fds[:3]):
            os.dup2(fd, target)
        for fd in fds:
            if fd > 2:
                os.close(fd)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        # as `python -m ipykernel_launcher` started in that folder: the folder first on the path
        sys.path[0] = request["cwd"]
        sys.argv = [importlib.util.find_spec("ipykernel_launcher").origin, *request["argv"]]
        for name in [n for n in sys.modules if n == "tests" or n.startswith("tests.")]:
            del sys.modules[name]
        # a new process's seeds: `random` reseeds itself at fork (os.register_at_fork);
        # NumPy's global generator does not. torch's default generator is untouched: no
        # torch operation ran in the server, and a new process starts it at a fixed seed
        sys.modules["numpy"].random.seed()
        from ipykernel import kernelapp

        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:  # noqa: BLE001 - shown on the kernel's stderr, as a kernel that fails to start
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def serve(path: str) -> None:
    """The server: import :data:`PRELOADED`, print ``ready``, then fork a kernel per
    connection on the Unix socket ``path`` until stdin closes (the test process ended).

    Protocol, per connection: the client sends one JSON line ``{"argv", "cwd", "env"}``
    with its standard streams' descriptors; the server answers ``{"pid": N}`` and, when
    that kernel ends, ``{"status": wait status}``. A connection closed before its kernel
    ended gets the kernel killed (its whole session)."""
    import importlib

    for name in PRELOADED:
        importlib.import_module(name)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(sys.stdin, selectors.EVENT_READ, "stdin")
    kernels: dict[int, socket.socket] = {}  # pid -> its client's connection
    print("ready", flush=True)
    while True:
        for key, _ in selector.select(timeout=0.1):
            if key.data == "stdin":
                if not sys.stdin.buffer.read1(4096):
                    for pid in kernels:
                        _kill_session(pid)
                    return
            elif key.data == "accept":
                conn, _ = listener.accept()
                msg, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
                request = json.loads(msg.split(b"\n", 1)[0])
                pid = os.fork()
                if pid == 0:
                    selector.close()
                    listener.close()
                    for other in kernels.values():
                        other.close()
                    conn.close()
                    _run_kernel(request, fds)
                for fd in fds:
                    os.close(fd)
                kernels[pid] = conn
                _send_line(conn, {"pid": pid})
                selector.register(conn, selectors.EVENT_READ, pid)
            else:  # a client closed its connection (it is waiting on nothing else): kill its kernel
                pid = key.data
                if key.fileobj.recv(1) == b"":
                    selector.unregister(key.fileobj)
                    _kill_session(pid)
        while kernels:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            conn = kernels.pop(pid, None)
            if conn is not None:
                with contextlib.suppress(OSError, ValueError, KeyError):
                    selector.unregister(conn)
                with contextlib.suppress(OSError):
                    _send_line(conn, {"status": status})
                conn.close()


def _kill_session(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def connect(path: str, argv: list[str]) -> int:
    """The client (the kernel spec's command): have the server fork a kernel with this
    process's streams, folder and environment and ``argv`` as ``ipykernel_launcher``'s arguments; pass on
    SIGINT/SIGTERM/SIGHUP/SIGQUIT to it; return its exit code (128 + signal if killed)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    request = {"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}
    socket.send_fds(sock, [json.dumps(request).encode() + b"\n"], [0, 1, 2])
    buffer = bytearray()
    pid = _recv_line(sock, buffer)["pid"]

    def forward(signum, _frame):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, forward)
    answer = _recv_line(sock, buffer)
    if answer is None:
        return 1
    status = answer["status"]
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)


@contextlib.contextmanager
def warm_kernels():
    """Start the server; yield a function that returns a new ``AsyncKernelManager`` for
    :data:`KERNEL_NAME` (give it to ``nbclient.NotebookClient(km=...)``); stop the server
    (and any kernel left) at exit.

    Raises:
        RuntimeError: the server did not start (its output in the message).
    """
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    with tempfile.TemporaryDirectory(prefix="gradkit-warm-kernels-") as tmp:
        sock_path = os.path.join(tmp, "server.sock")
        spec = Path(tmp) / "kernels" / KERNEL_NAME
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(json.dumps({
            # the client by path (it imports only the standard library): nothing added to the kernel's environment
            "argv": [sys.executable, str(Path(__file__).resolve()), "connect", sock_path, "-f", "{connection_file}"],
            "display_name": "Python 3 (forked from a warm process)", "language": "python",
        }), encoding="utf-8")
        server = subprocess.Popen([sys.executable, "-m", "tests.ipykernel_fork", "serve", sock_path], cwd=_REPO,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            if server.stdout.readline().strip() != "ready":
                server.kill()
                raise RuntimeError(f"the warm kernel server did not start: {server.stderr.read()[-3000:]}")
            specs = KernelSpecManager(kernel_dirs=[str(spec.parent)], ensure_native_kernel=False)
            yield lambda: AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)
        finally:
            server.stdin.close()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def main(argv: list[str]) -> int:
    """``python -m tests.ipykernel_fork serve SOCKET`` or ``connect SOCKET KERNEL_ARGS...``."""
    if argv[:1] == ["serve"] and len(argv) == 2:
        serve(argv[1])
        return 0
    if argv[:1] == ["connect"] and len(argv) >= 2:
        return connect(argv[1], argv[2:])
    print(main.__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
