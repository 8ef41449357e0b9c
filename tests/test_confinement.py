"""The fork engine's child confinement beyond Landlock: the system call filter
(:mod:`autograder.engines.syscall_filter`) and the privileges given up (:mod:`autograder.engines.privileges`).

Each test forks a real process, confines it the way the fork engine's child is confined,
makes the real system calls and reports the errno (or the signal that ended it) back to
the test process: nothing is mocked. The calls aimed at this test process are chosen so
that, were the confinement missing, they would change nothing (reading a limit, setting
the CPUs it already has, signal 0).
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import platform
import resource
import signal
import socket
import time

import pytest

from autograder.engines import privileges, syscall_filter

pytestmark = pytest.mark.skipif(platform.system() != "Linux" or platform.machine() not in ("x86_64", "aarch64"),
                                reason="seccomp filters are built for Linux on x86_64 and aarch64")

_LIBC = ctypes.CDLL(None, use_errno=True)


def _in_child(body) -> tuple[dict, int]:
    """Run ``body()`` (returns a JSON-able dict) in a forked process; its dict and wait status."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(read)
        try:
            try:
                result = body()
            except BaseException as error:  # noqa: BLE001 - reported to the test
                result = {"error": f"{type(error).__name__}: {error}"}
            os.write(write, json.dumps(result).encode())
        finally:
            os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 1 << 16):
        data += chunk
    os.close(read)
    _, status = os.waitpid(pid, 0)
    return (json.loads(data) if data else {}), status


def _errno_of(act) -> int:
    """0 if ``act()`` succeeded, else its errno (``resource.setrlimit`` reports EPERM as ValueError)."""
    try:
        act()
        return 0
    except OSError as error:
        return error.errno
    except ValueError as error:
        assert "not allowed" in str(error), error
        return errno.EPERM


def _raw(number: int, *args) -> int:
    """A raw system call: 0 or more on success, else the errno."""
    result = _LIBC.syscall(number, *[ctypes.c_long(a) for a in args])
    return 0 if result >= 0 else ctypes.get_errno()


NR = syscall_filter._NR[platform.machine()]


def test_the_filter_refuses_other_processes_and_kernel_interfaces_and_keeps_the_callers_own():
    grader = os.getpid()

    def body():
        syscall_filter.install()
        udp = _errno_of(lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", 9)))
        return {
            "prlimit other": _errno_of(lambda: resource.prlimit(grader, resource.RLIMIT_CPU)),
            "prlimit self": _errno_of(lambda: resource.prlimit(0, resource.RLIMIT_CPU)),
            "prlimit own pid": _errno_of(lambda: resource.prlimit(os.getpid(), resource.RLIMIT_CPU)),
            "affinity other": _errno_of(lambda: os.sched_setaffinity(grader, os.sched_getaffinity(grader))),
            "affinity self": _errno_of(lambda: os.sched_setaffinity(0, os.sched_getaffinity(0))),
            "getpriority other": _errno_of(lambda: os.getpriority(os.PRIO_PROCESS, grader)),
            "setpriority user": _errno_of(lambda: os.setpriority(os.PRIO_USER, 0, os.getpriority(os.PRIO_PROCESS, 0))),
            "nice self +1": _errno_of(lambda: os.nice(1)),
            "udp": udp,
            "tcp6": _errno_of(lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM)),
            "netlink": _errno_of(lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW)),
            "unix": _errno_of(lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()),
            "inet pair": _raw(NR["socketpair"], socket.AF_INET, socket.SOCK_STREAM, 0, 0),
            "socketpair": _errno_of(lambda: [s.close() for s in socket.socketpair()]),
            "ptrace": _raw(NR["ptrace"], -1, 0, 0, 0),  # an invalid request: EIO unfiltered
            "process_vm_readv": _raw(NR["process_vm_readv"], grader, 0, 0, 0, 0, 0),
            "unshare user": _raw(NR["unshare"], 0x10000000),
            "clone new user": _raw(NR["clone"], 0x10000000 | signal.SIGCHLD, 0, 0, 0, 0),  # CLONE_NEWUSER
            "clone3": _raw(NR["clone3"], 0, 0),
            "bpf": _raw(NR["bpf"], 0, 0, 0),
            "keyctl": _raw(NR["keyctl"], 0, 0, 0, 0, 0),
            "mount": _raw(NR["mount"], 0, 0, 0, 0, 0),
            "fork": _errno_of(lambda: os.waitpid(pid, 0) if (pid := os.fork()) else os._exit(0)),
        }

    seen, status = _in_child(body)
    assert os.waitstatus_to_exitcode(status) == 0
    refused = {"prlimit other", "affinity other", "getpriority other", "setpriority user", "udp", "tcp6", "netlink", "unix",
               "inet pair", "ptrace",
               "process_vm_readv", "unshare user", "clone new user", "bpf", "keyctl", "mount"}
    assert {name: code for name, code in seen.items() if name in refused} == dict.fromkeys(refused, errno.EPERM)
    assert seen["clone3"] == errno.ENOSYS  # the C library falls back to clone
    assert {name: code for name, code in seen.items() if name not in refused | {"clone3"}} == {
        "prlimit self": 0, "prlimit own pid": 0, "affinity self": 0, "nice self +1": 0, "socketpair": 0, "fork": 0}


def test_a_call_under_another_numbering_kills_the_process():
    if platform.machine() != "x86_64":
        pytest.skip("the x32 numbering exists on x86_64 only")

    def body():
        syscall_filter.install()
        _LIBC.syscall(0x40000000 | 39)  # getpid, x32 numbering: a filter by number would miss it
        return {"survived": True}

    seen, status = _in_child(body)
    assert seen == {} and os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGSYS


def test_signals_are_confined_when_landlock_cannot_scope_them():
    grader = os.getpid()

    def body():
        syscall_filter.install(signals=True)
        return {"other": _errno_of(lambda: os.kill(grader, 0)), "self": _errno_of(lambda: os.kill(os.getpid(), 0)),
                "group": _errno_of(lambda: os.kill(0, 0))}

    seen, _ = _in_child(body)
    assert seen == {"other": errno.EPERM, "self": 0, "group": 0}


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_the_program_fits_classic_bpf_and_checks_the_architecture_first(machine):
    insns = syscall_filter.program(1234, signals=True, machine=machine)
    assert insns[:3] == [(0x20, 0, 0, 4), (0x15, 1, 0, syscall_filter._ARCH[machine]), (0x06, 0, 0, 0x80000000)]
    assert insns[-1] == (0x06, 0, 0, 0x7FFF0000) and len(insns) < 4096
    socket_nr = syscall_filter._NR[machine]["socket"]
    assert any(code == 0x15 and k == socket_nr for code, _, _, k in insns)
    jupyter = syscall_filter.program(1234, signals=False, jupyter=True, machine=machine)  # the otter engine's kernel
    assert not any(code == 0x15 and k == socket_nr for code, _, _, k in jupyter)
    with pytest.raises(syscall_filter.SeccompUnavailable, match="riscv64"):
        syscall_filter.program(1, signals=False, machine="riscv64")


def _status(field: str) -> str:
    with open("/proc/self/status") as f:
        return next(line.split(":", 1)[1].strip() for line in f if line.startswith(field + ":"))


def test_no_capability_is_left_and_no_hard_limit_can_be_raised():
    def body():
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, resource.getrlimit(resource.RLIMIT_AS)[1]))
        privileges.lock_limits()
        privileges.drop_capabilities()
        return {**{field: _status(field) for field in ("CapEff", "CapPrm", "CapInh", "CapBnd", "CapAmb")},
                "as": list(resource.getrlimit(resource.RLIMIT_AS)),
                "lift": _errno_of(lambda: resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY,) * 2)),
                "nice -1": _errno_of(lambda: os.nice(-1))}

    seen, _ = _in_child(body)
    assert "error" not in seen, seen
    empty = "0" * 16
    expected_bounding = empty if os.geteuid() == 0 else seen["CapBnd"]  # without privileges there is none to drop
    assert {k: seen[k] for k in ("CapEff", "CapPrm", "CapInh", "CapAmb")} == dict.fromkeys(("CapEff", "CapPrm", "CapInh", "CapAmb"), empty)
    assert seen["CapBnd"] == expected_bounding
    assert seen["as"] == [4 << 30, 4 << 30]
    assert seen["lift"] == errno.EPERM and seen["nice -1"] in (errno.EPERM, errno.EACCES)


@pytest.mark.skipif(os.geteuid() != 0, reason="a private /proc needs the privileges of a root grader")
def test_other_processes_vanish_from_the_childs_proc_and_stay_in_ours():
    from autograder.engines import sandbox

    grader = os.getpid()

    def body():
        hidden = privileges.hide_other_processes()
        sandbox.restrict(read=["/usr", "/lib", "/proc"], write=[])
        privileges.drop_capabilities()
        child = os.fork()
        if child == 0:
            time.sleep(5)
            os._exit(0)
        listed = {int(p) for p in os.listdir("/proc") if p.isdigit()}
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        return {"hidden": hidden, "listed": sorted(listed), "me": os.getpid(), "child": child,
                "cmdline": _errno_of(lambda: open(f"/proc/{grader}/cmdline").read())}

    seen, _ = _in_child(body)
    assert seen["hidden"] is True
    assert set(seen["listed"]) == {seen["me"], seen["child"]}  # itself and its own children only
    assert seen["cmdline"] == errno.ENOENT
    assert str(grader) in os.listdir("/proc")  # the grader's /proc is untouched
