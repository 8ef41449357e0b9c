"""What the grading process itself spends per submission (issue 16), kept honest: the
gradebook's durability setting, the exports that rewrite only what changed, and the
phases that ``grade_batch`` and ``rebuild_outputs`` report. No engine is started (the
batch test grades files that are not notebooks, which never reach one)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autograder.outcome import GradingOutcome
from instructor import atomic_files
from instructor.batch import PARENT_PHASES, grade_batch
from instructor.build import build_assignment
from instructor.gradebook import Gradebook
from instructor.outputs import rebuild_outputs

REPO = Path(__file__).resolve().parent.parent
EXPORT_PARTS = {"imports", "rows", "grades.csv", "students.csv", "results", "feedback", "report", "lms"}


def _record(book: Gradebook, label: str, scores: dict) -> None:
    results = {"score": sum(scores.values()), "tests": [{"name": q, "score": p, "max_score": 5.0} for q, p in scores.items()]}
    book.record(GradingOutcome(label, scores, "Completed", results), path=label, member=None, student=None, file_sha256=label + str(scores),
                autograder_sha256="a", engine="fork")


def _stamps(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def test_the_gradebook_commits_to_the_wal_without_waiting_for_the_disk(tmp_path):
    with Gradebook(tmp_path) as book:
        assert book._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert book._db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL: durable on SIGKILL (tests/test_batch.py)


def test_exports_rewrite_only_what_changed_and_report_their_phases(tmp_path):
    out = tmp_path / "out"
    with Gradebook(out) as book:
        book.set_points({"q1": 2.0, "q2": 3.0})
        for i in range(5):
            _record(book, f"s{i}.ipynb", {"q1": 2.0, "q2": float(i % 4)})
    first = rebuild_outputs(out)
    assert set(first.phases) == EXPORT_PARTS and all(s >= 0 for s in first.phases.values())
    results, feedback = _stamps(out / "results"), _stamps(out / "feedback")
    assert len(results) == len(feedback) == 5

    rebuild_outputs(out)  # nothing changed: no results or feedback file written again
    assert _stamps(out / "results") == results and _stamps(out / "feedback") == feedback

    with Gradebook(out) as book:
        _record(book, "s1.ipynb", {"q1": 0.0, "q2": 0.0})  # regraded with another score
        book.remove("s4.ipynb")
    rebuild_outputs(out)
    after_results, after_feedback = _stamps(out / "results"), _stamps(out / "feedback")
    assert set(after_results) == set(results) - {"s4.ipynb.json"}
    assert set(after_feedback) == set(feedback) - {"s4.ipynb.md"}
    for name in ("s0.ipynb", "s2.ipynb", "s3.ipynb"):
        assert after_results[name + ".json"] == results[name + ".json"]
        assert after_feedback[name + ".md"] == feedback[name + ".md"]
    assert after_results["s1.ipynb.json"] != results["s1.ipynb.json"]
    assert after_feedback["s1.ipynb.md"] != feedback["s1.ipynb.md"]
    assert '"score": 0.0' in (out / "results" / "s1.ipynb.json").read_text(encoding="utf-8")
    assert "**Score: 0 / 5 points**" in (out / "feedback" / "s1.ipynb.md").read_text(encoding="utf-8")


def test_atomic_writes_sync_unless_told_not_to(tmp_path, monkeypatch):
    synced = []
    real = os.fsync
    monkeypatch.setattr(atomic_files.os, "fsync", lambda fd: synced.append(fd) or real(fd))
    atomic_files.write_text_atomic(tmp_path / "a.csv", "x\n")
    assert len(synced) == 1
    atomic_files.write_text_atomic(tmp_path / "b.json", "{}", fsync=False)
    assert len(synced) == 1
    assert (tmp_path / "b.json").read_text() == "{}" and not list(tmp_path.glob(".*.tmp"))
    assert atomic_files.write_text_if_changed(tmp_path / "b.json", "{}") is False  # the same text: not written
    assert atomic_files.write_text_if_changed(tmp_path / "b.json", "[]") is True
    assert (tmp_path / "b.json").read_text() == "[]" and len(synced) == 1


@pytest.fixture(scope="module")
def zip_path(tmp_path_factory) -> Path:
    return build_assignment(REPO / "assignments" / "autograd-basics", tmp_path_factory.mktemp("dist"), verify=False).autograder_zip


def test_grade_batch_reports_its_phases(zip_path, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "corrupt.ipynb").write_bytes(b'{"cells": [{"cell_type": "code", "sou')
    (subs / "page.ipynb").write_text("<!DOCTYPE html><html></html>", encoding="utf-8")
    # the otter engine: a file that is not a notebook fails in Engine.grade before any process starts
    summary = grade_batch(autograder_zip=zip_path, submissions=[subs], out_dir=tmp_path / "out", jobs=2, engine="otter",
                          progress=False)
    assert set(PARENT_PHASES) <= set(summary.phases)
    assert {f"exports: {part}" for part in EXPORT_PARTS} <= set(summary.phases)
    assert all(isinstance(s, float) and s >= 0 for s in summary.phases.values())
    assert summary.phases["engine calls"] > 0 and summary.phases["exports"] >= summary.phases["exports: results"]
    assert set(summary.outcome_phases) == {"subs/corrupt.ipynb", "subs/page.ipynb"} == set(summary.graded)
    assert all(set(p) == {"gradebook"} for p in summary.outcome_phases.values())  # the otter engine measures none
