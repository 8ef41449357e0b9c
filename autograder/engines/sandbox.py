"""Kernel-enforced file-system and network limits for the process that runs student code.

Linux Landlock (kernel 5.13+) lets an unprivileged process give up access to every file
outside a list of folders, for itself and every process it later starts, with no way
back. The fork engine's child calls :func:`restrict` just before the first student cell:
the child can then read the Python installation and its own working folder, write only
that folder, and cannot open the autograder zip, the master notebook, the gradebook or
any other submission. With Landlock ABI 4+ it also cannot open TCP connections, and with
ABI 6+ it cannot signal processes outside its own sandbox (the grader).

No maintained Python binding of Landlock exists on PyPI (only unmaintained experiments),
so the three system calls are made here with :mod:`ctypes` (syscall numbers and struct
layouts from ``linux/landlock.h`` and the kernel's ``Documentation/userspace-api/landlock.rst``).
"""

from __future__ import annotations

import ctypes
import os
import platform
from pathlib import Path

from .process import libc, no_new_privs

__all__ = ["LandlockUnavailable", "landlock_abi", "restrict"]

_SYSCALLS = {"x86_64": (444, 445, 446), "aarch64": (444, 445, 446)}  # create_ruleset, add_rule, restrict_self
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1

# access rights for files (ABI 1..5); later ABIs add bits, each masked by the running ABI
_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_REMOVE_DIR, _REMOVE_FILE, _MAKE_CHAR, _MAKE_DIR, _MAKE_REG = 1 << 4, 1 << 5, 1 << 6, 1 << 7, 1 << 8
_MAKE_SOCK, _MAKE_FIFO, _MAKE_BLOCK, _MAKE_SYM = 1 << 9, 1 << 10, 1 << 11, 1 << 12
_REFER, _TRUNCATE, _IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
_READ = _EXECUTE | _READ_FILE | _READ_DIR
_WRITE = (_WRITE_FILE | _REMOVE_DIR | _REMOVE_FILE | _MAKE_DIR | _MAKE_REG | _MAKE_SYM | _MAKE_FIFO | _MAKE_SOCK
          | _REFER | _TRUNCATE)
_NET_ALL = 1 | 2  # bind, connect (TCP), ABI 4+
_SCOPE_ALL = 1 | 2  # abstract unix sockets, signals, ABI 6+


class LandlockUnavailable(OSError):
    """The kernel (or architecture) has no Landlock, or it is disabled."""


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    """The running kernel's Landlock ABI version (0 when unavailable)."""
    numbers = _SYSCALLS.get(platform.machine())
    if numbers is None:
        return 0
    abi = libc().syscall(numbers[0], None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    return max(0, abi)


def restrict(*, read: list[Path], write: list[Path]) -> int:
    """Allow the calling process (and its future children) only these folders, for good.

    Args:
        read: folders (with everything under them) that may be read and executed.
        write: folders that may also be written, created in and deleted from.

    Returns:
        int: the Landlock ABI version that is now enforced.

    Raises:
        LandlockUnavailable: no Landlock on this kernel, or a system call failed (the
            message says which); the process is then not restricted.
    """
    abi = landlock_abi()
    if abi < 1:
        raise LandlockUnavailable("this kernel has no Landlock (Linux 5.13+ with the landlock LSM enabled)")
    create, add_rule, restrict_self = _SYSCALLS[platform.machine()]
    fs_mask = _FS_BY_ABI[max(k for k in _FS_BY_ABI if k <= abi)]
    attr = _RulesetAttr(handled_access_fs=fs_mask, handled_access_net=_NET_ALL if abi >= 4 else 0, scoped=_SCOPE_ALL if abi >= 6 else 0)
    size = ctypes.sizeof(attr) if abi >= 6 else (16 if abi >= 4 else 8)
    c = libc()
    ruleset = c.syscall(create, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        raise LandlockUnavailable(f"landlock_create_ruleset failed: {os.strerror(ctypes.get_errno())}")
    try:
        for paths, access in ((read, _READ), (write, _READ | _WRITE)):
            for path in paths:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue  # a folder that does not exist here needs no rule
                try:
                    is_dir = os.path.isdir(path)
                    allowed = (access if is_dir else access & (_EXECUTE | _READ_FILE | _WRITE_FILE | _TRUNCATE | _IOCTL_DEV)) & fs_mask
                    rule = _PathBeneathAttr(allowed_access=allowed, parent_fd=fd)
                    if c.syscall(add_rule, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), ctypes.c_uint32(0)) != 0:
                        raise LandlockUnavailable(f"landlock_add_rule({path}) failed: {os.strerror(ctypes.get_errno())}")
                finally:
                    os.close(fd)
        try:
            no_new_privs()
        except OSError as error:
            raise LandlockUnavailable(str(error)) from None
        if c.syscall(restrict_self, ruleset, ctypes.c_uint32(0)) != 0:
            raise LandlockUnavailable(f"landlock_restrict_self failed: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(ruleset)
    return abi
