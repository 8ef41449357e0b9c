"""The fork engine's wire protocol (:mod:`autograder.engines.fork.protocol`), without a
kernel or a zygote: every message survives the trip, and a malformed, unknown or unsigned
line is refused with an error that says why, never taken as a message."""

from __future__ import annotations

import json
import os

import pytest

from autograder.engines.fork import protocol
from autograder.engines.fork.protocol import (
    CHILD_MESSAGES, CellStarted, ChildExited, ChildStarted, Crash, Job, JobRefused, MalformedMessage, Note, Ready, Results,
    ZipTests, UnsignedMessage, ZygoteReady, decode, encode,
)

TOKEN = "a" * 32
ZYGOTE = (ZygoteReady, ChildStarted, JobRefused, ChildExited)
JOB = Job(workdir="/tmp/w", cells=[(0, "import torch"), (3, "x = 1")], stop_before=None, token=TOKEN, cell_timeout=8.0,
          memory_mb=4096, output_bytes=1_000_000, seed=None, seed_variable=None, read_roots=["/usr"], support_modules=["gradkit_checks"])

EVERY_MESSAGE = [
    (JOB, (Job,)),
    (ZygoteReady(), ZYGOTE),
    (ChildStarted(1234), ZYGOTE),
    (JobRefused("not a job"), ZYGOTE),
    (ChildExited(-9), ZYGOTE),
    (CellStarted(5), CHILD_MESSAGES),
    (Note("cell 6 ran past 8 s and was interrupted", interrupted=5), CHILD_MESSAGES),
    (Note("output past 10 bytes was dropped (from cell 2)"), CHILD_MESSAGES),
    (Ready(["changed the grader's libraries: torch.allclose was replaced"]), CHILD_MESSAGES),
    (Results({"./tests/q1.py": [(True, "✅ Test case passed"), (False, "❌ Test case failed")]}, late=[]), CHILD_MESSAGES),
    (Crash("RuntimeError: boom"), CHILD_MESSAGES),
    (ZipTests([("./tests/q1.py", "OK_FORMAT = False\n")]), (ZipTests,)),
]


@pytest.mark.parametrize("message, channel", EVERY_MESSAGE, ids=lambda m: type(m).__name__ if not isinstance(m, tuple) else "")
def test_every_message_survives_the_wire(message, channel):
    line = encode(message, TOKEN)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert decode(line[:-1], channel, TOKEN) == message


def test_child_messages_carry_the_token_and_others_do_not():
    assert json.loads(encode(CellStarted(1), TOKEN))["token"] == TOKEN
    assert "token" not in json.loads(encode(ChildStarted(7)))
    with pytest.raises(ValueError, match="needs the submission's token"):
        encode(CellStarted(1))


@pytest.mark.parametrize("body", [
    {"kind": "cell", "cell": 1},                      # no token (the student's code wrote it)
    {"kind": "cell", "cell": 1, "token": "b" * 32},   # another submission's token, or a guess
    {"kind": "results", "results": {"./tests/q1.py": [[True, "ok"]]}, "late": [], "token": ""},
    {"ready": True, "runtime": []},                   # any object: the token is checked first
])
def test_a_child_message_without_this_submissions_token_is_refused(body):
    with pytest.raises(UnsignedMessage, match="without this submission's token"):
        decode(json.dumps(body), CHILD_MESSAGES, TOKEN)


@pytest.mark.parametrize("line, reason", [
    (b"not json", "not a JSON line"),
    (b"\xff\xfe", "not a JSON line"),
    (b"[1, 2]", "not a JSON object"),
    (b'{"cell": 1, "token": "%s"}' % TOKEN.encode(), "not one of the messages expected here"),  # no kind
    (b'{"kind": "job", "token": "%s"}' % TOKEN.encode(), "not one of the messages expected here"),  # not on this pipe
    (b'{"kind": "cell", "cell": "1", "token": "%s"}' % TOKEN.encode(), "cell: '1' is not int"),
    (b'{"kind": "cell", "cell": true, "token": "%s"}' % TOKEN.encode(), "is not int"),
    (b'{"kind": "cell", "token": "%s"}' % TOKEN.encode(), "without its 'cell' field"),
    (b'{"kind": "cell", "cell": 1, "pid": 2, "token": "%s"}' % TOKEN.encode(), "unknown field"),
    (b'{"kind": "ready", "runtime": "x", "token": "%s"}' % TOKEN.encode(), "is not a list"),
    (b'{"kind": "results", "results": {"q": [[1, "ok"]]}, "late": [], "token": "%s"}' % TOKEN.encode(), "is not bool"),
    (b'{"kind": "results", "results": {"q": [[true]]}, "late": [], "token": "%s"}' % TOKEN.encode(), "is not a list of 2"),
    (b'{"kind": "note", "text": "x", "interrupted": "3", "token": "%s"}' % TOKEN.encode(), "interrupted"),
])
def test_a_malformed_child_line_is_refused_with_the_reason(line, reason):
    with pytest.raises(MalformedMessage, match=reason):
        decode(line, CHILD_MESSAGES, TOKEN)


def test_a_malformed_job_or_test_list_is_refused():
    body = json.loads(encode(JOB))
    body["cells"] = [[0]]
    with pytest.raises(MalformedMessage, match="cells"):
        decode(json.dumps(body), (Job,))
    del body["cells"]
    with pytest.raises(MalformedMessage, match="without its 'cells' field"):
        decode(json.dumps(body), (Job,))
    with pytest.raises(MalformedMessage, match="tests"):
        decode(b'{"kind": "tests", "tests": [["./tests/q1.py"]]}', (ZipTests,))


def test_the_childs_texts_are_cut_on_receipt():
    long = "x" * 100_000
    ready = decode(encode(Ready([long] * 80), TOKEN)[:-1], CHILD_MESSAGES, TOKEN)
    assert len(ready.runtime) == protocol.MAX_FINDINGS and {len(t) for t in ready.runtime} == {protocol.TEXT_CHARS}
    results = decode(encode(Results({"q": [(False, long)]}, [long]), TOKEN)[:-1], CHILD_MESSAGES, TOKEN)
    assert len(results.results["q"][0][1]) == protocol.MESSAGE_CHARS and len(results.late[0]) == protocol.TEXT_CHARS
    assert len(decode(encode(Note(long), TOKEN)[:-1], CHILD_MESSAGES, TOKEN).text) == protocol.TEXT_CHARS
    assert len(decode(encode(Crash(long), TOKEN)[:-1], CHILD_MESSAGES, TOKEN).reason) == protocol.TEXT_CHARS


def test_write_sends_the_whole_line_through_a_pipe():
    read, write = os.pipe()
    try:
        tests = ZipTests([(f"./tests/q{i}.py", "y" * 10_000) for i in range(5)])  # under one pipe buffer (64 KiB)
        protocol.write(write, tests)
        os.close(write)
        write = -1
        data = b""
        while chunk := os.read(read, 1 << 16):
            data += chunk
        assert decode(data, (ZipTests,)) == tests
    finally:
        os.close(read)
        if write >= 0:
            os.close(write)


def test_phases_travel_with_ready_and_results_and_default_to_none():
    ready = Ready([], {"sandbox": 0.01, "cells": 0.2, "snapshot": 0.003})
    assert decode(encode(ready, TOKEN)[:-1], CHILD_MESSAGES, TOKEN) == ready
    results = Results({}, [], {"tests": 0.05, "snapshot": 0})
    assert decode(encode(results, TOKEN)[:-1], CHILD_MESSAGES, TOKEN).phases == {"tests": 0.05, "snapshot": 0.0}
    assert decode(encode(Ready([]), TOKEN)[:-1], CHILD_MESSAGES, TOKEN).phases == {}


@pytest.mark.parametrize("phases, why", [
    ('{"gradebook": 1.0}', "unknown phase"),            # not a phase a child times
    ('{"cells": -1}', "is not a duration"),
    ('{"cells": NaN}', "is not a duration"),             # json.loads takes NaN and Infinity
    ('{"cells": Infinity}', "is not a duration"),
    ('{"cells": 1' + "0" * 400 + '}', "out of range"),    # an integer past the float range
    ('{"cells": "0.1"}', "is not a number"),
    ('{"cells": true}', "is not a number"),
    ('[0.1]', "is not an object"),
])
def test_absurd_phases_from_the_child_are_refused(phases, why):
    line = '{"kind": "ready", "runtime": [], "phases": %s, "token": "%s"}' % (phases, TOKEN)
    with pytest.raises(MalformedMessage, match=why):
        decode(line, CHILD_MESSAGES, TOKEN)
