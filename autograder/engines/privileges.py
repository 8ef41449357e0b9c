"""Give up the grader's privileges in the process that runs student code.

The grader may run as root (it does on this kit's machines). The forked child keeps that
uid; what makes root powerful is its capabilities, which :func:`drop_capabilities`
removes for good: the effective, permitted and inheritable sets are emptied, the
bounding set is emptied (so running a program, even a set-uid one, gives none back) and
the ambient set is cleared. Without ``CAP_SYS_RESOURCE`` a hard resource limit cannot be
raised, so :func:`lock_limits` makes every hard limit equal to its soft one; without
``CAP_SYS_NICE`` the child cannot raise its own priority; without ``CAP_SYS_ADMIN``,
``CAP_NET_RAW``, ``CAP_KILL``, ``CAP_SYS_PTRACE``... none of what they guard.

Why not a switch to an unprivileged uid: the Python installation may live under a
root-only folder (``/root/.pyenv`` here, ``/root`` is mode 700), and a child with
another uid could then not import the modules it has not imported yet. The calls that
act on another process *of the same uid* without a capability (``prlimit`` lowering a
limit, ``sched_setaffinity``, ``setpriority`` lowering a priority) are refused by the
system call filter (:mod:`autograder.engines.syscall_filter`) instead.

:func:`hide_other_processes` gives the child its own view of ``/proc`` in which other
processes do not appear (``hidepid=ptraceable``): with Landlock and no capabilities the
child may not inspect processes outside its sandbox, so their ``/proc/<pid>`` folders
(command lines, status, limits) are hidden from it; its own and its children's stay.

All of it uses the system calls directly with :mod:`ctypes` (numbers and constants from
``linux/capability.h``, ``linux/prctl.h``, ``linux/sched.h``, ``linux/mount.h``).
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import resource

from .process import PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, PR_CAPBSET_DROP, PR_CAPBSET_READ, libc

__all__ = ["clear_bounding_and_ambient", "drop_capabilities", "hide_other_processes", "last_cap", "lock_limits"]

_LINUX_CAPABILITY_VERSION_3 = 0x20080522
_CLONE_NEWNS = 0x00020000
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REC, _MS_PRIVATE = 2, 4, 8, 1 << 14, 1 << 18
_CAPSET = {"x86_64": 126, "aarch64": 91}


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def last_cap() -> int:
    """The highest capability number this kernel knows (``/proc/sys/kernel/cap_last_cap``; 63 if unreadable)."""
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except OSError:
        return 63


def _has_setpcap() -> bool:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) & (1 << 8))  # CAP_SETPCAP
    return False


def clear_bounding_and_ambient() -> None:
    """Empty the calling process's capability bounding set and clear its ambient set (the
    part of :func:`drop_capabilities` that needs ``CAP_SETPCAP``, so it must come before a
    switch of uid: :func:`autograder.engines.user_drop.drop_to_user` calls it first).

    A process without ``CAP_SETPCAP`` (a grader without privileges) keeps its bounding set:
    exec cannot give it any capability (``no_new_privs``), and a switch of uid clears the rest.

    Raises:
        OSError: a system call failed other than for a missing ``CAP_SETPCAP``.
    """
    c = libc()
    if c.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 and ctypes.get_errno() != 22:  # EINVAL: no ambient set (< 4.3)
        raise OSError(ctypes.get_errno(), f"prctl(PR_CAP_AMBIENT_CLEAR_ALL): {os.strerror(ctypes.get_errno())}")
    for cap in range(last_cap() + 1):  # needs CAP_SETPCAP, so before capset
        if c.prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1:
            continue
        if c.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            if ctypes.get_errno() == errno.EPERM and not _has_setpcap():
                break  # a grader without privileges: nothing to drop, and exec cannot give any (no_new_privs)
            raise OSError(ctypes.get_errno(), f"prctl(PR_CAPBSET_DROP, {cap}): {os.strerror(ctypes.get_errno())}")


def drop_capabilities() -> None:
    """Empty every capability set of the calling process, for good.

    Raises:
        OSError: a system call failed (the process may then keep some capabilities).
    """
    clear_bounding_and_ambient()
    c = libc()
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()  # all zero
    if c.syscall(_CAPSET[platform.machine()], ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), f"capset: {os.strerror(ctypes.get_errno())}")


def lock_limits() -> None:
    """Set every resource limit's hard value to its soft one, so none can be raised again.

    Call before :func:`drop_capabilities` or after: lowering a hard limit needs no
    privilege; raising one needs ``CAP_SYS_RESOURCE``. ``RLIMIT_NPROC`` is left alone:
    the kernel does not apply it to uid 0.

    Raises:
        OSError: ``setrlimit`` failed.
    """
    for name in dir(resource):
        if name.startswith("RLIMIT_") and name != "RLIMIT_NPROC":
            which = getattr(resource, name)
            soft, _ = resource.getrlimit(which)
            resource.setrlimit(which, (soft, soft))


def hide_other_processes() -> bool:
    """Give the calling process a private mount of ``/proc`` that lists only the
    processes it may inspect (``hidepid=ptraceable``, Linux 5.8+; else ``hidepid=2`` with a
    ``gid=`` the process is not in).

    Must run while the process still has ``CAP_SYS_ADMIN`` and before Landlock (whose
    ``/proc`` rule is then taken on the new mount). The mount lives in a mount namespace
    of the process's own (the grader's ``/proc`` is untouched); mounts are made private
    first so nothing propagates back.

    Returns:
        bool: True when done; False when the kernel or the grader's privileges do not
        allow it (not root, inside a container without ``CAP_SYS_ADMIN``): the process
        then sees ``/proc`` as before, and other processes' folders stay readable.
    """
    c = libc()
    if c.unshare(_CLONE_NEWNS) != 0:
        return False
    if c.mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
        return False
    # "ptraceable" (Linux 5.8+) hides what ptrace_may_access refuses, whatever the gid;
    # "2" with a gid the process is not in, since hidepid lets the gid= group (0 by
    # default: root's own) see everything
    stranger = max({65534, *os.getgroups(), os.getgid()}) + 1
    for option in (b"hidepid=ptraceable", f"hidepid=2,gid={stranger}".encode()):
        if c.mount(b"proc", b"/proc", b"proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, option) == 0:
            return True
    return False
