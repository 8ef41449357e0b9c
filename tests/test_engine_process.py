"""Process control of the engines (:mod:`autograder.engines.process`): limits clamped to
the hard limit a grader is given, the one process killer, and the fork engine's zygote and
child under a lowered hard memory limit."""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

from autograder.engines import Limits, process
from autograder.engines.fork import protocol

GIB = 1 << 30


def _run_with_hard_memory_limit(hard: int, code: str, timeout: float = 300) -> dict:
    """Run ``code`` in a fresh Python whose hard ``RLIMIT_AS`` is ``hard`` bytes (as a
    grader started by a shell with ``ulimit -H -v`` is); the JSON it prints last."""

    def lower() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))

    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], preexec_fn=lower, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_memory_cap_past_the_hard_limit_is_clamped_to_it():
    seen = _run_with_hard_memory_limit(2 * GIB, """
        import json, resource
        from autograder.engines import Limits, process
        Limits(memory_mb=1 << 20).apply_to_current_process()  # 1 TiB asked
        soft_kept_hard = resource.getrlimit(resource.RLIMIT_AS)
        Limits(memory_mb=1 << 20).apply_to_current_process(lock=True)
        locked = resource.getrlimit(resource.RLIMIT_AS)
        fsize = process.set_limit(resource.RLIMIT_FSIZE, 256 << 20, lock=True)
        print(json.dumps({"kept": soft_kept_hard, "locked": locked, "fsize": [fsize, *resource.getrlimit(resource.RLIMIT_FSIZE)]}))
    """)
    assert seen["kept"] == [2 * GIB, 2 * GIB]
    assert seen["locked"] == [2 * GIB, 2 * GIB]
    assert seen["fsize"] == [256 << 20] * 3  # below an unlimited hard limit: the value asked, then locked


def test_the_fork_engine_grades_under_a_hard_memory_limit_below_its_cap(built):
    """The zygote (started with a 1 TiB cap) and its child (``memory_mb`` above the hard
    limit) clamp to the grader's hard limit instead of failing in ``setrlimit``."""
    seen = _run_with_hard_memory_limit(24 * GIB, f"""
        import json, resource
        from pathlib import Path
        from autograder.engines import Limits, get_engine
        from autograder.submissions import Submission
        engine = get_engine("fork")
        try:
            outcome = engine.grade(Submission(Path({str(built.solution_notebook)!r}), "solution"), Path({str(built.autograder_zip)!r}),
                                   limits=Limits(memory_mb=1 << 20))
        finally:
            engine.close()
        print(json.dumps({{"status": outcome.status, "scores": outcome.scores, "hard": resource.getrlimit(resource.RLIMIT_AS)[1]}}))
    """)
    assert seen["hard"] == 24 * GIB
    assert seen["status"] == "Completed"
    assert seen["scores"] == built.points


def test_kill_ends_a_process_and_its_group():
    leader = subprocess.Popen([sys.executable, "-c", "import subprocess, time; subprocess.Popen(['sleep', '600']); time.sleep(600)"],
                              start_new_session=True)
    deadline = time.monotonic() + 30
    while not psutil.Process(leader.pid).children() and time.monotonic() < deadline:
        time.sleep(0.05)
    (sleeper,) = psutil.Process(leader.pid).children()
    process.kill(leader.pid)
    leader.wait(timeout=30)
    sleeper.wait(timeout=30)  # killed with its group (reaped by init, or gone)
    assert not sleeper.is_running() or sleeper.status() == psutil.STATUS_ZOMBIE
    process.kill(leader.pid)  # gone already: no error


def test_cell_seconds_is_the_cell_timeout_within_the_submissions_timeout():
    assert Limits(timeout=600, cell_timeout=120).cell_seconds == 120
    assert Limits(timeout=30, cell_timeout=120).cell_seconds == 30


@pytest.mark.slow
def test_the_zygote_refuses_a_job_that_is_not_one_and_keeps_serving():
    """The zygote checks what the engine sends (:func:`autograder.engines.fork.protocol.decode`):
    a line that is not a job, or a job without its two pipe ends, is answered with
    ``JobRefused`` and the reason, and no child is forked."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    env = {**os.environ, "PYTHONPATH": process.package_root(), "MPLBACKEND": "Agg"}
    zygote = subprocess.Popen([sys.executable, "-m", "autograder.engines.fork.zygote", str(theirs.fileno())],
                              pass_fds=[theirs.fileno()], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, start_new_session=True)
    theirs.close()
    reader = ours.makefile("rb")
    kinds = (protocol.ZygoteReady, protocol.ChildStarted, protocol.JobRefused, protocol.ChildExited)
    try:
        assert isinstance(protocol.decode(reader.readline(), kinds), protocol.ZygoteReady)
        ours.sendall(b'{"workdir": "/tmp", "cells": []}\n')  # no kind: not a job
        refused = protocol.decode(reader.readline(), kinds)
        assert isinstance(refused, protocol.JobRefused) and "not one of the messages expected here" in refused.reason
        job = protocol.Job(workdir="/tmp", cells=[], stop_before=None, token="t", cell_timeout=1.0, memory_mb=100,
                           output_bytes=10, seed=None, seed_variable=None, read_roots=[], support_modules=[])
        ours.sendall(protocol.encode(job))  # without the child's pipe ends
        refused = protocol.decode(reader.readline(), kinds)
        assert isinstance(refused, protocol.JobRefused) and "2 file descriptors, not 0" in refused.reason
    finally:
        reader.close()
        ours.close()  # the zygote's loop ends at end of file
        code = zygote.wait(timeout=60)
        stderr = zygote.stderr.read().decode()
        zygote.stderr.close()
    assert code == 0, stderr[-2000:]
