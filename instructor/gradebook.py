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
    results TEXT NOT NULL
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
        scores: question -> points earned.
        total: points earned.
        status: ``grading_status``.
        seconds: grading wall-clock time, seconds.
        graded_at: ISO 8601 UTC time the row was written.
        executions: how many times this submission has been graded into this database.
        results: the Gradescope-format results.json dict.
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

    def is_current(self, label: str, file_sha256: str, autograder_sha256: str) -> bool:
        """Whether ``label`` is stored for this file content and this autograder."""
        row = self._db.execute(
            "SELECT 1 FROM submissions WHERE label = ? AND file_sha256 = ? AND autograder_sha256 = ?",
            (label, file_sha256, autograder_sha256),
        ).fetchone()
        return row is not None

    def record(self, outcome: GradingOutcome, *, path: str, member: str | None, student: str | None,
               file_sha256: str, autograder_sha256: str, engine: str) -> None:
        """Store one submission's outcome (replacing an older row of the same label) and commit."""
        previous = self._db.execute("SELECT executions FROM submissions WHERE label = ?", (outcome.label,)).fetchone()
        self._db.execute(
            "INSERT OR REPLACE INTO submissions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                outcome.label, path, member, student, file_sha256, autograder_sha256, engine,
                json.dumps(outcome.scores), outcome.total, outcome.status, outcome.seconds,
                datetime.now(timezone.utc).isoformat(timespec="seconds"),
                (previous[0] if previous else 0) + 1, json.dumps(outcome.results),
            ),
        )
        self._db.commit()

    def rows(self, labels: list[str] | None = None) -> list[GradebookRow]:
        """Stored rows, in ``labels`` order (missing labels skipped), or all by label."""
        cursor = self._db.execute("SELECT * FROM submissions ORDER BY label")
        by_label = {}
        for r in cursor.fetchall():
            row = GradebookRow(
                label=r[0], path=r[1], member=r[2], student=r[3], file_sha256=r[4], autograder_sha256=r[5],
                engine=r[6], scores=json.loads(r[7]), total=r[8], status=r[9], seconds=r[10], graded_at=r[11],
                executions=r[12], results=json.loads(r[13]),
            )
            by_label[row.label] = row
        if labels is None:
            return list(by_label.values())
        return [by_label[label] for label in labels if label in by_label]
