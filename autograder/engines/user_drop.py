"""Run student code as an unprivileged user: the confinement of a grader that runs as root.

Gradescope runs the autograder as root inside a Docker container, where Landlock may be
missing (an older host kernel, or the container runtime's seccomp profile refusing its
system calls). PrairieLearn's Python grader answers the same problem by switching the
process that runs student code to an unprivileged user (``sbuser``) after the grading
code is loaded; the fork engine's child does the same here (:func:`drop_to_user`), just
before Landlock (where available), so the hidden tests, the autograder's folder and
``results.json`` (kept root-only, mode 700) are out of its reach by plain file
permissions, and it cannot signal or trace the grader (another uid, no capability).

The user is created by the zip's ``setup.sh`` (:data:`DEFAULT_USER`). The Python
installation must be importable by that user (``setup.sh`` lets it traverse the folders
above the environment); :func:`python_readable_by` checks that before grading, so a
container where it is not keeps the grader's uid and says so instead of failing.

System calls through :mod:`os` (``setgroups``, ``setresgid``, ``setresuid``) and
:func:`autograder.engines.privileges.clear_bounding_and_ambient` for the capability
bounding and ambient sets.
"""

from __future__ import annotations

import os
import pwd
import sys
import sysconfig

from .privileges import clear_bounding_and_ambient

__all__ = ["DEFAULT_USER", "drop_to_user", "give_folder", "lookup_user", "python_readable_by"]

DEFAULT_USER = "gradkit-student"
"""The unprivileged user the zip's ``setup.sh`` creates and student code runs as."""


def lookup_user(name: str) -> tuple[int, int] | None:
    """``(uid, gid)`` of the user ``name``; None when there is no such user or it is root."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    if entry.pw_uid == 0 or entry.pw_gid == 0:
        return None
    return entry.pw_uid, entry.pw_gid


def give_folder(folder: str, uid: int, gid: int) -> None:
    """Make ``folder`` and everything under it belong to ``uid``:``gid`` (the child's own
    working folder, created by the root grader). Symbolic links are not followed."""
    os.chown(folder, uid, gid, follow_symlinks=False)
    for parent, dirs, files in os.walk(folder):
        for name in dirs + files:
            os.chown(os.path.join(parent, name), uid, gid, follow_symlinks=False)


def drop_to_user(uid: int, gid: int) -> None:
    """Switch the calling process to ``uid``/``gid`` for good: no supplementary groups,
    real, effective and saved ids all changed (so it cannot switch back), the capability
    bounding and ambient sets emptied first (they need ``CAP_SETPCAP``), after which the
    kernel clears the permitted and effective sets itself.

    Args:
        uid, gid: an unprivileged user and group (not 0).

    Raises:
        ValueError: ``uid`` or ``gid`` is 0.
        OSError: a system call failed, or the process could still become root again.
    """
    if uid == 0 or gid == 0:
        raise ValueError("drop_to_user needs an unprivileged uid and gid, not root's")
    clear_bounding_and_ambient()  # needs CAP_SETPCAP, so before the uid change (which clears the rest)
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getresuid() != (uid, uid, uid) or os.getresgid() != (gid, gid, gid):
        raise OSError(f"the switch to uid {uid} did not take")
    try:
        os.setuid(0)
    except PermissionError:
        return
    raise OSError("the process could become root again after dropping to an unprivileged user")


def python_readable_by(uid: int, gid: int) -> str | None:
    """Whether ``uid``/``gid`` can import from this Python installation (its standard
    library and site-packages): a child forked for the check switches to the user and
    lists those folders and reads a module file.

    Returns:
        str | None: None when it can; otherwise which folder it cannot read (e.g. the
        environment lies under ``/root``, mode 700).
    """
    paths = [sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"], os.path.dirname(os.__file__)]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child ends with os._exit
        code = 0
        try:
            os.close(read)
            drop_to_user(uid, gid)
            for path in paths:
                os.listdir(path)
            with open(os.__file__, "rb") as f:
                f.read(1)
        except BaseException as error:  # noqa: BLE001 - reported to the parent
            os.write(write, f"{type(error).__name__}: {error}".encode("utf-8", "replace")[:500])
            code = 1
        os._exit(code)
    os.close(write)
    chunks = []
    while True:
        chunk = os.read(read, 4096)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) == 0:
        return None
    return b"".join(chunks).decode("utf-8", "replace") or f"the check for {sys.prefix} failed"
