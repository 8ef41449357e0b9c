"""Process control for the grading engines: the ``prctl`` calls, resource limits, the set-up
of a grading child, and the one way a grading process is killed.

Every ``prctl`` option gradkit uses is named here once (values from ``linux/prctl.h``);
:mod:`autograder.engines.sandbox`, :mod:`autograder.engines.privileges` and
:mod:`autograder.engines.syscall_filter` take the C library and these names from here.
"""

from __future__ import annotations

import ctypes
import functools
import os
import resource
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # pragma: no cover
    from .limits import Limits

__all__ = ["PR_CAPBSET_DROP", "PR_CAPBSET_READ", "PR_CAP_AMBIENT", "PR_CAP_AMBIENT_CLEAR_ALL", "PR_SET_CHILD_SUBREAPER",
           "PR_SET_NO_NEW_PRIVS", "PR_SET_PDEATHSIG", "become_subreaper", "child_setup", "die_with_parent", "kill",
           "libc", "no_new_privs", "package_root", "set_limit"]

# prctl options (linux/prctl.h)
PR_SET_PDEATHSIG = 1
PR_CAPBSET_READ = 23
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4  # second argument of PR_CAP_AMBIENT


@functools.cache
def libc() -> ctypes.CDLL:
    """The C library with ``errno`` kept (``ctypes.get_errno()``), for the raw system calls
    of the engines' confinement modules: one handle per process, made on first use (a
    forked child inherits its parent's). A new ``CDLL`` and its functions' first lookups
    cost about 0.1 ms each time, and a fork engine child asked for it eight times while
    it confined itself (measured 2026-12-01). Argument types are set on the shared handle
    for ``madvise`` (:mod:`autograder.engines.fork.hugepages`) and for ``mallinfo2`` and
    ``malloc`` (:mod:`autograder.engines.fork.heap_holes`); every other function is
    called untyped."""
    return ctypes.CDLL(None, use_errno=True)


def no_new_privs() -> None:
    """Set ``PR_SET_NO_NEW_PRIVS`` for this process for good: neither Landlock nor a seccomp
    filter may be installed without it.

    Raises:
        OSError: the kernel refused (the message says why).
    """
    if libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl(PR_SET_NO_NEW_PRIVS) failed: {os.strerror(ctypes.get_errno())}")


def die_with_parent() -> None:
    """Have the kernel SIGKILL this process when its parent dies (``PR_SET_PDEATHSIG``), so a
    killed grading run leaves nothing behind. Does nothing where ``prctl`` does not exist."""
    try:
        libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def become_subreaper() -> None:
    """Make this process adopt its orphaned descendants (``PR_SET_CHILD_SUBREAPER``), so a
    process a submission detaches can still be found and stopped. Does nothing where
    ``prctl`` does not exist."""
    try:
        libc().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def set_limit(which: int, value: int, *, lock: bool = False) -> int:
    """Set the soft resource limit ``which`` (a ``resource.RLIMIT_*``) to ``value``, clamped
    to the hard limit (a process without ``CAP_SYS_RESOURCE`` cannot go past it, and
    ``setrlimit`` would raise ``ValueError``).

    Args:
        which: ``resource.RLIMIT_AS``, ``RLIMIT_FSIZE``...
        value: the wanted limit, in the resource's unit (bytes for both above).
        lock: also lower the hard limit to the new soft one, so the process cannot lift it.

    Returns:
        int: the soft limit now in force.
    """
    _, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value if lock else hard))
    return value


def child_setup(limits: "Limits", *, confine: Callable[[], None] | None = None) -> Callable[[], None]:
    """``preexec_fn`` of a grading process: the memory cap of ``limits``, then ``confine``
    (the engine's confinement, e.g. capabilities dropped and the system call filter), then
    SIGKILL when gradkit dies (:func:`die_with_parent`).

    Everything the returned function calls must be imported already: nothing may be
    imported between ``fork`` and ``exec``.
    """

    def setup() -> None:
        limits.apply_to_current_process()
        if confine is not None:
            confine()
        die_with_parent()

    return setup


def kill(pid: int) -> bool:
    """SIGKILL the process group led by ``pid`` and the process ``pid`` itself; a process
    that is gone already (or may not be signalled) is no error. Every grading process is a
    session leader (its own group), so this also kills what it started in its group (a
    Jupyter kernel). The one way gradkit kills a process.

    Returns:
        bool: whether the process ``pid`` itself was sent the signal.
    """
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:  # not a group leader, gone, or not ours to signal
        pass
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        return False
    return True


def package_root() -> str:
    """The folder holding the ``autograder`` package, for a grading process's ``PYTHONPATH``."""
    return str(Path(__file__).resolve().parents[2])
