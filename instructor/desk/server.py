"""Running the desk: a uvicorn server on a socket bound by us (so ``--port 0`` works and
the printed address is the real one), in the foreground (``gradkit serve``) or in a
background thread (tests, notebooks)."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "DeskServer", "start_desk"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


@dataclass
class DeskServer:
    """A desk being served.

    Attributes:
        url: the address to open, with the token (``http://127.0.0.1:PORT/?token=...``).
        base: the address without the token.
        token: the access token.
        app: the ASGI app (:func:`instructor.desk.app.create_app`).
    """

    url: str
    base: str
    token: str
    app: object
    _server: object = None
    _socket: socket.socket | None = None
    _thread: threading.Thread | None = None

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (Ctrl-C)."""
        self._server.run(sockets=[self._socket])

    def start(self) -> "DeskServer":
        """Serve in a daemon thread; returns once the server accepts requests."""
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the desk's server stopped while starting")
            self._thread.join(0.05)
        return self

    def stop(self) -> None:
        """Stop a server started with :meth:`start` and wait for its thread."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join()
        self._socket.close()


def start_desk(out_dir: Path, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, token: str | None = None,
               autograder_zip: Path | None = None, quiet: bool = False) -> DeskServer:
    """Bind the desk's socket and build its server (call ``serve_forever()`` or ``start()``).

    Args:
        out_dir: the grading output folder.
        host: the address to listen on (default 127.0.0.1: this machine only). The desk
            answers only to requests whose ``Host`` is this address or a loopback name
            (any, when listening on every interface: ``0.0.0.0`` or ``::``).
        port: the TCP port; 0 picks a free one.
        token: the access token (default: a new random one).
        autograder_zip: optional, for test-case names and public/hidden flags.
        quiet: no access log.

    Returns:
        DeskServer: with ``url`` to open.

    Raises:
        FileNotFoundError: no gradebook in ``out_dir``.
        OSError: the address cannot be bound (port in use).
    """
    import uvicorn

    from .app import create_app
    from .security import LOOPBACK_HOSTS

    app = create_app(out_dir, token=token, autograder_zip=autograder_zip)
    # the Host names it answers to (DNS rebinding): this machine's, and the address it listens on
    app.hosts = None if host in ("", "0.0.0.0", "::") else frozenset(LOOPBACK_HOSTS | {host.strip("[]").lower()})
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    sock.set_inheritable(True)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    base = f"http://{shown}:{bound}/"
    config = uvicorn.Config(app, log_level="warning" if quiet else "info", access_log=not quiet, lifespan="off",
                            server_header=False)
    return DeskServer(url=f"{base}?token={app.token}", base=base, token=app.token, app=app,
                      _server=uvicorn.Server(config), _socket=sock)
