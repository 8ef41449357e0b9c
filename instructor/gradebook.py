"""The gradebook: every grading result, one submission at a time, in SQLite.

``DIR/gradebook.sqlite`` holds one row per submission (its label), written as soon as the
submission is graded, in a transaction of its own: a run that is killed loses at most the
submissions being graded at that moment (SQLite's WAL mode with ``synchronous=NORMAL``:
durable when the process is killed; a power cut may lose the last commits, never the
database's consistency). A row is reused, not regraded, while the
submission's file hash and the autograder zip's hash are unchanged (``--regrade``
overrides). All exports (``grades.csv``, ``students.csv``, the report, feedback, the LMS
import files) are built from every row of this database (:mod:`instructor.outputs`). The
``events`` table is the append-only history: every grading, relabelling, removal, review
decision, score override and comment, with what the row said before and after. The
``overrides`` table (label + question) holds scores set by hand and comments, above the
autograded scores, which stay stored (:mod:`instructor.override_rule`); gradebooks written
before it existed get the table when opened.

What became of a submission is stored as fields (:mod:`autograder.status`): the engine's
``outcome`` kind and its own ``status`` words, the ``input_note``, the findings (JSON of
:class:`autograder.findings.Finding`), the review decision and the overrides. The
``grading_status`` text is rendered from them on reading (:attr:`GradebookRow.status`).
Gradebooks written before these fields existed are migrated when opened
(:data:`SCHEMA_VERSION`): the only time stored status text is read, to split it once into
the fields.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from autograder.findings import Finding, findings_from_json, findings_to_json
from autograder.manual_questions import split_scores
from autograder.outcome import GradingOutcome
from autograder.points import points_earned
from autograder.review import CLEARED, PENDING, REJECTED, apply_review
from autograder.status import COMPLETED, KERNEL_DIED, NOT_GRADED, RAN, TIMED_OUT, GradingStatus

from .gradescope import StudentKey, parse_student_key
from .override_rule import Override, apply_overrides, changed_questions, hand_set

__all__ = ["EVENT_ACTIONS", "GRADEBOOK_FILE", "MANUAL_QUESTIONS_META", "SCHEMA_VERSION", "Gradebook", "GradebookEvent", "GradebookRow", "float_scores", "output_names", "safe_name",
           "sha256_bytes", "sha256_file", "submission_name"]

GRADEBOOK_FILE = "gradebook.sqlite"

SCHEMA_VERSION = 2
"""Meta key ``schema``: 2 since statuses and findings are stored as fields (``outcome``,
``input_note``, findings with ``null`` cell and line at run time); absent in older gradebooks,
which :class:`Gradebook` migrates when it opens them."""

MANUAL_QUESTIONS_META = "manual_questions"
"""Meta key: the manual questions (question -> points possible) of the autograder zip last
graded with; absent in gradebooks written before manual questions existed (read as none)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    label TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    member TEXT,
    student TEXT,
    file_sha256 TEXT NOT NULL,
    autograder_sha256 TEXT NOT NULL,
    engine TEXT NOT NULL,
    scores TEXT NOT NULL,
    total REAL NOT NULL,
    status TEXT NOT NULL,
    seconds REAL NOT NULL,
    graded_at TEXT NOT NULL,
    executions INTEGER NOT NULL,
    results TEXT NOT NULL,
    findings TEXT NOT NULL DEFAULT '[]',
    review TEXT NOT NULL DEFAULT '',
    review_note TEXT NOT NULL DEFAULT '',
    outcome TEXT,
    input_note TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    action TEXT NOT NULL,
    label TEXT NOT NULL,
    old TEXT NOT NULL DEFAULT '',
    new TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS overrides (
    label TEXT NOT NULL,
    question TEXT NOT NULL,
    points REAL,
    comment TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    file_sha256 TEXT NOT NULL DEFAULT '',
    autograder_sha256 TEXT NOT NULL DEFAULT '',
    autograded REAL,
    set_at TEXT NOT NULL,
    PRIMARY KEY (label, question)
);
"""

EVENT_ACTIONS = ("graded", "relabelled", "removed", "reviewed", "set", "unset", "commented", "confirmed", "reattributed")
"""``action`` values of the gradebook's append-only ``events`` table (``reviewed``: clear,
reject or reopen, the decision in ``new``'s ``review``; ``set``/``unset``/``commented``/
``confirmed``: score overrides and comments, :mod:`instructor.overrides`; ``reattributed``: a
row not graded again took the student key, or input note, of the current input)."""


SAFE_NAME_MAX = 200
"""Longest :func:`safe_name` (characters, ASCII): below the 255-byte file name limit of
common file systems with room for ``.json``/``.md``."""


def safe_name(label: str) -> str:
    """A submission's label as a file name: every character outside ``[A-Za-z0-9._-]``
    replaced by ``_`` (used for its files under ``results/`` and ``feedback/``). A name
    longer than :data:`SAFE_NAME_MAX` (a submission deep in nested folders) keeps its
    beginning and its end (the file's own name) around 16 hex digits of the label's
    SHA-256, so it stays unique and writable."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", label)
    if len(name) <= SAFE_NAME_MAX:
        return name
    digest = hashlib.sha256(label.encode("utf-8")).hexdigest()[:16]
    return f"{name[:80]}_{digest}_{name[-(SAFE_NAME_MAX - 98):]}"


def output_names(labels) -> dict[str, str]:
    """Each label's file name under ``results/`` and ``feedback/`` (without extension):
    :func:`safe_name`, but where two labels would get the same name (``a b.ipynb`` and
    ``a_b.ipynb``; ``A.ipynb`` and ``a.ipynb`` on a case-insensitive file system), each of
    them gets ``_`` and 12 hex digits of its label's SHA-256 added, so that no submission's
    file overwrites another's.

    Args:
        labels: iterable of str, the submissions' labels.

    Returns:
        dict: label -> name (str), distinct (also when compared case-insensitively).
    """
    labels = list(dict.fromkeys(labels))
    names = {label: safe_name(label) for label in labels}
    counts: dict[str, int] = {}
    for name in names.values():
        counts[name.casefold()] = counts.get(name.casefold(), 0) + 1
    return {label: name if counts[name.casefold()] == 1 else f"{name}_{hashlib.sha256(label.encode('utf-8')).hexdigest()[:12]}"
            for label, name in names.items()}


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def float_scores(results: dict) -> dict:
    """A copy of a results.json dict whose ``score`` and ``max_score`` (top level and in
    every test) are floats, so each file writes its points with one number type (``2.0``,
    never ``2`` beside ``2.5``). Other fields are unchanged."""
    out = dict(results)
    for key in ("score", "max_score"):
        if isinstance(out.get(key), (int, float)) and not isinstance(out.get(key), bool):
            out[key] = float(out[key])
    if isinstance(out.get("tests"), list):
        out["tests"] = [float_scores(t) if isinstance(t, dict) else t for t in out["tests"]]
    return out


def submission_name(label: str) -> str:
    """The file name part of a label (its last ``/`` component, without a ``~N`` clash
    suffix): what a submission is called whichever folder it was given in."""
    return label.rsplit("/", 1)[-1].split("~", 1)[0]


_LEGACY_INPUT_NOTES = ("not in submission_metadata.yml, so its submitters are unknown",
                       "submission_metadata.yml names no submitter for it")
"""The input notes gradkit appended to stored statuses before :data:`SCHEMA_VERSION` 2
(:data:`instructor.discovery.LISTING_NOTES`, as they were written then)."""


def _legacy_status(status: str) -> tuple[str, str, str]:
    """(engine kind, engine words, input note) of a status stored before
    :data:`SCHEMA_VERSION` 2, when the engine's kind was not stored. Used once per row, by
    the migration: ``Completed`` (possibly with notes) is ``completed``; the timed-out and
    kernel-died texts gradkit wrote are those kinds; anything else could not be graded.
    A trailing input note is split off."""
    note = next((n for n in _LEGACY_INPUT_NOTES if status.endswith(f"; {n}")), "")
    text = status[: -len(f"; {note}")] if note else status
    if text == COMPLETED or text.startswith(COMPLETED + "; "):
        kind = RAN
    elif text.startswith("timed out after ") and " in cell " in text.split(";", 1)[0]:
        kind = TIMED_OUT
    elif text.startswith("the kernel died in cell "):
        kind = KERNEL_DIED
    else:
        kind = NOT_GRADED
    return kind, text, note


def _now() -> str:
    """The current time, ISO 8601 UTC, to the second."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class GradebookEvent:
    """One entry of the gradebook's history (the ``events`` table, append-only).

    Attributes:
        time: ISO 8601 UTC time.
        action: one of :data:`EVENT_ACTIONS`.
        label: the submission's label (for ``relabelled``: the new label).
        old, new: what changed (JSON text; ``""`` when nothing).
        note: the instructor's note, or what caused the event.
    """

    time: str
    action: str
    label: str
    old: str
    new: str
    note: str


@dataclass(frozen=True)
class GradebookRow:
    """One graded submission as stored.

    Attributes:
        label: the submission's label (``file`` column of grades.csv).
        path: the file it came from; ``member``: its path inside a bulk-download zip.
        student: the student key (``canvas:<id>``, ``moodle:<id>``, ``gradescope:<email>``)
            or None.
        file_sha256, autograder_sha256: hashes the row is valid for.
        engine: grading engine name.
        scores: question -> points the submission counts for, of the autograded questions
            (after the review rule of :mod:`autograder.review`: 0 while it needs review).
        total: points counted: the autograded questions plus the manual questions scored.
        state: what became of it, as fields (:class:`autograder.status.GradingStatus`: the
            engine's kind and words, input note, findings, review, hand-set and changed
            questions); :attr:`status` is its text, :attr:`completed` and :attr:`kind` what
            every report asks.
        seconds: grading wall-clock time, seconds.
        graded_at: ISO 8601 UTC time the row was written.
        executions: how many times this submission has been graded into this database.
        results: the Gradescope-format results.json dict, as counted.
        findings: tampering findings (:class:`autograder.findings.Finding`).
        review: ``""`` (pending or nothing to review), ``"cleared"`` or ``"rejected"``.
        review_note: the instructor's note with the decision.
        raw_scores: what the tests gave, before the review rule.
        overrides: question -> :class:`instructor.override_rule.Override` (hand-set points
            and/or a comment); ``scores``, ``total``, ``status`` and ``results`` already
            count them.
        autograded_scores: question -> what the autograder counts, after the review rule
            and before overrides (points; None: no autograded score).
        manual_scores: manual question -> points earned, or ``None`` while it has not been
            scored (never counted as 0); in the order of :meth:`Gradebook.manual_questions`.
            A manual question is scored when the row's per-question scores hold a number
            for it (:func:`autograder.manual_questions.split_scores`): a score override is
            how it gets one.
    """

    label: str
    path: str
    member: str | None
    student: str | None
    file_sha256: str
    autograder_sha256: str
    engine: str
    scores: dict[str, float]
    total: float
    state: GradingStatus
    seconds: float
    graded_at: str
    executions: int
    results: dict
    findings: list[Finding] = field(default_factory=list)
    review: str = ""
    review_note: str = ""
    raw_scores: dict | None = None
    overrides: dict = field(default_factory=dict)
    autograded_scores: dict | None = None
    manual_scores: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        """The ``grading_status`` text (:func:`autograder.status.render_status` of :attr:`state`)."""
        return self.state.text()

    @property
    def student_key(self) -> StudentKey | None:
        """The Gradescope submitters and time the ``student`` key names
        (:func:`instructor.gradescope.parse_student_key`), or None for other keys."""
        return parse_student_key(self.student)

    @property
    def students(self) -> list[str]:
        """Who this submission counts for, the one rule for every output: each member of a
        Gradescope submission (a group gives each member the group's score), else the
        ``student`` key, else (no known student) the label itself."""
        key = self.student_key
        return [m.student for m in key.members] if key else [self.student or self.label]

    @property
    def kind(self) -> str:
        """The outcome kind (:data:`autograder.status.OUTCOME_KINDS`)."""
        return self.state.kind

    @property
    def completed(self) -> bool:
        """Whether every test ran and the score stands (:attr:`autograder.status.GradingStatus.completed`)."""
        return self.state.completed

    @property
    def needs_review(self) -> bool:
        """Flagged and not yet decided."""
        return bool(self.findings) and self.review == PENDING

    @property
    def hand_set(self) -> list[str]:
        """Questions whose points were set by hand, in question order of ``overrides``."""
        return self.state.hand_set_questions

    @property
    def changed_overrides(self) -> list[str]:
        """Questions with an override on a changed submission (set on another file or
        autograder than the row's now, not yet confirmed)."""
        return list(self.state.changed)

    @property
    def comments(self) -> dict[str, str]:
        """question -> the instructor's comment for the student."""
        return {q: o.comment for q, o in self.overrides.items() if o.comment}

    @property
    def manual_pending(self) -> list[str]:
        """The manual questions not scored yet, in order."""
        return [q for q, s in self.manual_scores.items() if s is None]


class Gradebook:
    """The SQLite gradebook of one grading output folder.

    Args:
        out_dir: the grading output folder; the database is ``out_dir/gradebook.sqlite``.

    Every write commits at once. Use from one thread (the batch grader writes from its
    main thread).
    """

    def __init__(self, out_dir: Path):
        self.path = Path(out_dir) / GRADEBOOK_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path)
        self._db.execute("PRAGMA journal_mode=WAL")
        # In WAL mode, NORMAL writes each commit to the write-ahead log without waiting for
        # the disk (fsync at checkpoints only): a committed row survives the process being
        # killed (SIGKILL: the log is in the system's page cache, tests/test_batch.py), though
        # not a power cut of the machine in the last moments. FULL (the default) waited for
        # the disk at every commit: 4 ms per graded submission here, the parent's largest cost.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(submissions)")}
        for column in ("findings TEXT NOT NULL DEFAULT '[]'", "review TEXT NOT NULL DEFAULT ''", "review_note TEXT NOT NULL DEFAULT ''",
                       "outcome TEXT", "input_note TEXT NOT NULL DEFAULT ''"):
            if column.split()[0] not in columns:  # a gradebook written before reviews / structured statuses existed
                self._db.execute(f"ALTER TABLE submissions ADD COLUMN {column}")
        if self.meta("schema", 1) < SCHEMA_VERSION:
            self._migrate()
        self._db.commit()

    def _migrate(self) -> None:
        """Bring a gradebook written before :data:`SCHEMA_VERSION` to it (not committed):
        each row's findings re-written in today's form (run-time findings with ``null`` cell
        and line) and its status split once into the engine's kind, its words and the input
        note (:func:`_legacy_status`). Rows already migrated are left as they are.

        Raises:
            autograder.findings.FindingError: a stored finding that is not one (names the row).
        """
        rows = self._db.execute("SELECT label, status, findings, outcome FROM submissions").fetchall()
        for label, status, findings, outcome in rows:
            fixed = findings_to_json(findings_from_json(findings, f"{self.path}, submission {label!r}"))
            if outcome is None:
                kind, text, note = _legacy_status(status)
                self._db.execute("UPDATE submissions SET outcome = ?, status = ?, input_note = ?, findings = ? WHERE label = ?",
                                 (kind, text, note, fixed, label))
            elif fixed != findings:
                self._db.execute("UPDATE submissions SET findings = ? WHERE label = ?", (fixed, label))
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (json.dumps(SCHEMA_VERSION),))

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def __enter__(self) -> "Gradebook":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def set_points(self, points: dict[str, float]) -> None:
        """Record the points possible per question (from the autograder zip)."""
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('points', ?)", (json.dumps(points),))
        self._db.commit()

    def points(self) -> dict[str, float]:
        """Points possible per question, as last recorded ({} if never)."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'points'").fetchone()
        return json.loads(row[0]) if row else {}

    def set_manual_questions(self, manual: dict[str, float]) -> None:
        """Record the manually graded questions (question -> points possible, from the
        autograder zip's :data:`autograder.manual_questions.MANUAL_QUESTIONS_FILE`)."""
        self.set_meta(MANUAL_QUESTIONS_META, {q: float(p) for q, p in manual.items()})

    def manual_questions(self) -> dict[str, float]:
        """The manually graded questions as last recorded (question -> points; {} if none)."""
        return {q: float(p) for q, p in (self.meta(MANUAL_QUESTIONS_META, {}) or {}).items()}

    def row_key(self, label: str) -> tuple[str, str, str] | None:
        """(file hash, autograder hash, engine) stored for ``label``, or None if it has no row."""
        row = self._db.execute("SELECT file_sha256, autograder_sha256, engine FROM submissions WHERE label = ?", (label,)).fetchone()
        return tuple(row) if row else None

    def record(self, outcome: GradingOutcome, *, path: str, member: str | None, student: str | None,
               file_sha256: str, autograder_sha256: str, engine: str, input_note: str = "") -> None:
        """Store one submission's outcome (replacing an older row of the same label) and commit.

        Args:
            outcome: what the engine gave (its kind, words, scores, results and findings are stored).
            path, member, student, file_sha256, autograder_sha256, engine: see :class:`GradebookRow`.
            input_note: what the input says about the submission (``""``: nothing), shown
                after the engine's status (:func:`autograder.status.render_status`).
        """
        previous = self._db.execute("SELECT executions, file_sha256, review, review_note FROM submissions WHERE label = ?",
                                    (outcome.label,)).fetchone()
        # a decision stands for the file it was made on; a changed file is reviewed afresh
        review, note = (previous[2], previous[3]) if previous and previous[1] == file_sha256 and outcome.findings else ("", "")
        before = self._summary(outcome.label)
        self._db.execute(
            "INSERT OR REPLACE INTO submissions (label, path, member, student, file_sha256, autograder_sha256, engine, scores,"
            " total, status, seconds, graded_at, executions, results, findings, review, review_note, outcome, input_note)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                outcome.label, path, member, student, file_sha256, autograder_sha256, engine,
                json.dumps(outcome.scores), outcome.total, outcome.status, outcome.seconds,
                datetime.now(timezone.utc).isoformat(timespec="seconds"),
                (previous[0] if previous else 0) + 1, json.dumps(float_scores(outcome.results)),
                findings_to_json(outcome.findings), review, note, outcome.kind, input_note or "",
            ),
        )
        self._event("graded", outcome.label, before, self._summary(outcome.label), engine)
        self._db.commit()

    def _summary(self, label: str) -> str:
        """JSON text of what a row says (file, hashes, points, status) for the history; ``""`` if no row."""
        r = self._db.execute("SELECT path, member, student, file_sha256, autograder_sha256, engine, total, status, review, outcome,"
                             " input_note FROM submissions WHERE label = ?", (label,)).fetchone()
        if r is None:
            return ""
        keys = ("path", "member", "student", "file_sha256", "autograder_sha256", "engine", "total", "status", "review", "outcome",
                "input_note")
        return json.dumps(dict(zip(keys, r)))

    def _event(self, action: str, label: str, old: str = "", new: str = "", note: str = "") -> None:
        self._db.execute("INSERT INTO events (time, action, label, old, new, note) VALUES (?, ?, ?, ?, ?, ?)",
                         (_now(), action, label, old, new, note))

    def events(self, label: str | None = None) -> list[GradebookEvent]:
        """The history, oldest first (of one label, or all)."""
        rows = self._db.execute("SELECT time, action, label, old, new, note FROM events"
                                " WHERE ? IS NULL OR label = ? ORDER BY id", (label, label)).fetchall()
        return [GradebookEvent(*r) for r in rows]

    def labels(self) -> list[str]:
        """Every stored label, sorted."""
        return [r[0] for r in self._db.execute("SELECT label FROM submissions ORDER BY label")]

    def remove(self, label: str, note: str = "") -> None:
        """Delete a submission's row, recording it (with what the row said) in the history, and commit.

        Raises:
            KeyError: no submission has that label.
        """
        before = self._summary(label)
        if not before:
            raise KeyError(f"no submission labelled {label!r} in {self.path}")
        gone = self._override_dicts(label)
        if gone:  # the removed row's overrides and comments go with it, on the record
            before = json.dumps({**json.loads(before), "overrides": gone})
        self._db.execute("DELETE FROM submissions WHERE label = ?", (label,))
        self._db.execute("DELETE FROM overrides WHERE label = ?", (label,))
        self._event("removed", label, before, "", note)
        self._db.commit()

    def same_submission(self, label: str, file_sha256: str, student: str | None, exclude: set[str] = frozenset()) -> str | None:
        """The stored label of the same submission given under another label, or None.

        One submission is one file content of one student under one file name: a row
        matches when its student key equals ``student`` (both None for files no LMS names),
        its file hash equals ``file_sha256`` and its file name (:func:`submission_name`) is
        the label's. Two students who hand in identical files are two submissions (their
        keys differ); two differently named files without a student are too.

        Args:
            label: the new label.
            file_sha256: the file's content hash.
            student: the student key, or None.
            exclude: labels not to match (those given in the same run).

        Returns:
            str | None: the first matching stored label (sorted), or None.
        """
        if file_sha256 == "unreadable":
            return None
        rows = self._db.execute(
            "SELECT label FROM submissions WHERE file_sha256 = ? AND student IS ? AND label != ? ORDER BY label",
            (file_sha256, student, label)).fetchall()
        name = submission_name(label)
        return next((r[0] for r in rows if r[0] not in exclude and submission_name(r[0]) == name), None)

    def relabel(self, old: str, new: str, *, path: str, member: str | None) -> None:
        """Give a stored submission a new label and source path (same file found elsewhere), record it, commit.

        Raises:
            KeyError: ``old`` is not stored; ValueError: ``new`` already is.
        """
        before = self._summary(old)
        if not before:
            raise KeyError(f"no submission labelled {old!r} in {self.path}")
        if self._summary(new):
            raise ValueError(f"{new!r} is already in {self.path}")
        self._db.execute("UPDATE submissions SET label = ?, path = ?, member = ? WHERE label = ?", (new, path, member, old))
        self._db.execute("UPDATE overrides SET label = ? WHERE label = ?", (new, old))
        self._event("relabelled", new, json.dumps({"label": old}), json.dumps({"label": new, "path": path}),
                    "the same file given under another name")
        self._db.commit()

    def update_student(self, label: str, student: str | None, *, input_note: str | None = None) -> bool:
        """Make a stored row name ``student`` (and, with ``input_note``, say what the current
        input says about it) without grading it again; record a ``reattributed`` event
        with the row before and after, and commit. Nothing is written when nothing changes.

        Args:
            label: the submission's label.
            student: the student key the current input gives (e.g. a changed Gradescope
                ``submission_metadata.yml``), or None.
            input_note: the note to store (``""``: none; None: keep the stored one).

        Returns:
            bool: whether the row changed.

        Raises:
            KeyError: no submission has that label.
        """
        row = self._db.execute("SELECT student, input_note FROM submissions WHERE label = ?", (label,)).fetchone()
        if row is None:
            raise KeyError(f"no submission labelled {label!r} in {self.path}")
        new_note = row[1] if input_note is None else input_note
        if (row[0], row[1]) == (student, new_note):
            return False
        before = self._summary(label)
        self._db.execute("UPDATE submissions SET student = ?, input_note = ? WHERE label = ?", (student, new_note, label))
        self._event("reattributed", label, before, self._summary(label), "the input changed (not graded again: the file is unchanged)")
        self._db.commit()
        return True

    def rows(self, labels: list[str] | None = None) -> list[GradebookRow]:
        """Stored rows, in ``labels`` order (missing labels skipped), or all by label."""
        where = f" WHERE label IN ({', '.join('?' * len(labels))})" if labels is not None and len(labels) < 500 else ""
        cursor = self._db.execute(
            "SELECT label, path, member, student, file_sha256, autograder_sha256, engine, scores, status, seconds, graded_at,"
            f" executions, results, findings, review, review_note, outcome, input_note FROM submissions{where} ORDER BY label",
            tuple(labels) if where else ())
        by_label = {}
        fetched = cursor.fetchall()
        manual = self.manual_questions()
        possible = self.points()  # read once: orders the overrides and gives apply_overrides its points possible
        overrides = self._read_overrides(labels if where else None, possible)
        points = {**possible, **manual}
        for r in fetched:
            raw_scores = json.loads(r[7])
            findings = tuple(findings_from_json(r[13], f"{self.path}, submission {r[0]!r}"))
            scores, results = apply_review(raw_scores, json.loads(r[12]), list(findings), r[14])
            autograded = dict(scores)
            own = overrides.get(r[0], {})
            scores, results = apply_overrides(scores, results, own, raw_scores=raw_scores, points=points)
            # a manual question is scored once an override gives it points (split_scores)
            scores, manual_scores = split_scores(scores, manual)
            state = GradingStatus(engine_kind=r[16], engine_text=r[8], input_note=r[17], findings=findings, review=r[14],
                                  hand_set=hand_set(own), changed=changed_questions(own, r[4], r[5]))
            row = GradebookRow(
                label=r[0], path=r[1], member=r[2], student=r[3], file_sha256=r[4], autograder_sha256=r[5],
                engine=r[6], scores=scores,
                total=points_earned(scores, manual_scores),
                state=state, seconds=r[9], graded_at=r[10],
                executions=r[11], results=float_scores(results), findings=list(findings), review=r[14], review_note=r[15],
                raw_scores=raw_scores, overrides=own, autograded_scores=autograded,
                manual_scores=manual_scores,
            )
            by_label[row.label] = row
        if labels is None:
            return list(by_label.values())
        return [by_label[label] for label in labels if label in by_label]

    def decide(self, label: str, decision: str, note: str = "") -> None:
        """Record an instructor's review decision for a flagged submission and commit.

        Args:
            label: the submission's label.
            decision: ``"cleared"`` (the tests' scores count), ``"rejected"`` (0 stands)
                or ``""`` (back to pending).
            note: free text kept with the decision.

        Raises:
            KeyError: no submission has that label.
            ValueError: an unknown decision, or the submission has no findings to review.
        """
        if decision not in (PENDING, CLEARED, REJECTED):
            raise ValueError(f"unknown review decision {decision!r}")
        row = self._db.execute("SELECT findings FROM submissions WHERE label = ?", (label,)).fetchone()
        if row is None:
            raise KeyError(f"no submission labelled {label!r} in {self.path}")
        if not json.loads(row[0]):
            raise ValueError(f"{label}: nothing to review (the screen found nothing)")
        before = self._summary(label)
        self._db.execute("UPDATE submissions SET review = ?, review_note = ? WHERE label = ?", (decision, note, label))
        self._event("reviewed", label, before, self._summary(label), note)
        self._db.commit()

    # ------------------------------------------------------------------ overrides and comments

    _OVERRIDE_COLUMNS = "label, question, points, comment, note, file_sha256, autograder_sha256, autograded, set_at"

    def overrides(self, label: str | None = None) -> dict[str, dict[str, Override]]:
        """Stored overrides and comments: label -> question -> :class:`Override` (of one
        label, or all), questions in the order of the points table."""
        return self._read_overrides(None if label is None else [label], self.points())

    def _read_overrides(self, labels: list[str] | None, points: dict[str, float]) -> dict[str, dict[str, Override]]:
        """:meth:`overrides` of ``labels`` (None: all) in one query, questions in the order of ``points``."""
        order = {q: i for i, q in enumerate(points)}
        where = f" WHERE label IN ({', '.join('?' * len(labels))})" if labels is not None else ""
        rows = self._db.execute(f"SELECT {self._OVERRIDE_COLUMNS} FROM overrides{where}", tuple(labels or ())).fetchall()
        out: dict[str, dict[str, Override]] = {}
        for r in sorted(rows, key=lambda r: (r[0], order.get(r[1], len(order)), r[1])):
            out.setdefault(r[0], {})[r[1]] = Override(*r)
        return out

    def _override(self, label: str, question: str) -> Override | None:
        return self.overrides(label).get(label, {}).get(question)

    def _override_dicts(self, label: str) -> list[dict]:
        return [{"question": o.question, "points": o.points, "comment": o.comment, "note": o.note}
                for o in self.overrides(label).get(label, {}).values()]

    def _current(self, label: str) -> tuple[str, str, dict]:
        """(file hash, autograder hash, raw scores) of a stored row. Raises KeyError if none."""
        r = self._db.execute("SELECT file_sha256, autograder_sha256, scores FROM submissions WHERE label = ?", (label,)).fetchone()
        if r is None:
            raise KeyError(f"no submission labelled {label!r} in {self.path}")
        return r[0], r[1], json.loads(r[2])

    def _question_state(self, label: str, question: str) -> str:
        """JSON text of one question of a row for the history: its override, comment, what
        the tests gave and what it counts."""
        o = self._override(label, question)
        rows = self.rows([label])
        counted = rows[0].scores.get(question) if rows else None
        raw = (rows[0].raw_scores or {}).get(question) if rows else None
        return json.dumps({"question": question, "points": o.points if o else None, "comment": o.comment if o else "",
                           "autograded": raw, "counted": counted,
                           "changed": bool(rows and o and o.changed(rows[0].file_sha256, rows[0].autograder_sha256))})

    def set_override(self, label: str, question: str, points: float, note: str = "") -> None:
        """Set one question's points by hand (the autograded score stays stored), record it, commit.

        The override is tied to the row's current file and autograder hashes (see
        :meth:`Override.changed`); a comment already there is kept. Range and question
        checks are the caller's (:func:`instructor.overrides.set_points`).

        Raises:
            KeyError: no submission has that label.
        """
        file_sha, ag_sha, raw = self._current(label)
        before = self._question_state(label, question)
        self._db.execute(
            f"INSERT INTO overrides ({self._OVERRIDE_COLUMNS}) VALUES (?, ?, ?, '', ?, ?, ?, ?, ?)"
            " ON CONFLICT(label, question) DO UPDATE SET points = excluded.points, note = excluded.note,"
            " file_sha256 = excluded.file_sha256, autograder_sha256 = excluded.autograder_sha256,"
            " autograded = excluded.autograded, set_at = excluded.set_at",
            (label, question, float(points), note, file_sha, ag_sha, raw.get(question), _now()))
        self._event("set", label, before, self._question_state(label, question), note)
        self._db.commit()

    def unset_override(self, label: str, question: str, note: str = "") -> None:
        """Remove one question's hand-set points (the autograded score counts again; a
        comment stays), record it, commit.

        Raises:
            KeyError: no submission has that label.
            ValueError: the question has no points set by hand.
        """
        self._current(label)
        o = self._override(label, question)
        if o is None or o.points is None:
            raise ValueError(f"{label}: {question} has no points set by hand, nothing to unset")
        before = self._question_state(label, question)
        if o.comment:
            self._db.execute("UPDATE overrides SET points = NULL, note = ?, set_at = ? WHERE label = ? AND question = ?",
                             (note, _now(), label, question))
        else:
            self._db.execute("DELETE FROM overrides WHERE label = ? AND question = ?", (label, question))
        self._event("unset", label, before, self._question_state(label, question), note)
        self._db.commit()

    def set_comment(self, label: str, question: str, text: str) -> None:
        """Set the comment for the student on one question (replacing the previous one;
        ``""`` removes it), record it, commit.

        Raises:
            KeyError: no submission has that label.
            ValueError: ``text`` is empty and the question has no comment.
        """
        file_sha, ag_sha, raw = self._current(label)
        o = self._override(label, question)
        if not text and not (o and o.comment):
            raise ValueError(f"{label}: {question} has no comment to remove")
        before = self._question_state(label, question)
        if o is None:
            self._db.execute(f"INSERT INTO overrides ({self._OVERRIDE_COLUMNS}) VALUES (?, ?, NULL, ?, '', ?, ?, ?, ?)",
                             (label, question, text, file_sha, ag_sha, raw.get(question), _now()))
        elif not text and o.points is None:
            self._db.execute("DELETE FROM overrides WHERE label = ? AND question = ?", (label, question))
        else:
            self._db.execute("UPDATE overrides SET comment = ?, set_at = ? WHERE label = ? AND question = ?",
                             (text, _now(), label, question))
        self._event("commented", label, before, self._question_state(label, question), "")
        self._db.commit()

    def confirm_override(self, label: str, question: str, note: str = "") -> None:
        """Confirm hand-set points on a changed submission: the override is tied to the
        row's current file and autograder, so it is no longer listed as changed. Records, commits.

        Raises:
            KeyError: no submission has that label.
            ValueError: the question has no points set by hand, or they were set on this
                very file and autograder (nothing to confirm).
        """
        file_sha, ag_sha, raw = self._current(label)
        o = self._override(label, question)
        if o is None or o.points is None:
            raise ValueError(f"{label}: {question} has no points set by hand, nothing to confirm")
        if not o.changed(file_sha, ag_sha):
            raise ValueError(f"{label}: the points of {question} were set on this file and autograder, nothing to confirm")
        before = self._question_state(label, question)
        self._db.execute("UPDATE overrides SET file_sha256 = ?, autograder_sha256 = ?, autograded = ?, note = ?, set_at = ?"
                         " WHERE label = ? AND question = ?", (file_sha, ag_sha, raw.get(question), note, _now(), label, question))
        self._event("confirmed", label, before, self._question_state(label, question), note)
        self._db.commit()

    def set_meta(self, key: str, value) -> None:
        """Store a JSON value under ``key`` (e.g. the last run's ``show_hidden``)."""
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))
        self._db.commit()

    def meta(self, key: str, default=None):
        """The JSON value stored under ``key``, or ``default``."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default
