"""One writer at a time per grading output folder.

Every command that writes into a grading output folder (``gradkit grade``, ``review``,
``report``, ``export``, ``remove``) holds an exclusive lock on ``OUT/.gradkit.lock`` while
it runs: :func:`fcntl.flock`, so the kernel releases it when the process ends, even when it
is killed. The lock file holds the holder's pid and command line, so a second command can
say who is using the folder. A second command waits up to ``wait`` seconds (default 0:
it refuses at once) and then raises :class:`FolderBusy`.

The lock is re-entrant within a process (a command that calls another locked function,
``grade`` rewriting the exports, takes it once). It works on local file systems; on NFS,
``flock`` may be local to one machine.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

__all__ = ["LOCK_FILE", "FolderBusy", "output_lock"]

LOCK_FILE = ".gradkit.lock"

_held: dict[str, tuple[int, int]] = {}  # resolved folder -> (fd, depth)
_guard = threading.Lock()


class FolderBusy(RuntimeError):
    """Another process holds the folder's lock; the one-line message names its pid and command."""


def _holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        text = ""
    return text or "another process"


def _command_line() -> str:
    """This process's command as the user typed it: ``gradkit grade ...`` also when run as
    ``python -m instructor.cli``."""
    program = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    if program.endswith(".py") and Path(sys.argv[0]).parent.name == "instructor":
        program = "gradkit"
    return " ".join([program, *sys.argv[1:]])


@contextlib.contextmanager
def output_lock(out_dir: Path, *, wait: float = 0.0, command: str | None = None) -> Iterator[Path]:
    """Hold the exclusive writer lock of ``out_dir`` for the ``with`` block.

    Args:
        out_dir: the grading output folder (created if missing).
        wait: seconds to wait for another holder to finish before giving up.
        command: what to record as the holder's command line (default: ``sys.argv``).

    Yields:
        Path: the lock file.

    Raises:
        FolderBusy: another process held the lock for ``wait`` seconds; the message names
            the folder, the holder's pid and its command.
        OSError: the folder cannot be created or the lock file opened.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    key = str(out_dir.resolve())
    path = out_dir / LOCK_FILE
    with _guard:
        if key in _held:
            fd, depth = _held[key]
            _held[key] = (fd, depth + 1)
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield path
        finally:
            with _guard:
                fd, depth = _held[key]
                _held[key] = (fd, depth - 1)
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    deadline = time.monotonic() + max(0.0, wait)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise FolderBusy(f"{out_dir}: in use by {_holder(path)}; wait for it to finish"
                                 + (f" (waited {wait:g} s)" if wait else "")) from None
            time.sleep(0.2)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} ({command or _command_line()})\n".encode("utf-8", "replace"), 0)
        with _guard:
            _held[key] = (fd, 1)
        yield path
    finally:
        with _guard:
            _held.pop(key, None)
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # releases the flock
