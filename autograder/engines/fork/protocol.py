"""The fork engine's wire protocol: every message between the engine, its zygote and a
graded child, written down once as types, and checked on receipt.

Three channels, one JSON object per line, each object with a ``kind``:

* engine <-> zygote, a Unix socket (:mod:`autograder.engines.fork.zygote`):

  - engine -> zygote: :class:`Job`, with two file descriptors attached (``SCM_RIGHTS``):
    the child's event pipe (write end) and its test pipe (read end);
  - zygote -> engine: :class:`ZygoteReady` once after start-up, then per job
    :class:`ChildStarted` once the child is forked (or :class:`JobRefused` for a job that
    is not one) and :class:`ChildExited` once it has ended and every process it left was
    killed.
  - a zygote started as the spawner serves no job: engine -> spawner :class:`Spawn`, with
    one end of a new socket pair attached; spawner -> engine :class:`Spawned` (or
    :class:`JobRefused`) once it has forked a job server on that socket, which then talks
    as a zygote (:class:`ZygoteReady` first).

* child -> engine, the event pipe. The student's code runs in the child and can write to
  any descriptor it has, so every message carries the submission's ``token`` (a random
  string the engine puts in the :class:`Job`; the student's code never sees it) and one
  without it is refused: :class:`CellStarted` before each cell, :class:`Note` (an
  interrupted cell, capped output, a test file given up), :class:`Ready` once the last cell
  has ended and the libraries are restored, then :class:`Results`; :class:`Crash` when
  gradkit's own code in the child failed.

* engine -> child, the test pipe: one :class:`ZipTests` after :class:`Ready`, then end of
  file. Only the engine holds the pipe's write end.

:func:`decode` turns one line into its message, or raises :class:`MalformedMessage` (not
JSON, no known ``kind``, a field missing, extra or of the wrong type) or
:class:`UnsignedMessage` (a child message without this submission's token); nothing in a
refused line is used. :func:`encode` writes a message (with the token, for child
messages). Texts from the child (its notes, findings and test messages) are cut to
:data:`TEXT_CHARS`/:data:`MESSAGE_CHARS` characters and :data:`MAX_FINDINGS` findings on
receipt: the student's code can put any text in them.
"""

from __future__ import annotations

import functools
import json
import math
import os
import types
import typing
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any, ClassVar, Union

__all__ = ["CHILD_MESSAGES", "CHILD_PHASES", "MAX_FINDINGS", "MESSAGE_CHARS", "TEXT_CHARS", "CellStarted", "ChildExited",
           "ChildStarted", "Crash", "Job", "JobRefused", "MalformedMessage", "Note", "ProtocolError", "Ready",
           "Results", "Spawn", "Spawned", "UnsignedMessage", "ZipTests", "ZygoteReady", "decode", "encode", "write"]

TEXT_CHARS = 500
"""A note, finding or crash text from the child longer than this is cut (characters)."""
MESSAGE_CHARS = 20_000
"""A test case's message longer than this is cut (characters; student-controlled text)."""
MAX_FINDINGS = 50
"""Run-time findings kept from one :class:`Ready` or :class:`Results` message."""
CHILD_PHASES = ("sandbox", "cells", "snapshot", "tests")
"""The phases a child times (``phases`` of :class:`Ready` and :class:`Results`; profiling only)."""


class ProtocolError(ValueError):
    """A line that is not one of the protocol's messages; it was refused."""


class MalformedMessage(ProtocolError):
    """Not JSON, not an object, an unknown ``kind``, or fields that do not match it."""


class UnsignedMessage(ProtocolError):
    """A child message without the submission's token (the student's code wrote it)."""


# ---------------------------------------------------------------- engine <-> zygote


@dataclass(frozen=True)
class Job:
    """engine -> zygote: fork a child and grade one notebook.

    Attributes:
        workdir: the child's working folder (its support files are already there).
        cells: ``[index, source]`` of every code cell to run (index 0-based, in the
            submitted notebook).
        stop_before: run only the cells before this index (None: all).
        token: the submission's token (hex); the child signs its events with it.
        cell_timeout: seconds a cell, or one test file, may run before it is interrupted.
        memory_mb: the child's address-space cap, MiB (clamped to the hard limit).
        output_bytes: output kept, in bytes.
        seed: otter's ``seed`` (None: no seeding), set before each cell.
        seed_variable: otter's ``seed_variable``: the seed is assigned to this name instead.
        read_roots: folders the child may read (Landlock).
        support_modules: the zip's top-level support modules, imported before student code.
        user: ``(uid, gid)`` the child switches to before student code runs (a root grader
            on Gradescope, :mod:`autograder.engines.user_drop`); None keeps the grader's.
        landlock: confine the child with Landlock (False only with ``user``, where the
            kernel has no Landlock).
    """

    kind: ClassVar[str] = "job"
    workdir: str
    cells: list[tuple[int, str]]
    stop_before: int | None
    token: str
    cell_timeout: float
    memory_mb: int
    output_bytes: int
    seed: int | None
    seed_variable: str | None
    read_roots: list[str]
    support_modules: list[str]
    user: tuple[int, int] | None = None
    landlock: bool = True


@dataclass(frozen=True)
class Spawn:
    """engine -> spawner: fork a job server for another grading thread, serving on the
    socket attached (one file descriptor)."""

    kind: ClassVar[str] = "spawn"


@dataclass(frozen=True)
class Spawned:
    """spawner -> engine: the job server for the last :class:`Spawn` runs, as process ``pid``."""

    kind: ClassVar[str] = "spawned"
    pid: int


@dataclass(frozen=True)
class ZygoteReady:
    """zygote -> engine: warmed up and waiting for jobs."""

    kind: ClassVar[str] = "zygote-ready"


@dataclass(frozen=True)
class ChildStarted:
    """zygote -> engine: the child for the last job is forked, as process ``pid``."""

    kind: ClassVar[str] = "started"
    pid: int


@dataclass(frozen=True)
class JobRefused:
    """zygote -> engine: the last job was not a :class:`Job` (``reason`` says why); no child."""

    kind: ClassVar[str] = "refused"
    reason: str


@dataclass(frozen=True)
class ChildExited:
    """zygote -> engine: the child has ended (``code``: its exit code, or minus the signal
    that killed it) and every process it left has been killed."""

    kind: ClassVar[str] = "exited"
    code: int


# ---------------------------------------------------------------- child <-> engine


@dataclass(frozen=True)
class CellStarted:
    """child -> engine: cell ``cell`` (0-based) starts."""

    kind: ClassVar[str] = "cell"
    cell: int


@dataclass(frozen=True)
class Note:
    """child -> engine: a status note; ``interrupted``: the cell (0-based) the note is about
    when it was interrupted after the cell timeout."""

    kind: ClassVar[str] = "note"
    text: str
    interrupted: int | None = None


@dataclass(frozen=True)
class Ready:
    """child -> engine: the last cell has ended; ``runtime``: what the student's code did
    that is a finding (changed libraries or torch's state, audited events, leftovers);
    ``phases``: wall-clock seconds the child spent so far per phase (keys among
    :data:`CHILD_PHASES`: ``sandbox``, ``cells``, ``snapshot``), for profiling only."""

    kind: ClassVar[str] = "ready"
    runtime: list[str]
    phases: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Results:
    """child -> engine: pass/fail and message of every test case, per test file path
    (``{"./tests/q1.py": [[passed, message], ...]}``); ``late``: findings made while the
    tests called the student's code; ``phases``: wall-clock seconds of the test phase
    (``tests``, and ``snapshot``: the checks after each test file), for profiling only."""

    kind: ClassVar[str] = "results"
    results: dict[str, list[tuple[bool, str]]]
    late: list[str]
    phases: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Crash:
    """child -> engine: gradkit's code in the child failed (``reason``); no results follow."""

    kind: ClassVar[str] = "crash"
    reason: str


@dataclass(frozen=True)
class ZipTests:
    """engine -> child: the autograder zip's test files, ``[path, source]``, in otter's order,
    and (``compiled``) each one's code as the grading process compiled it."""

    kind: ClassVar[str] = "tests"
    tests: list[tuple[str, str]]
    # per test file, its code compiled by the grading process (autograder.otter_tests.
    # compiled_test_file), used by the child instead of compiling the source; may be empty
    compiled: list[str] = field(default_factory=list)


CHILD_MESSAGES = (CellStarted, Note, Ready, Results, Crash)
"""The messages of the event pipe: signed with the submission's token."""

_KINDS = {cls.kind: cls for cls in (Job, Spawn, Spawned, ZygoteReady, ChildStarted, JobRefused, ChildExited, *CHILD_MESSAGES, ZipTests)}


def encode(message: Any, token: str | None = None) -> bytes:
    """One line (UTF-8, ending in ``\\n``) holding ``message``; ``token`` is required for
    (and only added to) the child's messages."""
    body = {"kind": message.kind, **asdict(message)}
    if isinstance(message, CHILD_MESSAGES):
        if not token:
            raise ValueError(f"a {message.kind!r} message needs the submission's token")
        body["token"] = token
    return (json.dumps(body) + "\n").encode("utf-8")


def write(fd: int, message: Any, token: str | None = None) -> None:
    """Write :func:`encode` of ``message`` to the file descriptor ``fd``, all of it
    (``os.write`` may write less)."""
    data = encode(message, token)
    while data:
        data = data[os.write(fd, data):]


def decode(line: bytes | str, expect: tuple[type, ...], token: str | None = None) -> Any:
    """The message in ``line``, if it is one of the types in ``expect``.

    Args:
        line: one line (without its ``\\n``).
        expect: the message classes this channel carries.
        token: the submission's token, required for the child's messages.

    Returns:
        an instance of one of ``expect``, with its texts cut (see the module doc).

    Raises:
        MalformedMessage: not JSON, not an object, not one of ``expect``, or a field
            missing, unknown or of the wrong type (``phases``: a key not in
            :data:`CHILD_PHASES`, or a value that is not a finite number >= 0).
        UnsignedMessage: on a channel of the child's messages, an object whose ``token``
            is not ``token`` (checked first: an object without it is unsigned, whatever
            else it holds).
    """
    try:
        body = json.loads(line)
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedMessage(f"not a JSON line: {error}") from None
    if not isinstance(body, dict):
        raise MalformedMessage(f"not a JSON object: {type(body).__name__}")
    signed = any(cls in CHILD_MESSAGES for cls in expect)
    if signed and (token is None or body.pop("token", None) != token):  # whatever else it holds
        raise UnsignedMessage("a message without this submission's token")
    cls = _KINDS.get(body.pop("kind", None))
    if cls is None or cls not in expect:
        raise MalformedMessage(f"not one of the messages expected here ({', '.join(c.kind for c in expect)})")
    names, spec = _spec(cls)
    if not names.issuperset(body):
        raise MalformedMessage(f"{cls.kind!r} message with unknown field(s): {', '.join(sorted(set(body) - names))}")
    values = {}
    for name, hint, optional in spec:
        if name not in body:
            if optional:
                continue
            raise MalformedMessage(f"{cls.kind!r} message without its {name!r} field")
        try:
            values[name] = _typed(body[name], hint)
        except TypeError as error:
            raise MalformedMessage(f"{cls.kind!r} message: {name}: {error}") from None
    if "phases" in values:
        _check_phases(cls, values["phases"])
    return _cut(cls(**values))


def _check_phases(cls: type, phases: dict[str, float]) -> None:
    """``MalformedMessage`` unless every key is one of :data:`CHILD_PHASES` and every value
    a finite number >= 0 (JSON lets ``NaN`` and ``Infinity`` through)."""
    for name, seconds in phases.items():
        if name not in CHILD_PHASES:
            raise MalformedMessage(f"{cls.kind!r} message: phases: unknown phase {name!r:.40}")
        if not math.isfinite(seconds) or seconds < 0:
            raise MalformedMessage(f"{cls.kind!r} message: phases: {name}: {seconds!r} is not a duration")


@functools.cache
def _spec(cls: type) -> tuple[frozenset[str], tuple[tuple[str, Any, bool], ...]]:
    """A message class's field names and, per field in order, ``(name, type hint, optional)``
    (optional: it has a default), worked out once per class: the engine decodes about 25
    messages per submission, and ``dataclasses.fields`` and ``typing.get_type_hints`` on
    each were about a third of that (measured 2026-12-01)."""
    hints = typing.get_type_hints(cls)
    spec = tuple((f.name, hints[f.name], f.default is not MISSING or f.default_factory is not MISSING) for f in fields(cls))
    return frozenset(name for name, _, _ in spec), spec


@functools.cache
def _shape(hint: Any) -> tuple[Any, tuple]:
    """``(typing.get_origin(hint), typing.get_args(hint))``, once per hint (see :func:`_spec`)."""
    return typing.get_origin(hint), typing.get_args(hint)


def _typed(value: Any, hint: Any) -> Any:
    """``value`` checked against the type ``hint`` (JSON lists become tuples where the hint
    says tuple); ``TypeError`` naming what does not match."""
    origin, args = _shape(hint)
    if origin in (Union, types.UnionType):
        for option in args:
            try:
                return _typed(value, option)
            except TypeError:
                continue
        raise TypeError(f"{value!r:.60} is not {hint}")
    if hint is type(None):
        if value is None:
            return None
        raise TypeError(f"{value!r:.60} is not null")
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                return float(value)
            except OverflowError:  # an integer past the float range
                raise TypeError(f"{value!r:.60} is out of range") from None
        raise TypeError(f"{value!r:.60} is not a number")
    if hint in (int, str, bool):
        if type(value) is hint:  # bool is not an int here
            return value
        raise TypeError(f"{value!r:.60} is not {hint.__name__}")
    if origin is list:
        if not isinstance(value, list):
            raise TypeError(f"{value!r:.60} is not a list")
        return [_typed(item, args[0]) for item in value]
    if origin is tuple:
        if not isinstance(value, list) or len(value) != len(args):
            raise TypeError(f"{value!r:.60} is not a list of {len(args)}")
        return tuple(_typed(item, arg) for item, arg in zip(value, args))
    if origin is dict:
        if not isinstance(value, dict):
            raise TypeError(f"{value!r:.60} is not an object")
        return {_typed(k, args[0]): _typed(v, args[1]) for k, v in value.items()}
    raise TypeError(f"no check for {hint}")  # pragma: no cover - every field's type is above


def _cut(message: Any) -> Any:
    """``message`` with the child's texts cut to the protocol's sizes."""
    if isinstance(message, Note):
        return Note(message.text[:TEXT_CHARS], message.interrupted)
    if isinstance(message, Ready):
        return Ready([text[:TEXT_CHARS] for text in message.runtime][:MAX_FINDINGS], message.phases)
    if isinstance(message, Results):
        results = {path: [(passed, text[:MESSAGE_CHARS]) for passed, text in cases] for path, cases in message.results.items()}
        return Results(results, [text[:TEXT_CHARS] for text in message.late][:MAX_FINDINGS], message.phases)
    if isinstance(message, Crash):
        return Crash(message.reason[:TEXT_CHARS])
    return message
