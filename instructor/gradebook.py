"""The gradebook: every grading result, one submission at a time, in SQLite.

``DIR/gradebook.sqlite`` holds one row per submission (its label), written as soon as the
submission is graded, in a transaction of its own: a run that is killed loses at most the
submissions being graded at that moment. A row is reused, not regraded, while the
submission's file hash and the autograder zip's hash are unchanged (``--regrade``
overrides). All exports (``grades.csv``, ``students.csv``, the report, feedback) are built
from this database.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from autograder.outcome import GradingOutcome
from autograder.review import CLEARED, PENDING, REJECTED, apply_review

__all__ = ["GRADEBOOK_FILE", "Gradebook", "GradebookRow", "safe_name", "sha256_bytes", "sha256_file"]

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
"""


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

    def record(self, outcome: GradingOutcome, *, path: str, member: str | None, student: str | None,
               file_sha256: str, autograder_sha256: str, engine: str) -> None:
        """Store one submission's outcome (replacing an older row of the same label) and commit."""
        previous = self._db.execute("SELECT executions, file_sha256, review, review_note FROM submissions WHERE label = ?",
                                    (outcome.label,)).fetchone()
        # a decision stands for the file it was made on; a changed file is reviewed afresh
        review, note = (previous[2], previous[3]) if previous and previous[1] == file_sha256 and outcome.findings else ("", "")
        self._db.execute(
            "INSERT OR REPLACE INTO submissions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                outcome.label, path, member, student, file_sha256, autograder_sha256, engine,
                json.dumps(outcome.scores), outcome.total, outcome.status, outcome.seconds,
                datetime.now(timezone.utc).isoformat(timespec="seconds"),
                (previous[0] if previous else 0) + 1, json.dumps(outcome.results),
                json.dumps(outcome.findings), review, note,
            ),
        )
        self._db.commit()

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
                executions=r[11], results=results, findings=findings, review=r[14], review_note=r[15],
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
        self._db.execute("UPDATE submissions SET review = ?, review_note = ? WHERE label = ?", (decision, note, label))
        self._db.commit()

    def set_meta(self, key: str, value) -> None:
        """Store a JSON value under ``key`` (e.g. the last run's ``show_hidden``)."""
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))
        self._db.commit()

    def meta(self, key: str, default=None):
        """The JSON value stored under ``key``, or ``default``."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default
