"""One zygote for every grading thread (issue 16): the fork engine starts one zygote with
``--spawner``, which warms up once and forks a job server per grading thread; each server
is a zygote of its own (a session of its own, its own socket) and ends with its socket."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from autograder.engines import process
from autograder.engines.fork import protocol
from autograder.engines.fork.engine import ForkEngine
from autograder.engines.limits import Limits
from autograder.submissions import Submission

SAMPLES = Path(__file__).resolve().parent.parent / "assignments" / "autograd-basics" / "samples"
SPAWNER = (protocol.ZygoteReady, protocol.Spawned, protocol.JobRefused)
SERVER = (protocol.ZygoteReady, protocol.ChildStarted, protocol.JobRefused, protocol.ChildExited)


def _gone(pid: int, within: float = 20.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                time.sleep(0.05)
                continue
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.slow
def test_the_spawner_forks_job_servers_and_refuses_everything_else():
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    env = {**os.environ, "PYTHONPATH": process.package_root(), "MPLBACKEND": "Agg"}
    zygote = subprocess.Popen([sys.executable, "-m", "autograder.engines.fork.zygote", "--spawner", str(theirs.fileno())],
                              pass_fds=[theirs.fileno()], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, start_new_session=True)
    theirs.close()
    reader = ours.makefile("rb")
    job = protocol.Job(workdir="/tmp", cells=[], stop_before=None, token="t", cell_timeout=1.0, memory_mb=100,
                       output_bytes=10, seed=None, seed_variable=None, read_roots=[], support_modules=[])
    servers = []
    try:
        assert isinstance(protocol.decode(reader.readline(), SPAWNER), protocol.ZygoteReady)
        ours.sendall(protocol.encode(job))  # the spawner runs no job
        refused = protocol.decode(reader.readline(), SPAWNER)
        assert isinstance(refused, protocol.JobRefused) and "not one of the messages expected here" in refused.reason
        ours.sendall(protocol.encode(protocol.Spawn()))  # without the server's socket
        refused = protocol.decode(reader.readline(), SPAWNER)
        assert isinstance(refused, protocol.JobRefused) and "1 file descriptor, not 0" in refused.reason
        for _ in range(2):
            mine, its = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            socket.send_fds(ours, [protocol.encode(protocol.Spawn())], [its.fileno()])
            its.close()
            spawned = protocol.decode(reader.readline(), SPAWNER)
            assert isinstance(spawned, protocol.Spawned)
            servers.append((spawned.pid, mine, mine.makefile("rb")))
        for pid, mine, server in servers:
            assert isinstance(protocol.decode(server.readline(), SERVER), protocol.ZygoteReady)
            assert psutil.Process(pid).ppid() == zygote.pid and os.getsid(pid) == pid  # its own session
            mine.sendall(protocol.encode(job))  # a server checks its jobs like any zygote
            refused = protocol.decode(server.readline(), SERVER)
            assert isinstance(refused, protocol.JobRefused) and "2 file descriptors, not 0" in refused.reason
        pid, mine, server = servers.pop(0)
        server.close()
        mine.close()  # the server's loop ends at end of file; the spawner reaps it
        assert _gone(pid)
        assert zygote.poll() is None and psutil.Process(servers[0][0]).is_running()
    finally:
        reader.close()
        ours.close()  # the spawner ends its remaining servers, then itself
        code = zygote.wait(timeout=60)
        stderr = zygote.stderr.read().decode()
        zygote.stderr.close()
        for pid, mine, server in servers:
            server.close()
            mine.close()
    assert code == 0, stderr[-2000:]
    assert all(_gone(pid) for pid, _, _ in servers)


@pytest.mark.slow
def test_the_engine_starts_one_zygote_for_all_its_threads(built, tmp_path):
    from instructor.samples import load_samples, write_samples

    samples = write_samples(built.student_notebook, load_samples(SAMPLES), tmp_path)
    solution = next(p for p in samples if p.stem == "solution")
    engine = ForkEngine()
    outcomes = {}

    def grade(name: str) -> None:
        engine.warm_up()
        outcomes[name] = engine.grade(Submission(path=solution, label=name), built.autograder_zip, limits=Limits())

    threads = [threading.Thread(target=grade, args=(f"t{i}",)) for i in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(engine._zygotes) == 1 and len(engine._servers) == 2
        server_pids = [server.pid for server in engine._servers]
        zygote_pid = engine._zygotes[0].pid
        assert all(psutil.Process(pid).ppid() == zygote_pid for pid in server_pids)
        assert "--one-submission" not in psutil.Process(zygote_pid).cmdline()  # no expect(): the many-fork start
    finally:
        engine.close()
    assert outcomes["t0"].scores == outcomes["t1"].scores and outcomes["t0"].total > 0
    assert outcomes["t0"].status == outcomes["t1"].status == "Completed"
    assert set(outcomes["t0"].phases) == {"fork", "sandbox", "cells", "snapshot", "tests", "scoring"}
    assert all(seconds >= 0 for seconds in outcomes["t0"].phases.values())
    assert all(_gone(pid) for pid in [zygote_pid, *server_pids])


def test_a_small_batch_starts_the_zygote_as_for_one_submission():
    """``expect(n)`` up to SMALL_BATCH: the zygote skips what pays off only over many forks
    (the flag its command line gets, ``--one-submission``); more, or no hint, keeps the
    many-fork start; an engine made for one submission stays so."""
    assert ForkEngine.SMALL_BATCH == 24
    for expected, lean in ((0, True), (2, True), (24, True), (25, False), (1000, False)):
        engine = ForkEngine()
        engine.expect(expected)
        assert engine._one_submission is lean, expected
    assert ForkEngine()._one_submission is False
    engine = ForkEngine(one_submission=True)
    engine.expect(1000)
    assert engine._one_submission is True
