"""Unit tests (no kernel) of the one Finding type, the one status renderer, gradebook
migration of older databases, and the rows function the LMS exports read."""

from __future__ import annotations

import json
import sqlite3

import pytest

from autograder.findings import RULES, Finding, FindingError, findings_from_json, findings_summary, findings_to_json
from autograder.outcome import GradingOutcome
from autograder.points import points_earned, points_possible
from autograder.review import CLEARED, PENDING, REJECTED, apply_review
from autograder.status import (
    ENGINE_KINDS, KERNEL_DIED, NEEDS_REVIEW, NOT_GRADED, OUTCOME_KINDS, RAN, REJECTED_STATUS, TIMED_OUT, GradingStatus,
    render_status,
)
from instructor.gradebook import Gradebook
from instructor.lms.common import graded_run, read_grading_dir
from instructor.outputs import rebuild_outputs

STATIC = Finding(12, 3, "torch.allclose = f", "patch", "assigns to torch.allclose (patches a module)")
RUNTIME = Finding.runtime("torch.autograd.grad was replaced")


# ---------------------------------------------------------------- Finding

def test_finding_text_is_one_rendering():
    assert STATIC.text() == "cell 12, line 3: assigns to torch.allclose (patches a module): `torch.allclose = f`"
    assert RUNTIME.text() == "at run time: torch.autograd.grad was replaced"
    assert (RUNTIME.cell, RUNTIME.line, RUNTIME.code, RUNTIME.rule) == (None, None, "", "runtime")
    assert findings_summary([STATIC]) == STATIC.text()
    assert findings_summary([STATIC, RUNTIME, RUNTIME]) == STATIC.text() + " (and 2 more)"


def test_finding_json_round_trip_and_the_older_stored_form():
    text = findings_to_json([STATIC, RUNTIME])
    assert json.loads(text)[1] == {"cell": None, "line": None, "code": "", "rule": "runtime",
                                   "message": "torch.autograd.grad was replaced"}
    assert findings_from_json(text) == [STATIC, RUNTIME]
    old = {"cell": 0, "line": 0, "code": "", "rule": "runtime", "message": "m"}  # before the one type existed
    assert Finding.from_dict(old) == Finding.runtime("m")
    assert all(Finding.from_dict(Finding(1, 1, "x", rule, "m").to_dict()).rule == rule for rule in RULES if rule != "runtime")


@pytest.mark.parametrize("data, fragment", [
    ([], "must be a JSON object"),
    ({"cell": 1, "line": 1, "code": "", "rule": "patch"}, "missing message"),
    ({"cell": 1, "line": 1, "code": "", "rule": "patch", "message": "m", "extra": 1}, "unknown extra"),
    ({"cell": 1, "line": 1, "code": "", "rule": "nonsense", "message": "m"}, "rule 'nonsense' is not one of"),
    ({"cell": 0, "line": 1, "code": "", "rule": "patch", "message": "m"}, "cell must be a whole number from 1"),
    ({"cell": 2, "line": "3", "code": "", "rule": "patch", "message": "m"}, "line must be a whole number from 1"),
    ({"cell": True, "line": 1, "code": "", "rule": "patch", "message": "m"}, "cell must be"),
    ({"cell": None, "line": None, "code": "", "rule": "patch", "message": "m"}, "cell must be"),
    ({"cell": 3, "line": 1, "code": "", "rule": "runtime", "message": "m"}, "a run-time finding has no cell or line"),
    ({"cell": 1, "line": 1, "code": 5, "rule": "patch", "message": "m"}, "code must be text"),
])
def test_bad_findings_are_refused_naming_where(data, fragment):
    with pytest.raises(FindingError, match=fragment) as info:
        Finding.from_dict(data, "gradebook.sqlite, submission 'a.ipynb'")
    assert str(info.value).startswith("gradebook.sqlite, submission 'a.ipynb'")


def test_findings_from_json_refuses_what_is_not_a_list():
    with pytest.raises(FindingError, match=r"x: not JSON"):
        findings_from_json("{", "x")
    with pytest.raises(FindingError, match=r"x: findings must be a JSON list"):
        findings_from_json("{}", "x")
    with pytest.raises(FindingError, match=r"x\[1\]: "):
        findings_from_json(json.dumps([STATIC.to_dict(), {"rule": "patch"}]), "x")


# ---------------------------------------------------------------- the status renderer

ENGINE_TEXT = {
    RAN: "Completed",
    TIMED_OUT: "timed out after 60 s in cell 4; questions after that cell were not reached",
    KERNEL_DIED: "the kernel died in cell 3 (os._exit, a crash or a signal); questions after that cell were not reached",
    NOT_GRADED: "grading failed: boom",
}


@pytest.mark.parametrize("engine_kind", ENGINE_KINDS)
def test_every_engine_kind_renders_its_words(engine_kind):
    status = GradingStatus(engine_kind, ENGINE_TEXT[engine_kind])
    assert status.text() == render_status(status) == ENGINE_TEXT[engine_kind]
    assert status.kind == engine_kind
    assert status.completed == status.tests_ran == (engine_kind == RAN)


@pytest.mark.parametrize("engine_kind", ENGINE_KINDS)
def test_flagged_submissions_render_and_count_alike_for_every_reader(engine_kind):
    words = ENGINE_TEXT[engine_kind]
    pending = GradingStatus(engine_kind, words, findings=(STATIC, RUNTIME))
    assert pending.kind == NEEDS_REVIEW and not pending.completed and pending.tests_ran == (engine_kind == RAN)
    assert pending.text() == f"needs review: {STATIC.text()} (and 1 more); graded: {words}"
    rejected = GradingStatus(engine_kind, words, findings=(STATIC,), review=REJECTED)
    assert rejected.kind == REJECTED_STATUS and not rejected.completed
    assert rejected.text() == f"rejected after review: {STATIC.text()}; graded: {words}"
    cleared = GradingStatus(engine_kind, words, findings=(STATIC,), review=CLEARED)
    assert cleared.kind == engine_kind and cleared.completed == (engine_kind == RAN)
    assert cleared.text() == f"{words}; cleared after review"
    assert {pending.kind, rejected.kind, cleared.kind} <= set(OUTCOME_KINDS)


def test_input_note_hand_set_and_changed_markers_in_order():
    status = GradingStatus(RAN, "Completed; cell 3 ran past 30 s and was interrupted", input_note="a note",
                           findings=(STATIC,), review=CLEARED, hand_set=(("q3", 4.5), ("q1", 0.0)), changed=("q3",))
    assert status.text() == ("Completed; cell 3 ran past 30 s and was interrupted; a note; cleared after review"
                             "; set by hand: q3=4.5, q1=0; override on a changed submission: q3 (it counts; confirm or unset it)")
    assert status.hand_set_questions == ["q3", "q1"]
    pending = GradingStatus(RAN, "Completed", input_note="a note", findings=(STATIC,), hand_set=(("q1", 1.5),))
    assert pending.text() == f"needs review: {STATIC.text()}; graded: Completed; a note; set by hand: q1=1.5"


def test_marker_words_brought_by_a_submission_are_quoted():
    words = "could not be graded: e; set by hand: q1=2.ipynb: not a notebook"
    assert GradingStatus(NOT_GRADED, words).text() == 'could not be graded: e; "set by hand": q1=2.ipynb: not a notebook'


def test_unknown_kinds_and_decisions_are_refused():
    with pytest.raises(ValueError, match="unknown engine outcome kind"):
        GradingStatus(NEEDS_REVIEW, "x")
    with pytest.raises(ValueError, match="unknown review decision"):
        GradingStatus(RAN, "x", review="maybe")
    with pytest.raises(ValueError, match="unknown outcome kind"):
        GradingOutcome("a.ipynb", {}, "Completed", kind="fine")


def test_failure_outcomes_are_not_graded_and_read_as_failures():
    outcome = GradingOutcome.failure("x", "Completed; x.ipynb: not a notebook")
    assert outcome.kind == NOT_GRADED and outcome.status == "could not be graded: Completed; x.ipynb: not a notebook"
    assert GradingOutcome("a", {"q1": 1.0}, "Completed").kind == RAN


def test_review_rule_scores_and_results():
    results = {"score": 2, "tests": [{"name": "q1", "score": 2, "max_score": 2, "output": ""}]}
    assert apply_review({"q1": 2.0}, results, [], PENDING) == ({"q1": 2.0}, results)
    assert apply_review({"q1": 2.0}, results, [STATIC], CLEARED) == ({"q1": 2.0}, results)
    scores, counted = apply_review({"q1": 2.0}, results, [STATIC], PENDING)
    assert scores == {"q1": 0.0} and counted["score"] == 0 and counted["tests"][0]["name"] == "Needs instructor review"
    assert f"- {STATIC.text()}" in counted["tests"][0]["output"] and results["score"] == 2  # the input is not changed


def test_points_possible_and_earned():
    assert points_possible({"q1": 2.0, "q2": 3.0}, {"q3": 5.0}) == 10.0 and points_possible({}) == 0.0
    assert points_earned({"q1": 2.0, "q2": None}, {"q3": None, "q4": 1.5}) == 3.5


# ---------------------------------------------------------------- gradebook storage, migration, the LMS rows function

def _record(book, label, outcome, **kw):
    book.record(outcome, path=label, member=None, student=kw.pop("student", None), file_sha256="f-" + label,
                autograder_sha256="z", engine="fork", **kw)


def test_gradebook_stores_the_fields_and_the_lms_reads_them_as_rows(tmp_path):
    out = tmp_path / "out"
    with Gradebook(out) as book:
        book.set_points({"q1": 2.0, "q2": 3.0})
        _record(book, "a.ipynb", GradingOutcome("a.ipynb", {"q1": 2.0, "q2": 3.0}, "Completed"))
        flagged = GradingOutcome("b.ipynb", {"q1": 2.0, "q2": 1.0}, "Completed", findings=[STATIC, RUNTIME])
        _record(book, "b.ipynb", flagged, input_note="a note")
        _record(book, "c.ipynb", GradingOutcome.failure("c.ipynb", "c.ipynb: not a notebook"),
                student="gradescope:c%40example.edu;at=2026-01-01T00:00:00")
        _record(book, "d.ipynb", GradingOutcome("d.ipynb", {"q1": 2.0, "q2": 0.0}, "timed out after 9 s in cell 2; x",
                                                kind=TIMED_OUT))
        book.set_override("a.ipynb", "q2", 1.5, note="")
        rows = {r.label: r for r in book.rows()}
    assert rows["b.ipynb"].findings == [STATIC, RUNTIME] and rows["b.ipynb"].kind == NEEDS_REVIEW
    assert rows["b.ipynb"].status == f"needs review: {STATIC.text()} (and 1 more); graded: Completed; a note"
    assert rows["a.ipynb"].status == "Completed; set by hand: q2=1.5" and rows["a.ipynb"].hand_set == ["q2"]
    assert [rows[f"{x}.ipynb"].completed for x in "abcd"] == [True, False, False, False]
    assert rows["c.ipynb"].students == ["gradescope:c@example.edu"] and rows["d.ipynb"].students == ["d.ipynb"]

    rebuild_outputs(out)  # grades.csv written from the same rows the LMS reads
    run = read_grading_dir(out)
    assert run.points_possible == 5.0
    assert [(s.label, s.points, s.completed, s.hand_set, s.row) for s in run.submissions] == [
        ("a.ipynb", 3.5, True, ("q2",), 3), ("b.ipynb", 0.0, False, (), 4), ("c.ipynb", 0.0, False, (), 5),
        ("d.ipynb", 2.0, False, (), 6)]
    assert [s.status for s in run.submissions] == [rows[x].status for x in ("a.ipynb", "b.ipynb", "c.ipynb", "d.ipynb")]
    assert run.submissions[2].student_key.members[0].student == "gradescope:c@example.edu"
    grades = (out / "grades.csv").read_text(encoding="utf-8").splitlines()
    assert [line.split(",")[0] for line in grades[2:]] == [s.label for s in run.submissions]  # `row` is the grades.csv line
    assert graded_run([], {"q1": 2.0}, {"q9": 1.0}, out / "grades.csv").points_possible == 3.0


def test_an_older_gradebook_is_migrated_on_open(tmp_path):
    """A database written before statuses and findings were stored as fields: the status
    split once into kind, words and input note; run-time findings of cell 0 read as None."""
    out = tmp_path / "old"
    with Gradebook(out) as book:
        book.set_points({"q1": 2.0})
        for label in ("a", "b", "c", "d", "e"):
            _record(book, label, GradingOutcome(label, {"q1": 2.0}, "Completed"))
    db = sqlite3.connect(out / "gradebook.sqlite")  # make it look as an older gradkit wrote it
    old_runtime = json.dumps([{"cell": 0, "line": 0, "code": "", "rule": "runtime", "message": "m"}])
    for label, status, findings in [
        ("a", "Completed; cell 2 ran past 5 s and was interrupted", "[]"),
        ("b", "Completed; not in submission_metadata.yml, so its submitters are unknown", old_runtime),
        ("c", "timed out after 60 s in cell 4; questions after that cell were not reached", "[]"),
        ("d", "the kernel died in cell 3 (os._exit, a crash or a signal); questions after that cell were not reached", "[]"),
        ("e", "timed out after 60 s while the tests ran (a function the tests call did not return)", "[]"),
    ]:
        db.execute("UPDATE submissions SET status = ?, findings = ?, outcome = NULL, input_note = '' WHERE label = ?",
                   (status, findings, label))
    db.execute("DELETE FROM meta WHERE key = 'schema'")
    db.commit()
    db.close()
    with Gradebook(out) as book:
        rows = {r.label: r for r in book.rows()}
        assert book.meta("schema") == 2
    assert [rows[x].state.engine_kind for x in "abcde"] == [RAN, RAN, TIMED_OUT, KERNEL_DIED, NOT_GRADED]
    assert rows["b"].state.input_note == "not in submission_metadata.yml, so its submitters are unknown"
    assert rows["b"].findings == [Finding.runtime("m")] and rows["b"].kind == NEEDS_REVIEW
    assert rows["b"].status == "needs review: at run time: m; graded: Completed; not in submission_metadata.yml, so its submitters are unknown"
    assert rows["a"].status == "Completed; cell 2 ran past 5 s and was interrupted" and rows["a"].completed


def test_a_damaged_finding_in_the_gradebook_names_the_row(tmp_path):
    out = tmp_path / "bad"
    with Gradebook(out) as book:
        _record(book, "a", GradingOutcome("a", {}, "Completed"))
    db = sqlite3.connect(out / "gradebook.sqlite")
    db.execute("UPDATE submissions SET findings = ? WHERE label = 'a'", (json.dumps([{"rule": "patch"}]),))
    db.commit()
    db.close()
    with Gradebook(out) as book, pytest.raises(FindingError, match=r"gradebook.sqlite, submission 'a'\[0\]: not a finding"):
        book.rows()


def test_the_student_status_leaves_the_findings_out():
    """Gradescope's output (autograder/gradescope_runner.py) shows students the status without
    the findings, which are for instructors; the engine's words and the review state stay."""
    from autograder.status import render_student_status

    flagged = GradingStatus(RAN, "Completed; cell 3 ran past 30 s and was interrupted", findings=(STATIC,))
    assert render_student_status(flagged) == "needs review; graded: Completed; cell 3 ran past 30 s and was interrupted"
    assert STATIC.message not in render_student_status(flagged) and STATIC.message in render_status(flagged)
    rejected = GradingStatus(RAN, "Completed", findings=(STATIC,), review=REJECTED)
    assert render_student_status(rejected) == "rejected after review; graded: Completed"
    cleared = GradingStatus(RAN, "Completed", findings=(STATIC,), review=CLEARED)
    assert render_student_status(cleared) == render_status(cleared) == "Completed; cleared after review"
    plain = GradingStatus(RAN, "Completed")
    assert render_student_status(plain) == render_status(plain) == "Completed"
