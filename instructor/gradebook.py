"""The gradebook: every grading result, one submission at a time, in SQLite.

``DIR/gradebook.sqlite`` holds one row per submission (its label), written as soon as the
submission is graded, in a transaction of its own: a run that is killed loses at most the
submissions being graded at that moment. A row is reused, not regraded, while the
submission's file hash and the autograder zip's hash are unchanged (``--regrade``
overrides). All exports (``grades.csv``, ``students.csv``, the report, feedback, the LMS
import files) are built from every row of this database (:mod:`instructor.outputs`). The
``events`` table is the append-only history: every grading, relabelling, removal and
review decision, with what the row said before and after.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from autograder.outcome import GradingOutcome
from autograder.review import CLEARED, PENDING, REJECTED, apply_review

__all__ = ["EVENT_ACTIONS", "GRADEBOOK_FILE", "Gradebook", "GradebookEvent", "GradebookRow", "float_scores", "safe_name",
           "sha256_bytes", "sha256_file", "submission_name"]

GRADEBOOK_FILE = "gradebook.sqlite"

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
    review_note TEXT NOT NULL DEFAULT ''
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
"""

EVENT_ACTIONS = ("graded", "relabelled", "removed", "reviewed", "reattributed")
"""``action`` values of the gradebook's append-only ``events`` table (``reattributed``: a
row not graded again took the student key, or input note, of the current input)."""


def safe_name(label: str) -> str:
    """A submission's label as a file name: every character outside ``[A-Za-z0-9._-]``
    replaced by ``_`` (used for its files under ``results/`` and ``feedback/``)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", label)


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
        scores: question -> points the submission counts for (after the review rule of
            :mod:`autograder.review`: 0 while it needs review).
        total: points counted.
        status: ``grading_status`` (``needs review: ...`` while pending).
        seconds: grading wall-clock time, seconds.
        graded_at: ISO 8601 UTC time the row was written.
        executions: how many times this submission has been graded into this database.
        results: the Gradescope-format results.json dict, as counted.
        findings: tampering findings (:class:`autograder.screen.Finding` dicts).
        review: ``""`` (pending or nothing to review), ``"cleared"`` or ``"rejected"``.
        review_note: the instructor's note with the decision.
        raw_scores, raw_status: what the tests gave, before the review rule.
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
    status: str
    seconds: float
    graded_at: str
    executions: int
    results: dict
    findings: list = ()
    review: str = ""
    review_note: str = ""
    raw_scores: dict | None = None
    raw_status: str = ""

    @property
    def needs_review(self) -> bool:
        """Flagged and not yet decided."""
        return bool(self.findings) and self.review == PENDING


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
        self._db.executescript(_SCHEMA)
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(submissions)")}
        for column in ("findings TEXT NOT NULL DEFAULT '[]'", "review TEXT NOT NULL DEFAULT ''", "review_note TEXT NOT NULL DEFAULT ''"):
            if column.split()[0] not in columns:  # a gradebook written before reviews existed
                self._db.execute(f"ALTER TABLE submissions ADD COLUMN {column}")
        self._db.commit()

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

    def is_current(self, label: str, file_sha256: str, autograder_sha256: str, engine: str | None = None) -> bool:
        """Whether ``label`` is stored for this file content and this autograder (and, when
        given, was graded by this engine: switching engines grades again)."""
        row = self._db.execute(
            "SELECT 1 FROM submissions WHERE label = ? AND file_sha256 = ? AND autograder_sha256 = ? AND (? IS NULL OR engine = ?)",
            (label, file_sha256, autograder_sha256, engine, engine),
        ).fetchone()
        return row is not None

    def row_key(self, label: str) -> tuple[str, str, str] | None:
        """(file hash, autograder hash, engine) stored for ``label``, or None if it has no row."""
        row = self._db.execute("SELECT file_sha256, autograder_sha256, engine FROM submissions WHERE label = ?", (label,)).fetchone()
        return tuple(row) if row else None

    def record(self, outcome: GradingOutcome, *, path: str, member: str | None, student: str | None,
               file_sha256: str, autograder_sha256: str, engine: str) -> None:
        """Store one submission's outcome (replacing an older row of the same label) and commit."""
        previous = self._db.execute("SELECT executions, file_sha256, review, review_note FROM submissions WHERE label = ?",
                                    (outcome.label,)).fetchone()
        # a decision stands for the file it was made on; a changed file is reviewed afresh
        review, note = (previous[2], previous[3]) if previous and previous[1] == file_sha256 and outcome.findings else ("", "")
        before = self._summary(outcome.label)
        self._db.execute(
            "INSERT OR REPLACE INTO submissions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                outcome.label, path, member, student, file_sha256, autograder_sha256, engine,
                json.dumps(outcome.scores), outcome.total, outcome.status, outcome.seconds,
                datetime.now(timezone.utc).isoformat(timespec="seconds"),
                (previous[0] if previous else 0) + 1, json.dumps(float_scores(outcome.results)),
                json.dumps(outcome.findings), review, note,
            ),
        )
        self._event("graded", outcome.label, before, self._summary(outcome.label), engine)
        self._db.commit()

    def _summary(self, label: str) -> str:
        """JSON text of what a row says (file, hashes, points, status) for the history; ``""`` if no row."""
        r = self._db.execute("SELECT path, member, student, file_sha256, autograder_sha256, engine, total, status, review"
                             " FROM submissions WHERE label = ?", (label,)).fetchone()
        if r is None:
            return ""
        keys = ("path", "member", "student", "file_sha256", "autograder_sha256", "engine", "total", "status", "review")
        return json.dumps(dict(zip(keys, r)))

    def _event(self, action: str, label: str, old: str = "", new: str = "", note: str = "") -> None:
        self._db.execute("INSERT INTO events (time, action, label, old, new, note) VALUES (?, ?, ?, ?, ?, ?)",
                         (datetime.now(timezone.utc).isoformat(timespec="seconds"), action, label, old, new, note))

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
        self._db.execute("DELETE FROM submissions WHERE label = ?", (label,))
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
        self._event("relabelled", new, json.dumps({"label": old}), json.dumps({"label": new, "path": path}),
                    "the same file given under another name")
        self._db.commit()

    def update_student(self, label: str, student: str | None, *, status: Callable[[str], str] | None = None) -> bool:
        """Make a stored row name ``student`` (and, with ``status``, say what the current
        input adds to its status) without grading it again; record a ``reattributed`` event
        with the row before and after, and commit. Nothing is written when nothing changes.

        Args:
            label: the submission's label.
            student: the student key the current input gives (e.g. a changed Gradescope
                ``submission_metadata.yml``), or None.
            status: a function of the stored ``grading_status`` giving the one to store.

        Returns:
            bool: whether the row changed.

        Raises:
            KeyError: no submission has that label.
        """
        row = self._db.execute("SELECT student, status FROM submissions WHERE label = ?", (label,)).fetchone()
        if row is None:
            raise KeyError(f"no submission labelled {label!r} in {self.path}")
        new_status = status(row[1]) if status else row[1]
        if (row[0], row[1]) == (student, new_status):
            return False
        before = self._summary(label)
        self._db.execute("UPDATE submissions SET student = ?, status = ? WHERE label = ?", (student, new_status, label))
        self._event("reattributed", label, before, self._summary(label), "the input changed (not graded again: the file is unchanged)")
        self._db.commit()
        return True

    def rows(self, labels: list[str] | None = None) -> list[GradebookRow]:
        """Stored rows, in ``labels`` order (missing labels skipped), or all by label."""
        cursor = self._db.execute(
            "SELECT label, path, member, student, file_sha256, autograder_sha256, engine, scores, status, seconds, graded_at,"
            " executions, results, findings, review, review_note FROM submissions ORDER BY label")
        by_label = {}
        for r in cursor.fetchall():
            raw_scores, findings = json.loads(r[7]), json.loads(r[13])
            scores, status, results = apply_review(raw_scores, r[8], json.loads(r[12]), findings, r[14])
            row = GradebookRow(
                label=r[0], path=r[1], member=r[2], student=r[3], file_sha256=r[4], autograder_sha256=r[5],
                engine=r[6], scores=scores, total=float(sum(scores.values())), status=status, seconds=r[9], graded_at=r[10],
                executions=r[11], results=float_scores(results), findings=findings, review=r[14], review_note=r[15],
                raw_scores=raw_scores, raw_status=r[8],
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

    def set_meta(self, key: str, value) -> None:
        """Store a JSON value under ``key`` (e.g. the last run's ``show_hidden``)."""
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))
        self._db.commit()

    def meta(self, key: str, default=None):
        """The JSON value stored under ``key``, or ``default``."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default
