"""Score overrides, comments and history end to end (``gradkit review --set/--unset/--comment/
--confirm/--history`` and :mod:`instructor.overrides`): real grading of sample submissions
under Canvas and Moodle download names, then every output and LMS import checked."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
import zipfile
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from click.testing import CliRunner

from autograder.status import RAN, GradingStatus
from instructor.cli import main as cli
from instructor.gradebook import Gradebook
from instructor.outputs import results_file_name
from instructor.override_rule import CHANGED as CHANGED_TEXT
from instructor.override_rule import Override, apply_overrides, changed_questions, hand_set
from instructor.overrides import OverrideError, add_comment, confirm_override, history, set_points, unset_points
from instructor.samples import load_samples, write_samples

from .hostile import with_cell

REPO = Path(__file__).resolve().parent.parent
PATCH = "import torch\ntorch.allclose = lambda *args, **kwargs: True"
SMITH = "canvas/smithjohn_1001_5001_autograd-basics.ipynb"          # q3-transposed: q1=2 q2=3 q3=2.5
GARCIA = "canvas/garcíaméndezlucía_1002_5003_autograd-basics.ipynb"  # solution: 10
OBRIEN = "canvas/o'brienmary_1003_5004_autograd-basics.ipynb"      # solution with a patch: flagged
MOODLE_SMITH = "moodle/John Smith_502_assignsubmission_file_autograd-basics.ipynb"  # q3-transposed
COLUMN = "Autograd Basics (12345)"
CANVAS_EXPORT = (
    "Student,ID,SIS User ID,SIS Login ID,Section,Autograd Basics (12345),Current Score\r\n"
    "    Points Possible,,,,,,(read only)\r\n"
    '"Smith, John",1001,S001,jsmith,Section A,,90.00\r\n'
    '"García Méndez, Lucía",1002,007,lgarcia,Section A,,75.00\r\n'
    '"O\'Brien, Mary",1003,,mobrien,Section B,,\r\n'
)
MOODLE_COLUMN = "Assignment: Autograd Basics (Real)"
MOODLE_EXPORT = (
    "First name,Last name,ID number,Institution,Department,Email address,Assignment: Autograd Basics (Real),Course total (Real)\n"
    "John,Smith,S001,Uni,Physics,john.smith@example.edu,-,7.00\n"
    "Mary,O'Brien,S005,Uni,CS,mary@example.edu,-,\n"
)


@pytest.fixture(scope="module")
def graded(built, tmp_path_factory):
    """(built assignment, submissions root, grading output) of four real submissions."""
    root = tmp_path_factory.mktemp("overrides")
    samples = {s.name: s for s in load_samples(REPO / "assignments" / "autograd-basics" / "samples")}
    written = dict(zip(["solution", "q3-transposed"], write_samples(
        built.student_notebook, [samples["solution"], samples["q3-transposed"]], root / "samples")))
    subs = root / "subs"
    (subs / "canvas").mkdir(parents=True)
    (subs / "moodle").mkdir()
    shutil.copy(written["q3-transposed"], subs / SMITH)
    shutil.copy(written["solution"], subs / GARCIA)
    with_cell(written["solution"], "f2", PATCH, subs / OBRIEN)
    shutil.copy(written["q3-transposed"], subs / MOODLE_SMITH)
    out = root / "out"
    _grade(built.autograder_zip, subs, out)
    return built, subs, out


def _grade(autograder_zip: Path, subs: Path, out: Path, *extra: str) -> str:
    result = CliRunner().invoke(cli, ["grade", "--autograder", str(autograder_zip), "--out", str(out), "--jobs", "2", *extra,
                                      str(subs / "canvas"), str(subs / "moodle")])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def work(graded, tmp_path):
    """A private copy of the graded output folder (and of the submissions)."""
    built, subs, out = graded
    shutil.copytree(out, tmp_path / "out")
    shutil.copytree(subs, tmp_path / "subs")
    return built, tmp_path / "subs", tmp_path / "out"


def _review(*args: str):
    return CliRunner().invoke(cli, ["review", *args])


def _ok(*args: str) -> str:
    result = _review(*args)
    assert result.exit_code == 0, result.output
    return result.output


def _grades(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "grades.csv").set_index("file")


def _rows(out: Path) -> dict:
    """label -> the gradebook row (structured status fields)."""
    with Gradebook(out) as book:
        return {row.label: row for row in book.rows()}


def _feedback(out: Path, label: str) -> str:
    from instructor.gradebook import safe_name

    return (out / "feedback" / f"{safe_name(label)}.md").read_text(encoding="utf-8")


def _results(out: Path, label: str) -> dict:
    return json.loads((out / "results" / results_file_name(label)).read_text(encoding="utf-8"))


def _records(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


def test_graded_as_expected(graded):
    _, _, out = graded
    grades = _grades(out)
    assert list(grades.loc[SMITH, ["q1", "q2", "q3", "total_points_earned"]]) == [2.0, 3.0, 2.5, 7.5]
    assert grades.loc[GARCIA, "total_points_earned"] == 10.0
    assert grades.loc[OBRIEN, "grading_status"].startswith("needs review: ")


def test_set_comment_unset_show_in_every_output(work):
    _, _, out = work
    text = _ok(str(out), "--set", SMITH, "q3=4.5", "--note", "regrade request: layout slip only")
    assert f"{SMITH} q3: 4.5 set by hand (tests gave 2.5) - note: regrade request: layout slip only" in text
    grades = _grades(out)
    assert list(grades.loc[SMITH, ["q1", "q2", "q3", "total_points_earned", "percent_correct"]]) == [2.0, 3.0, 4.5, 9.5, 95.0]
    assert grades.loc[SMITH, "grading_status"] == "Completed; set by hand: q3=4.5"
    assert grades.loc[GARCIA, "grading_status"] == "Completed"  # nobody else touched
    students = pd.read_csv(out / "students.csv").set_index("file")
    assert list(students.loc[SMITH, ["q3", "total_points_earned", "grading_status"]]) == [4.5, 9.5, "Completed; set by hand: q3=4.5"]
    results = _results(out, SMITH)
    q3 = next(t for t in results["tests"] if t["name"] == "q3")
    assert results["score"] == 9.5 and q3["score"] == 4.5 and q3["max_score"] == 5.0
    assert q3["output"].startswith("Set by hand by the instructor: 4.5 / 5 points (the tests gave 2.5).\n\nq3 results:")
    feedback = _feedback(out, SMITH)
    assert "**Score: 9.5 / 10 points**" in feedback
    assert "| q3 | 4.5 / 5 (set by hand by the instructor) |" in feedback and "| q2 | 3 / 3 |" in feedback
    assert "regrade request" not in feedback  # the instructor's note is not for the student
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "<td>4.5</td>\n      <td>2.5</td>" in report and "1 scores set by hand, 0 comments" in report
    with Gradebook(out) as book:  # the autograded score stays stored beneath
        row = book.rows([SMITH])[0]
        assert row.raw_scores["q3"] == 2.5 and row.autograded_scores["q3"] == 2.5 and row.scores["q3"] == 4.5
        assert row.hand_set == ["q3"] and row.overrides["q3"].note == "regrade request: layout slip only"

    row = add_comment(out_dir=out, label=SMITH, question="q3", text="Only the layout was wrong: (1, 3), not (3, 1).")
    assert row.comments == {"q3": "Only the layout was wrong: (1, 3), not (3, 1)."} and row.total == 9.5
    feedback = _feedback(out, SMITH)
    assert "## Comments from the instructor\n\n- **q3**: Only the layout was wrong: (1, 3), not (3, 1).\n" in feedback
    q3 = next(t for t in _results(out, SMITH)["tests"] if t["name"] == "q3")
    assert q3["output"].startswith("Set by hand by the instructor: 4.5 / 5 points (the tests gave 2.5).\n"
                                   "Comment from the instructor: Only the layout was wrong: (1, 3), not (3, 1).\n\nq3 results:")

    row = unset_points(out_dir=out, label=SMITH, question="q3", note="the rubric says 2.5")
    assert row.scores["q3"] == 2.5 and row.total == 7.5 and row.status == "Completed" and row.hand_set == []
    grades = _grades(out)
    assert list(grades.loc[SMITH, ["q3", "total_points_earned", "grading_status"]]) == [2.5, 7.5, "Completed"]
    assert "- **q3**: Only the layout was wrong" in _feedback(out, SMITH)  # the comment stays
    assert "(set by hand" not in _feedback(out, SMITH)
    _ok(str(out), "--comment", SMITH, "q3", "")  # "" removes it
    assert "Comments from the instructor" not in _feedback(out, SMITH)
    with Gradebook(out) as book:
        assert book.overrides(SMITH) == {}


def test_from_grade_to_a_corrected_canvas_and_moodle_import(work, tmp_path):
    """Grade, export, correct a score by hand: the import files are rewritten, no file edited by hand."""
    _, _, out = work
    canvas_export = tmp_path / "Grades-Course.csv"
    canvas_export.write_text(CANVAS_EXPORT, encoding="utf-8")
    moodle_export = tmp_path / "moodle-grades.csv"
    moodle_export.write_text(MOODLE_EXPORT, encoding="utf-8")
    canvas_import, moodle_import = tmp_path / "canvas-import.csv", tmp_path / "moodle-import.csv"
    for args in (["canvas", "--gradebook", str(canvas_export), "--column", COLUMN, "--out", str(canvas_import)],
                 ["moodle", "--grades-template", str(moodle_export), "--column", MOODLE_COLUMN, "--out", str(moodle_import)]):
        result = CliRunner().invoke(cli, ["export", *args, str(out)])
        assert result.exit_code == 0, result.output
    assert {r[1]: r[5] for r in _records(canvas_import)[1:] if r[1]} == {"1001": "7.5", "1002": "10", "1003": "0"}
    assert {r[5]: r[6] for r in _records(moodle_import)[1:]} == {"john.smith@example.edu": "7.5", "mary@example.edu": "-"}

    _ok(str(out), "--set", SMITH, "q3=5", "--set", MOODLE_SMITH, "q3=4", "--note", "fair regrade requests")
    _ok(str(out), "--clear", OBRIEN, "--note", "a teaching demo of patching; allowed")
    _ok(str(out), "--set", OBRIEN, "q1=1.5", "--comment", OBRIEN, "q1", "Half the gradient was copied.")
    got = _records(canvas_import)
    assert got[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", COLUMN]
    assert {r[1]: r[5] for r in got[1:] if r[1]} == {"1001": "10", "1002": "10", "1003": "9.5"}
    assert got[1][0] == "    Points Possible" and got[1][5] == "10"
    report = json.loads((tmp_path / "canvas-import.report.json").read_text(encoding="utf-8"))
    assert [(n["submission"], n["reason"]) for n in report["set_by_hand"]] == [
        (SMITH, "q3 set by hand by the instructor; 10 points written to Smith, John's row"),
        (OBRIEN, "q1 set by hand by the instructor; 9.5 points written to O'Brien, Mary's row"),
    ]
    assert [m["status"] for m in report["matched"]] == [
        "Completed; set by hand: q3=5", "Completed", "Completed; cleared after review; set by hand: q1=1.5"]
    assert {r[5]: r[6] for r in _records(moodle_import)[1:]} == {"john.smith@example.edu": "9", "mary@example.edu": "-"}
    moodle_report = json.loads((tmp_path / "moodle-import.report.json").read_text(encoding="utf-8"))
    assert [n["submission"] for n in moodle_report["set_by_hand"]] == [MOODLE_SMITH]
    text = CliRunner().invoke(cli, ["export", "canvas", "--gradebook", str(canvas_export), "--column", COLUMN,
                                    "--out", str(canvas_import), str(out)])
    assert "<- " + SMITH + ": 10 points (SET BY HAND: q3)" in text.output
    assert "scores set by hand (2) — written as the instructor set them:" in text.output


def test_a_flagged_submission_counts_its_hand_set_points(work):
    """nbgrader's rule: a manual grade wins, also while the submission needs review or was rejected."""
    _, _, out = work
    row = set_points(out_dir=out, label=OBRIEN, question="q1", points=1.5, note="checked q1 by hand")
    assert row.needs_review and row.scores == {"q1": 1.5, "q2": 0.0, "q3": 0.0} and row.total == 1.5
    grades = _grades(out)
    assert list(grades.loc[OBRIEN, ["q1", "q2", "q3", "total_points_earned"]]) == [1.5, 0.0, 0.0, 1.5]
    status = grades.loc[OBRIEN, "grading_status"]
    assert status.startswith("needs review: cell ") and status.endswith("; graded: Completed; set by hand: q1=1.5")
    _ok(str(out), "--reject", OBRIEN)
    assert list(_grades(out).loc[OBRIEN, ["q1", "q2", "total_points_earned"]]) == [1.5, 0.0, 1.5]
    _ok(str(out), "--clear", OBRIEN)
    assert list(_grades(out).loc[OBRIEN, ["q1", "q2", "q3", "total_points_earned"]]) == [1.5, 3.0, 5.0, 9.5]


def test_regrading_keeps_overrides_and_lists_an_override_on_a_changed_submission(work, tmp_path):
    built, subs, out = work
    _ok(str(out), "--set", SMITH, "q3=4.5", "--note", "layout slip")
    _ok(str(out), "--comment", SMITH, "q3", "Layout slip only.")
    _ok(str(out), "--clear", OBRIEN, "--note", "allowed")
    before = _grades(out)

    summary = _grade(built.autograder_zip, subs, out, "--regrade")  # the same files, graded again
    assert "regraded 4 because of --regrade" in summary
    assert "1 with scores set by hand" in summary and "override on a changed submission" not in summary
    pd.testing.assert_frame_equal(_grades(out), before)
    assert _grades(out).loc[SMITH, "grading_status"] == "Completed; set by hand: q3=4.5"
    assert _grades(out).loc[OBRIEN, "grading_status"] == "Completed; cleared after review"

    changed = subs / SMITH  # the student hands in a new file under the same name
    nb = nbformat.read(changed, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("note_to_self = 'resubmitted'"))
    nbformat.write(nb, changed)
    summary = _grade(built.autograder_zip, subs, out)
    assert "regraded 1 because the file changed" in summary
    assert ("1 with an override on a changed submission (the hand-set points still count until confirmed or unset: "
            f"gradkit review {out} --confirm LABEL Q | --unset LABEL Q): {SMITH}") in summary
    row = _grades(out).loc[SMITH]
    assert list(row[["q3", "total_points_earned"]]) == [4.5, 9.5]  # it still counts, with a warning
    assert row["grading_status"] == ("Completed; set by hand: q3=4.5; override on a changed submission: q3 "
                                     "(it counts; confirm or unset it)")
    listing = _ok(str(out))
    assert "1 with an OVERRIDE ON A CHANGED SUBMISSION (the override counts until confirmed or unset):" in listing
    assert f"  {SMITH} q3: set by hand 4.5; the tests gave 2.5 then, 2.5 now" in listing
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "1 submission with an override on a changed submission" in report and SMITH in report
    assert "<td>override on a changed submission</td>" in report
    assert "- **q3**: Layout slip only." in _feedback(out, SMITH)

    row = confirm_override(out_dir=out, label=SMITH, question="q3", note="the new file changes nothing in q3")
    assert row.changed_overrides == [] and row.scores["q3"] == 4.5
    assert _grades(out).loc[SMITH, "grading_status"] == "Completed; set by hand: q3=4.5"
    with pytest.raises(OverrideError, match="nothing to confirm"):
        confirm_override(out_dir=out, label=SMITH, question="q3")

    # a changed autograder zip (another member): every submission regraded, the override is listed again
    zip_copy = tmp_path / "autograder.zip"
    shutil.copy(built.autograder_zip, zip_copy)
    with zipfile.ZipFile(zip_copy, "a") as archive:
        archive.writestr("NOTES.txt", "rebuilt after fixing a typo")
    summary = _grade(zip_copy, subs, out)
    assert "regraded 4 because the autograder changed" in summary
    assert _rows(out)[SMITH].changed_overrides == ["q3"]
    assert _grades(out).loc[SMITH, "grading_status"].endswith("; override on a changed submission: q3 (it counts; confirm or unset it)")
    assert _grades(out).loc[SMITH, "q3"] == 4.5
    assert _grades(out).loc[OBRIEN, "grading_status"] == "Completed; cleared after review"  # the decision stands (same file)
    row = unset_points(out_dir=out, label=SMITH, question="q3", note="back to the tests")
    assert row.scores["q3"] == 2.5 and row.changed_overrides == [] and _grades(out).loc[SMITH, "grading_status"] == "Completed"


def test_history_shows_every_event(work):
    _, subs, out = work
    _ok(str(out), "--clear", OBRIEN, "--note", "allowed")
    _ok(str(out), "--reject", OBRIEN, "--note", "on second thought")
    _ok(str(out), "--reopen", OBRIEN)
    _ok(str(out), "--set", OBRIEN, "q2=1", "--note", "partial credit")
    _ok(str(out), "--set", OBRIEN, "q2=2", "--note", "more partial credit")
    _ok(str(out), "--comment", OBRIEN, "q2", "Right idea, wrong sign.")
    _ok(str(out), "--unset", OBRIEN, "q2", "--note", "tests are right")
    events = history(out_dir=out, label=OBRIEN)
    assert [e.action for e in events] == ["graded", "reviewed", "reviewed", "reviewed", "set", "set", "commented", "unset"]
    assert [e.note for e in events[1:]] == ["allowed", "on second thought", "", "partial credit", "more partial credit", "",
                                           "tests are right"]
    first_set, second_set = json.loads(events[4].new), json.loads(events[5].old)
    assert (first_set["points"], first_set["counted"], first_set["autograded"]) == (1.0, 1.0, 3.0)
    assert (second_set["points"], json.loads(events[5].new)["points"]) == (1.0, 2.0)
    assert json.loads(events[7].new) == {"question": "q2", "points": None, "comment": "Right idea, wrong sign.",
                                         "autograded": 3.0, "counted": 0.0, "changed": False}
    text = _ok(str(out), "--history", OBRIEN)
    lines = text.splitlines()
    assert lines[0] == f"history of {OBRIEN}:" and len(lines) == 9
    assert [line.split()[1] for line in lines[1:]] == ["graded", "cleared", "rejected", "reopened", "set", "set", "commented", "unset"]
    assert lines[2].endswith("review pending -> cleared (tests gave 10 points)  - note: allowed")
    assert lines[4].endswith("review rejected -> pending (tests gave 10 points)")
    assert lines[6].endswith("q2: counts 1 -> 2 (set by hand 1 -> 2; tests gave 3)  - note: more partial credit")
    assert lines[7].endswith("q2: comment '' -> 'Right idea, wrong sign.'")
    assert "NEEDS REVIEW" not in text  # --history alone prints only the history
    missing = _review(str(out), "--history", "canvas/nobody.ipynb")
    assert missing.exit_code == 2 and "no submission labelled 'canvas/nobody.ipynb'" in missing.output


def test_history_follows_a_submission_given_under_a_new_label(work, tmp_path):
    """The same file handed in again from another folder takes over its row: the override
    and the history go with it."""
    built, subs, out = work
    _ok(str(out), "--set", GARCIA, "q1=1", "--note", "hand check")
    moved = tmp_path / "canvas2"
    moved.mkdir()
    shutil.copy(subs / GARCIA, moved / GARCIA.split("/", 1)[1])
    result = CliRunner().invoke(cli, ["grade", "--autograder", str(built.autograder_zip), "--out", str(out), "--jobs", "2", str(moved)])
    assert result.exit_code == 0, result.output
    new = "canvas2/" + GARCIA.split("/", 1)[1]
    assert f"{new}: the same submission as {GARCIA}" in result.output
    grades = _grades(out)
    assert GARCIA not in grades.index and list(grades.loc[new, ["q1", "total_points_earned"]]) == [1.0, 9.0]
    assert [e.action for e in history(out_dir=out, label=new)] == ["graded", "set", "relabelled"]


def test_bad_overrides_are_refused_with_one_line(work):
    _, _, out = work
    with Gradebook(out) as book:
        events = len(book.events())
    for args, message in [
        (["--set", SMITH, "q3=5.5"], f"Error: {SMITH}: q3: points must be between 0 and 5, got 5.5"),
        (["--set", SMITH, "q3=-1"], f"Error: {SMITH}: q3: points must be between 0 and 5, got -1"),
        (["--set", SMITH, "q1=nan"], f"Error: {SMITH}: q1: points must be between 0 and 2, got nan"),
        (["--set", SMITH, "q3=lots"], f"Error: --set {SMITH} q3=lots: 'lots' is not a number of points"),
        (["--set", SMITH, "4.5"], f"Error: --set {SMITH} 4.5: give the question and points as Q=POINTS, e.g. q3=4.5"),
        (["--set", SMITH, "q4=1"], f"Error: {SMITH}: no question 'q4' in this assignment (questions: q1, q2, q3)"),
        (["--set", SMITH, "Q3=1"], f"Error: {SMITH}: no question 'Q3' in this assignment; did you mean q3"),
        (["--set", "smithjohn_1001_5001_autograd-basics.ipynb", "q3=1"],
         f"Error: {str(out)}: no submission labelled 'smithjohn_1001_5001_autograd-basics.ipynb'; did you mean {SMITH}?"),
        (["--unset", SMITH, "q3"], f"Error: {SMITH}: q3 has no points set by hand, nothing to unset"),
        (["--confirm", SMITH, "q3"], f"Error: {SMITH}: q3 has no points set by hand, nothing to confirm"),
        (["--comment", SMITH, "q3", ""], f"Error: {SMITH}: q3 has no comment to remove"),
        (["--history", SMITH, "--note", "why"], "Error: --note is kept with a decision"),
    ]:
        result = _review(str(out), *args)
        assert result.exit_code == 2, (args, result.output)
        assert result.output.startswith(message) and result.output.count("\n") == 1, (args, result.output)
    with pytest.raises(OverrideError, match=r"points must be between 0 and 5, got 6"):
        set_points(out_dir=out, label=SMITH, question="q3", points=6)
    with Gradebook(out) as book:
        assert len(book.events()) == events and book.overrides() == {}  # nothing was written
    assert _grades(out).loc[SMITH, "grading_status"] == "Completed"
    set_points(out_dir=out, label=SMITH, question="q3", points=0)  # the bounds themselves are fine
    set_points(out_dir=out, label=SMITH, question="q3", points=5)
    assert _grades(out).loc[SMITH, "q3"] == 5.0


def test_a_gradebook_from_before_overrides_gets_the_table(work):
    _, _, out = work
    db = sqlite3.connect(out / "gradebook.sqlite")
    db.execute("DROP TABLE overrides")
    db.commit()
    db.close()
    row = set_points(out_dir=out, label=GARCIA, question="q2", points=2.5)
    assert row.total == 9.5 and _grades(out).loc[GARCIA, "q2"] == 2.5


def test_a_question_without_an_autograded_score_can_be_set(work):
    """A manual question (no autograded score: absent from the stored scores and results)
    gets its points from an override; its points possible come from the points table."""
    _, _, out = work
    db = sqlite3.connect(out / "gradebook.sqlite")
    scores, results = db.execute("SELECT scores, results FROM submissions WHERE label = ?", (GARCIA,)).fetchone()
    scores, results = json.loads(scores), json.loads(results)
    del scores["q3"]
    results["tests"] = [t for t in results["tests"] if t.get("name") != "q3"]
    db.execute("UPDATE submissions SET scores = ?, results = ?, total = 5 WHERE label = ?", (json.dumps(scores), json.dumps(results), GARCIA))
    db.commit()
    db.close()
    _ok(str(out), "--set", GARCIA, "q3=4")
    assert list(_grades(out).loc[GARCIA, ["q3", "total_points_earned"]]) == [4.0, 9.0]
    q3 = next(t for t in _results(out, GARCIA)["tests"] if t["name"] == "q3")
    assert (q3["score"], q3["max_score"], q3["output"]) == (4.0, 5.0, "Set by hand by the instructor: 4 / 5 points.\n")
    with pytest.raises(OverrideError, match="between 0 and 5"):
        set_points(out_dir=out, label=GARCIA, question="q3", points=5.5)


def test_the_override_rule_with_no_autograded_score():
    """apply_overrides on a question whose autograded score is None (manual, not yet scored)."""
    o = Override(label="a", question="q4", points=3.0, comment="Good derivation.", note="", file_sha256="f",
                 autograder_sha256="z", autograded=None, set_at="2026-01-01T00:00:00+00:00")
    scores, results = apply_overrides({"q1": 2.0, "q4": None}, {"tests": []}, {"q4": o},
                                      raw_scores={"q1": 2.0, "q4": None}, points={"q1": 2.0, "q4": 5.0})
    status = GradingStatus(RAN, "Completed", hand_set=hand_set({"q4": o}), changed=changed_questions({"q4": o}, "f", "z"))
    assert scores == {"q1": 2.0, "q4": 3.0} and status.text() == "Completed; set by hand: q4=3" and results["score"] == 5.0
    assert results["tests"] == [{"name": "q4", "score": 3.0, "max_score": 5.0, "visibility": "visible",
                                 "output": "Set by hand by the instructor: 3 / 5 points.\nComment from the instructor: Good derivation.\n"}]
    assert status.hand_set_questions == ["q4"] and status.changed == ()
    assert changed_questions({"q4": o}, "other", "z") == ("q4",)


def test_removing_a_submission_takes_its_overrides_on_the_record(work):
    _, _, out = work
    set_points(out_dir=out, label=GARCIA, question="q1", points=1.0, note="hand check")
    result = CliRunner().invoke(cli, ["remove", str(out), GARCIA, "--note", "graded by mistake"])
    assert result.exit_code == 0, result.output
    with Gradebook(out) as book:
        assert book.overrides() == {}
        removed = [e for e in book.events(GARCIA) if e.action == "removed"]
    assert json.loads(removed[0].old)["overrides"] == [{"question": "q1", "points": 1.0, "comment": "", "note": "hand check"}]


def test_one_bad_change_refuses_the_whole_command(work):
    _, _, out = work
    result = _review(str(out), "--clear", OBRIEN, "--set", SMITH, "q3=4", "--set", GARCIA, "q3=9")
    assert result.exit_code == 2 and result.output == f"Error: {GARCIA}: q3: points must be between 0 and 5, got 9\n"
    with Gradebook(out) as book:
        assert book.overrides() == {} and book.rows([OBRIEN])[0].needs_review


def test_a_file_name_cannot_pass_for_a_status_gradkit_writes(built, tmp_path):
    """A submission's file name is quoted in its failure status: named like a status
    (``Completed; ...``, ``needs review: ...``) or carrying an override marker, it is
    still a failure, with nothing set by hand and nothing flagged, in grades.csv and the
    batch summary."""
    from autograder.status import NEEDS_REVIEW, NOT_GRADED, REJECTED_STATUS
    from instructor.batch import grade_batch

    subs = tmp_path / "subs"
    subs.mkdir()
    names = ["Completed; a.ipynb", "needs review: b.ipynb", "rejected after review c.ipynb", "COMPLETED d.ipynb",
             "e; set by hand: q1=2, q2=3, q3=5.ipynb", "f; Set By Hand: q1=2; override on a changed submission: q1.ipynb"]
    for name in names:
        (subs / name).write_text("{not a notebook", encoding="utf-8")
    out = tmp_path / "out"
    result = grade_batch(autograder_zip=built.autograder_zip, submissions=[subs], out_dir=out, jobs=1, progress=False)
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text(encoding="utf-8"))))[1:]
    assert sorted(r["file"].split("/")[-1] for r in rows) == sorted(names)
    for r in rows:
        status = r["grading_status"]
        row = _rows(out)[r["file"]]
        assert not row.completed and not row.state.tests_ran and row.kind == NOT_GRADED, status
        assert not status.startswith((NEEDS_REVIEW, REJECTED_STATUS)), status
        assert row.hand_set == [] and row.changed_overrides == [], status
        assert float(r["total_points_earned"]) == 0
    summary = result.text()
    assert "0 completed, 6 could not be fully graded" in summary
    assert "set by hand" not in summary and "need review" not in summary and CHANGED_TEXT not in summary
