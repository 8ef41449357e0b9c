"""A job server's clean-up after each child (:func:`autograder.engines.fork.zygote._kill_leftovers`,
issue 16): processes the child left are still killed and reaped now that the server
skips its scan of ``/proc`` when it has no child left. Runs in a forked process that is,
like a job server, a subreaper and a session leader."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from autograder.engines import process
from autograder.engines.fork import zygote

from .fork_each import fork_each

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


def _as_server(work) -> dict:
    """Run ``work()`` in a forked process set up as a job server is; its JSON result."""
    def as_server(_item: str) -> str:
        os.setsid()
        process.become_subreaper()
        return json.dumps(work())

    [(status, text)] = fork_each(["server"], as_server).values()
    assert os.waitstatus_to_exitcode(status) == 0
    return json.loads(text)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def _leave_a_detached_sleeper() -> dict:
    """A child that forks a grandchild in a session of its own, which forks a sleeper, and exits."""
    sleeper_read, sleeper_write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the graded child
        grandchild = os.fork()
        if grandchild == 0:
            os.setsid()
            sleeper = os.fork()
            if sleeper == 0:
                signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
                time.sleep(600)
                os._exit(0)
            os.write(sleeper_write, json.dumps([os.getpid(), sleeper]).encode())
            time.sleep(600)
            os._exit(0)
        os._exit(0)
    os.close(sleeper_write)
    left = json.loads(os.read(sleeper_read, 1 << 16))
    os.waitpid(child, 0)
    before = [_alive(pid) for pid in left]
    zygote._kill_leftovers()
    return {"before": before, "after": [_alive(pid) for pid in left]}


def test_processes_a_child_left_are_killed():
    result = _as_server(_leave_a_detached_sleeper)
    assert result == {"before": [True, True], "after": [False, False]}
