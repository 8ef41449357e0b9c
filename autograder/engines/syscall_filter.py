"""A seccomp-BPF filter for the process that runs student code: no reaching other processes
or the kernel's privileged interfaces.

Landlock (:mod:`autograder.engines.sandbox`) confines files, TCP and (ABI 6+) signals, but not the
system calls that act on another process by its pid, and the child keeps the grader's
uid. :func:`install` adds a filter, for the calling process and every process it later
starts, with no way back, under which these calls fail with ``EPERM``:

* on another process: ``prlimit64``, ``setpriority``/``getpriority``, ``ioprio_set``,
  ``sched_setaffinity``, ``sched_setscheduler``/``setparam``/``setattr``,
  ``migrate_pages``/``move_pages`` unless the pid is 0 or the caller's own (a limit, a
  priority or the CPUs of the grader or of another submission's process);
* at all: ``ptrace``, ``process_vm_readv``/``writev``, ``pidfd_getfd``, ``kcmp``,
  ``process_madvise``, ``unshare``, ``setns``, ``mount`` and the new mount API,
  ``pivot_root``, ``chroot``, ``bpf``, ``perf_event_open``, ``keyctl``/``add_key``/
  ``request_key``, ``io_uring_*`` (its operations are not seen by seccomp),
  ``userfaultfd``, ``open_by_handle_at``, module loading, ``kexec``, ``reboot``, swap,
  clock setting, ``acct``, ``quotactl``;
* ``clone`` with a namespace flag; ``clone3`` fails with ``ENOSYS`` (its flags are behind
  a pointer the filter cannot read; the C library then falls back to ``clone``);
* ``socket`` of any family, and ``socketpair`` of any but ``AF_UNIX``: no UDP, raw,
  packet or netlink socket, and no connection to a named Unix socket either (Landlock
  does not confine ``connect`` to one: a system daemon's socket, D-Bus or a container
  runtime's, would take orders from the grader's uid). A connected pair of Unix sockets
  (``socket.socketpair()``) still works; the engine itself talks to the child through
  pipes;
* with ``signals=True`` (for kernels whose Landlock cannot scope signals, ABI < 6):
  ``kill``/``tkill``/``tgkill``/``rt_(tg)sigqueueinfo``/``pidfd_send_signal`` to anyone
  but the caller itself and its own process group.

A call under another architecture's numbering (the x86 32-bit and x32 ABIs on x86_64)
kills the process: the numbers above would not match it.

Why no library: ``pyseccomp`` (PyPI, last release 2021) wraps the system's libseccomp
C library, which pip cannot install; ``seccompy`` (PyPI 0.2.0, 2026, beta) is pure
Python but its architecture check lets x32 system call numbers (``nr | 0x40000000``)
through on x86_64, which would step around a filter that denies named calls. The filter
here is under 200 instructions of classic BPF, made with :mod:`ctypes` (opcodes and
``struct seccomp_data`` from ``linux/filter.h``, ``linux/bpf_common.h``,
``linux/seccomp.h``; numbers from ``arch/x86/entry/syscalls/syscall_64.tbl`` and
``include/uapi/asm-generic/unistd.h``; see the kernel's
``Documentation/userspace-api/seccomp_filter.rst``).
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import platform

from .process import libc, no_new_privs

__all__ = ["SeccompUnavailable", "install", "prepare", "program"]

# x86_64 and aarch64 numbers
_ARCH = {
    "x86_64": 0xC000003E,   # AUDIT_ARCH_X86_64
    "aarch64": 0xC00000B7,  # AUDIT_ARCH_AARCH64 (little-endian)
}
_X32_BIT = 0x40000000
_NR = {
    "x86_64": dict(
        ptrace=101, process_vm_readv=310, process_vm_writev=311, pidfd_getfd=438, kcmp=312, process_madvise=440,
        unshare=272, setns=308, mount=165, umount2=166, pivot_root=155, chroot=161, open_tree=428, move_mount=429,
        fsopen=430, fsconfig=431, fsmount=432, fspick=433, mount_setattr=442, bpf=321, perf_event_open=298,
        keyctl=250, add_key=248, request_key=249, io_uring_setup=425, io_uring_enter=426, io_uring_register=427,
        userfaultfd=323, open_by_handle_at=304, name_to_handle_at=303, init_module=175, finit_module=313,
        delete_module=176, kexec_load=246, kexec_file_load=320, reboot=169, swapon=167, swapoff=168,
        settimeofday=164, clock_settime=227, clock_adjtime=305, adjtimex=159, acct=163, quotactl=179,
        prlimit64=302, sched_setaffinity=203, sched_setscheduler=144, sched_setparam=142, sched_setattr=314,
        migrate_pages=256, move_pages=279, setpriority=141, getpriority=140, ioprio_set=251,
        socket=41, socketpair=53, clone=56, clone3=435,
        kill=62, tkill=200, tgkill=234, rt_sigqueueinfo=129, rt_tgsigqueueinfo=297, pidfd_send_signal=424,
    ),
    "aarch64": dict(
        ptrace=117, process_vm_readv=270, process_vm_writev=271, pidfd_getfd=438, kcmp=272, process_madvise=440,
        unshare=97, setns=268, mount=40, umount2=39, pivot_root=41, chroot=51, open_tree=428, move_mount=429,
        fsopen=430, fsconfig=431, fsmount=432, fspick=433, mount_setattr=442, bpf=280, perf_event_open=241,
        keyctl=219, add_key=217, request_key=218, io_uring_setup=425, io_uring_enter=426, io_uring_register=427,
        userfaultfd=282, open_by_handle_at=265, name_to_handle_at=264, init_module=105, finit_module=273,
        delete_module=106, kexec_load=104, kexec_file_load=294, reboot=142, swapon=224, swapoff=225,
        settimeofday=170, clock_settime=112, clock_adjtime=266, adjtimex=171, acct=89, quotactl=60,
        prlimit64=261, sched_setaffinity=122, sched_setscheduler=119, sched_setparam=118, sched_setattr=274,
        migrate_pages=238, move_pages=239, setpriority=140, getpriority=141, ioprio_set=30,
        socket=198, socketpair=199, clone=220, clone3=435,
        kill=129, tkill=130, tgkill=131, rt_sigqueueinfo=138, rt_tgsigqueueinfo=240, pidfd_send_signal=424,
    ),
}
_DENIED = ("ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp", "process_madvise", "unshare",
           "setns", "mount", "umount2", "pivot_root", "chroot", "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount",
           "fspick", "mount_setattr", "bpf", "perf_event_open", "keyctl", "add_key", "request_key", "io_uring_setup",
           "io_uring_enter", "io_uring_register", "userfaultfd", "open_by_handle_at", "name_to_handle_at", "init_module",
           "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot", "swapon", "swapoff",
           "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "acct", "quotactl")
_PID_FIRST = ("prlimit64", "sched_setaffinity", "sched_setscheduler", "sched_setparam", "sched_setattr",
              "migrate_pages", "move_pages")  # argument 0 is a pid: 0 or the caller's own only
_SCHED_POLICY = ("sched_setscheduler", "sched_setparam", "sched_setattr")
_WHICH_WHO = ("setpriority", "getpriority", "ioprio_set")  # (which, who): the caller's own process only
_WHO_PROCESS = {"setpriority": 0, "getpriority": 0, "ioprio_set": 1}  # PRIO_PROCESS, IOPRIO_WHO_PROCESS
_SIGNAL_PID_FIRST = ("kill", "rt_sigqueueinfo")  # kill(pid, sig): the caller, its process group (0 or -pgid)
_SIGNAL_TGID_FIRST = ("tgkill", "rt_tgsigqueueinfo", "tkill")  # the caller's own threads (tkill: the main one)
_NAMESPACES = 0x7E020000  # CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
_AF_UNIX = 1

# classic BPF (linux/bpf_common.h), seccomp return values (linux/seccomp.h)
_LD_ABS_W, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
_ALLOW, _KILL_PROCESS, _ERRNO = 0x7FFF0000, 0x80000000, 0x00050000
_EPERM, _ENOSYS = _ERRNO | errno.EPERM, _ERRNO | errno.ENOSYS
_OFF_NR, _OFF_ARCH = 0, 4


def _arg(index: int) -> int:
    """Offset of argument ``index``'s low 32 bits in ``struct seccomp_data`` (little-endian).

    The pid, family and flag arguments filtered here are C ``int``s: the kernel reads
    only these 32 bits, so the filter compares exactly what the kernel will use.
    """
    return 16 + 8 * index


class SeccompUnavailable(OSError):
    """The kernel or architecture cannot take the filter (the process is unchanged)."""


class _Insn(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Insn))]


def program(pid: int, *, signals: bool, jupyter: bool = False, machine: str | None = None) -> list[tuple[int, int, int, int]]:
    """The filter for process ``pid``, as ``(code, jt, jf, k)`` instructions.

    Args:
        pid: the pid the filtered process calls its own (the calls on other pids fail).
        signals: also confine signals to the caller and its process group (for kernels
            whose Landlock does not scope them).
        jupyter: for the ``otter`` engine's worker and its Jupyter kernel: leave sockets
            alone (the kernel talks to otter over TCP) and the scheduling-policy calls
            (libzmq's threads set their own with ``pthread_setschedparam``, by thread id,
            which the filter cannot tell from another process's pid).
        machine: ``platform.machine()`` to build for (default: this one).

    Returns:
        list of tuples (code: int 16-bit, jt: int 8-bit, jf: int 8-bit, k: int 32-bit).

    Raises:
        SeccompUnavailable: an architecture other than x86_64 or aarch64.
    """
    machine = machine or platform.machine()
    if machine not in _NR:
        raise SeccompUnavailable(f"no system call filter for the {machine} architecture")
    nr = _NR[machine]
    out: list[tuple[int, int, int, int]] = [(_LD_ABS_W, 0, 0, _OFF_ARCH), (_JEQ, 1, 0, _ARCH[machine]),
                                            (_RET, 0, 0, _KILL_PROCESS), (_LD_ABS_W, 0, 0, _OFF_NR)]
    if machine == "x86_64":
        out += [(_JGE, 0, 1, _X32_BIT), (_RET, 0, 0, _KILL_PROCESS)]

    def rule(name: str, block: list[tuple[int, int, int, int]]) -> None:
        # if nr == name: run block (which always returns); else skip it, nr still in A
        out.append((_JEQ, 0, len(block), nr[name]))
        out.extend(block)

    def one_of(offset: int, allowed: list[int], on_other: int = _EPERM) -> list[tuple[int, int, int, int]]:
        # load the argument; allowed values return ALLOW, anything else on_other
        block = [(_LD_ABS_W, 0, 0, offset)]
        for i, value in enumerate(allowed):
            to_allow = len(allowed) - i  # jumps over the remaining tests and the deny
            block.append((_JEQ, to_allow, 0, value & 0xFFFFFFFF))
        return block + [(_RET, 0, 0, on_other), (_RET, 0, 0, _ALLOW)]

    for name in _DENIED:
        rule(name, [(_RET, 0, 0, _EPERM)])
    rule("clone3", [(_RET, 0, 0, _ENOSYS)])
    rule("clone", [(_LD_ABS_W, 0, 0, _arg(0)), (_JSET, 0, 1, _NAMESPACES), (_RET, 0, 0, _EPERM), (_RET, 0, 0, _ALLOW)])
    if not jupyter:
        rule("socket", [(_RET, 0, 0, _EPERM)])
        rule("socketpair", one_of(_arg(0), [_AF_UNIX]))
    for name in _PID_FIRST:
        if not (jupyter and name in _SCHED_POLICY):
            rule(name, one_of(_arg(0), [0, pid]))
    for name in _WHICH_WHO:
        # which must be "a process", then who must be 0 or the caller
        who = one_of(_arg(1), [0, pid])
        rule(name, [(_LD_ABS_W, 0, 0, _arg(0)), (_JEQ, 1, 0, _WHO_PROCESS[name]), (_RET, 0, 0, _EPERM), *who])
    if signals:
        for name in _SIGNAL_PID_FIRST:
            rule(name, one_of(_arg(0), [0, pid, -pid]))
        for name in _SIGNAL_TGID_FIRST:
            rule(name, one_of(_arg(0), [pid]))
        rule("pidfd_send_signal", [(_RET, 0, 0, _EPERM)])
    out.append((_RET, 0, 0, _ALLOW))
    assert all(jt < 256 and jf < 256 for _, jt, jf, _ in out)
    return out


def install(*, signals: bool = False, jupyter: bool = False) -> int:
    """Install the filter on the calling process, for good (children inherit it).

    Needs ``PR_SET_NO_NEW_PRIVS`` (set here; :func:`autograder.engines.sandbox.restrict` sets it
    too) and a single-threaded process, or ``TSYNC`` puts every thread under it.

    Args:
        signals: also confine ``kill`` and its relatives (see the module doc).
        jupyter: the ``otter`` engine's variant (see :func:`program`).

    Returns:
        int: the number of BPF instructions installed.

    Raises:
        SeccompUnavailable: unknown architecture, or the kernel refused the filter (the
            message says why); the process is then not filtered.
    """
    array = _compiled(os.getpid(), signals=signals, jupyter=jupyter)
    prog = _Prog(len(array), ctypes.cast(array, ctypes.POINTER(_Insn)))
    try:
        no_new_privs()
    except OSError as error:
        raise SeccompUnavailable(str(error)) from None
    # seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog)
    number = {"x86_64": 317, "aarch64": 277}[platform.machine()]
    if libc().syscall(number, 1, 1, ctypes.byref(prog)) != 0:
        raise SeccompUnavailable(f"seccomp(SECCOMP_SET_MODE_FILTER) failed: {os.strerror(ctypes.get_errno())}")
    return len(array)


def prepare() -> None:
    """Build the filter's templates (see :func:`install`) now: the fork engine's zygote calls
    this before it forks, so that its children only copy them. Raises nothing (an
    architecture without a filter is reported by :func:`install`)."""
    for signals in (False, True):
        try:
            _template(signals, False, platform.machine())
        except SeccompUnavailable:
            return


def _compiled(pid: int, *, signals: bool, jupyter: bool) -> ctypes.Array:
    """:func:`program` for ``pid`` as the kernel takes it (an array of ``struct sock_filter``),
    copied from a template built once per process (and inherited by forked children) with
    the pid's slots filled in: building the list and the ctypes objects anew was about
    0.6 ms of each fork engine child's set-up (measured 2026-12-01). The same
    instructions as ``program(pid, ...)``; ``tests/test_syscall_filter_template.py``
    compares them.

    Raises:
        SeccompUnavailable: an architecture without a filter (from :func:`program`)."""
    template, own, negated = _template(signals, jupyter, platform.machine())
    array = (_Insn * (len(template) // ctypes.sizeof(_Insn))).from_buffer_copy(template)
    for index in own:
        array[index].k = pid & 0xFFFFFFFF
    for index in negated:
        array[index].k = -pid & 0xFFFFFFFF
    return array


@functools.cache
def _template(signals: bool, jupyter: bool, machine: str) -> tuple[bytes, tuple[int, ...], tuple[int, ...]]:
    """The instructions of :func:`program` as bytes, and the indices of the instructions
    whose constant is the pid (``own``) or its negation (``negated``, the process group in
    ``kill``), found by building the program for two pids and comparing; cached per
    process (arguments: as :func:`program`'s, ``machine`` from ``platform.machine()``)."""
    first, second = (program(pid, signals=signals, jupyter=jupyter, machine=machine) for pid in (_PID_A, _PID_B))
    own = tuple(i for i, (a, b) in enumerate(zip(first, second)) if a != b and a[3] == _PID_A)
    negated = tuple(i for i, (a, b) in enumerate(zip(first, second)) if a != b and a[3] == -_PID_A & 0xFFFFFFFF)
    assert len(first) == len(second) and {i for i, (a, b) in enumerate(zip(first, second)) if a != b} == {*own, *negated}
    array = (_Insn * len(first))(*[_Insn(*insn) for insn in first])
    return bytes(array), own, negated


_PID_A, _PID_B = 0x2345, 0x5432  # two pids that match no other constant of the program
