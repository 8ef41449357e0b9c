"""Manual questions (Otter Assign's ``manual: true``) end to end.

A small master notebook (``tests/manual/manual-mini``: q1 autograded, 2 points; q2 graded
by hand, a markdown answer, 3 points; q3 autograded, 1 point) is built with ``gradkit
build`` (real Otter Assign); its solution and its blank student notebook are graded with
both engines under Canvas and Moodle download names and exported with the course files of
tests/test_lms_export.py. Until q2 is scored it is "not graded yet": an empty cell and a
``manual_pending`` column, never 0, and the LMS exports write no partial total.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from autograder.grade_table import grades_table
from autograder.manual_questions import MANUAL_QUESTIONS_FILE, read_manual_questions, split_scores
from autograder.outcome import GradingOutcome
from autograder.results_schema import validate_results
from instructor.build import build_assignment
from instructor.cli import main as cli
from instructor.gradebook import Gradebook
from instructor.lms import export_canvas
from instructor.manual_build import find_manual_questions

from .test_lms_export import CANVAS_EXPORT, COLUMN, MOODLE_COLUMN, MOODLE_EXPORT, records

MANUAL_MINI = Path(__file__).resolve().parent / "manual" / "manual-mini"

CANVAS_SOLUTION = "canvas/smithjohn_1001_5001_manual-mini.ipynb"
CANVAS_BLANK = "canvas/garcíaméndezlucía_1002_5003_manual-mini.ipynb"
MOODLE_SOLUTION = "moodle/John Smith_502_assignsubmission_file_manual-mini.ipynb"
MOODLE_BLANK = "moodle/Lucía García Méndez_501_assignsubmission_file_/manual-mini.ipynb"


def text_rows(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def canvas_export(out: Path, tmp_path: Path) -> tuple[Path, str]:
    """Run ``gradkit export canvas`` on the graded folder ``out`` with :data:`CANVAS_EXPORT` as
    the gradebook (written to ``tmp_path``); asserts success and returns the import CSV's path
    and the command's output."""
    gradebook = tmp_path / "Grades-Course.csv"
    gradebook.write_text(CANVAS_EXPORT, encoding="utf-8")
    target = tmp_path / "canvas-import.csv"
    result = CliRunner().invoke(cli, ["export", "canvas", "--gradebook", str(gradebook), "--column", COLUMN,
                                      "--out", str(target), str(out)])
    assert result.exit_code == 0, result.output
    return target, result.output


@pytest.fixture(scope="module")
def manual_built(tmp_path_factory):
    """manual-mini built (and verified: the solution earns every autograded point, the
    blank notebook none) with `gradkit build`."""
    return build_assignment(MANUAL_MINI, tmp_path_factory.mktemp("dist"))


# ---------------------------------------------------------------- build

def test_build_records_the_manual_questions_in_the_zip(manual_built):
    assert manual_built.points == {"q1": 2.0, "q3": 1.0}          # the questions with tests
    assert manual_built.manual_points == {"q2": 3.0}
    with zipfile.ZipFile(manual_built.autograder_zip) as archive:
        names = archive.namelist()
        listed = json.loads(archive.read(MANUAL_QUESTIONS_FILE))
    assert "tests/q2.py" not in names                              # otter writes no test for it
    assert listed == {"manual_questions": [{"name": "q2", "points": 3.0}]}
    assert read_manual_questions(manual_built.autograder_zip) == {"q2": 3.0}
    # the student notebook: q2's answer is a markdown cell for the student, the solution is gone
    student = nbformat.read(manual_built.student_notebook, as_version=4)
    text = "\n".join(c.source for c in student.cells)
    assert "Type your answer here" in text and "autograd adds each backward pass" not in text
    solution = nbformat.read(manual_built.solution_notebook, as_version=4)
    assert "autograd adds each backward pass" in "\n".join(c.source for c in solution.cells)


def test_build_of_an_assignment_without_manual_questions_is_unaffected(built):
    assert built.manual_points == {}
    with zipfile.ZipFile(built.autograder_zip) as archive:
        assert MANUAL_QUESTIONS_FILE not in archive.namelist()
    assert read_manual_questions(built.autograder_zip) == {}


def test_manual_points_follow_otter(tmp_path):
    """Otter's value for a manual question: its `points`, 0 when it gives none; a manual
    question with tests is refused by the build (it would be graded twice)."""
    master = nbformat.read(MANUAL_MINI / "manual-mini.ipynb", as_version=4)
    q2 = next(c for c in master.cells if c.source.startswith("# BEGIN QUESTION\nname: q2"))
    q2.source = "# BEGIN QUESTION\nname: q2\nmanual: true\npoints: 2.5"
    q3 = next(c for c in master.cells if c.source.startswith("# BEGIN QUESTION\nname: q3"))
    q3.source = "# BEGIN QUESTION\nname: q3\nmanual: true"
    folder = tmp_path / "manual-mini"
    folder.mkdir()
    nbformat.write(master, folder / "manual-mini.ipynb")
    assert find_manual_questions(folder / "manual-mini.ipynb") == {"q2": 2.5, "q3": 0.0}
    from instructor.build import BuildError

    with pytest.raises(BuildError, match=r"question\(s\) q3 are `manual: true` but have tests"):
        build_assignment(folder, tmp_path / "dist", verify=False)


def test_an_all_manual_assignment_is_refused_in_one_line(tmp_path):
    master = nbformat.read(MANUAL_MINI / "manual-mini.ipynb", as_version=4)
    start = next(i for i, c in enumerate(master.cells) if c.source.startswith("# BEGIN QUESTION\nname: q2"))
    end = next(i for i, c in enumerate(master.cells) if i > start and c.source.startswith("# END QUESTION"))
    master.cells = master.cells[:2] + master.cells[start:end + 1]
    folder = tmp_path / "manual-mini"
    folder.mkdir()
    nbformat.write(master, folder / "manual-mini.ipynb")
    from instructor.build import BuildError

    with pytest.raises(BuildError, match=r"every question \(q2\) is `manual: true`; .*not supported yet"):
        build_assignment(folder, tmp_path / "dist", verify=False)


# ---------------------------------------------------------------- grading, both engines

@pytest.fixture(scope="module", params=["fork", "otter"])
def manual_graded(request, manual_built, tmp_path_factory):
    """The solution and the blank notebook, under Canvas and Moodle download names, graded
    with one engine by `gradkit grade`. Returns (grading folder, CLI output)."""
    root = tmp_path_factory.mktemp(f"manual-{request.param}")
    for label, source in ((CANVAS_SOLUTION, manual_built.solution_notebook), (CANVAS_BLANK, manual_built.student_notebook),
                          (MOODLE_SOLUTION, manual_built.solution_notebook), (MOODLE_BLANK, manual_built.student_notebook)):
        (root / label).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, root / label)
    out = root / "grading"
    result = CliRunner().invoke(cli, ["grade", "--autograder", str(manual_built.autograder_zip), "--out", str(out),
                                      "--engine", request.param, "--jobs", "2", str(root / "canvas"), str(root / "moodle")])
    assert result.exit_code == 0, result.output
    return out, result.output


def test_grades_and_students_csv_show_q2_as_not_graded_yet(manual_graded):
    out, output = manual_graded
    assert text_rows(out / "grades.csv") == [
        "file,q1,q2,q3,total_points_earned,percent_correct,grading_status,manual_pending",
        "points-per-question,2.0,3.0,1.0,6.0,100.0,--,manual questions: q2",
        f"{CANVAS_BLANK},0.0,,0.0,0.0,0.0,Completed,q2",
        f"{CANVAS_SOLUTION},2.0,,1.0,3.0,50.0,Completed,q2",
        f"{MOODLE_SOLUTION},2.0,,1.0,3.0,50.0,Completed,q2",
        f"{MOODLE_BLANK},0.0,,0.0,0.0,0.0,Completed,q2",
    ]
    assert text_rows(out / "students.csv") == [
        "student,file,q1,q2,q3,total_points_earned,grading_status,manual_pending,attempts,all_files,group",
        f"canvas:1002,{CANVAS_BLANK},0.0,,0.0,0.0,Completed,q2,1,{CANVAS_BLANK},",
        f"canvas:1001,{CANVAS_SOLUTION},2.0,,1.0,3.0,Completed,q2,1,{CANVAS_SOLUTION},",
        f"moodle:502,{MOODLE_SOLUTION},2.0,,1.0,3.0,Completed,q2,1,{MOODLE_SOLUTION},",
        f"moodle:501,{MOODLE_BLANK},0.0,,0.0,0.0,Completed,q2,1,{MOODLE_BLANK},",
    ]
    assert "4 submissions await a manual score (q2 graded by hand; totals count the questions scored so far)" in output


def test_results_feedback_and_report_say_not_graded_yet(manual_graded):
    out, _ = manual_graded
    with Gradebook(out) as book:
        assert book.manual_questions() == {"q2": 3.0}
        rows = {r.label: r for r in book.rows()}
    assert rows[CANVAS_SOLUTION].manual_scores == {"q2": None}     # the structured "not scored yet"
    assert rows[CANVAS_SOLUTION].manual_pending == ["q2"]
    assert rows[CANVAS_SOLUTION].scores == {"q1": 2.0, "q3": 1.0} and rows[CANVAS_SOLUTION].total == 3.0

    results = json.loads((out / "results" / "canvas_smithjohn_1001_5001_manual-mini.ipynb.json").read_text(encoding="utf-8"))
    validate_results(results)
    assert "score" not in results                                    # Gradescope sums the tests' scores: 3
    assert sum(t.get("score", 0) for t in results["tests"]) == 3.0
    assert results["tests"][-1] == {
        "name": "q2 (manually graded)", "max_score": 3.0,
        "output": "q2 is graded by hand and has not been scored yet (3 points possible).",
        "visibility": "visible", "extra_data": {"manual": True, "pending": True},
    }

    feedback = (out / "feedback" / "canvas_smithjohn_1001_5001_manual-mini.ipynb.md").read_text(encoding="utf-8")
    assert feedback.startswith(
        f"# Feedback for {CANVAS_SOLUTION}\n\n**Score: 3 / 6 points**\n\n"
        "Not final: q2 (3 points) is graded by hand and has not been graded yet; the score counts the questions graded so far.\n\n"
        "| question | points |\n|---|---|\n| q1 | 2 / 2 |\n| q2 (graded by hand) | not graded yet / 3 |\n| q3 | 1 / 1 |\n")
    assert "lost in hidden tests" not in feedback                  # the manual points are not a hidden-test loss

    report = (out / "report.html").read_text(encoding="utf-8")
    assert ("<h2>Manually graded questions</h2><p>Manually graded: q2 (3 points). 4 of 4 submissions await a manual score "
            "(4 question scores in all); until scored, their totals count only the questions graded so far and the LMS "
            "exports write no grade for them.</p>") in report
    table = re.search(r"<h2>Manually graded questions</h2>.*?(<table.*?</table>)", report, re.S).group(1)
    assert re.findall(r"<td>(.*?)</td>", table) == ["q2", "3.0", "0", "4"]
    assert "<p>4 submissions, mean 1.50 / 6 points; 0 with grading problems.</p>" in report


def test_canvas_export_writes_no_partial_total(manual_graded, tmp_path):
    out, _ = manual_graded
    target, output = canvas_export(out, tmp_path)
    assert records(target) == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", COLUMN],
        ["", "", "", "", "", "Manual Posting"],
        ["    Points Possible", "", "", "", "", "6"],                   # every question's points, q2 included
        ["Smith, John", "1001", "S001", "jsmith", "Section A", ""],     # q2 not scored: no grade written
        ["García Méndez, Lucía", "1002", "007", "lgarcia", "Section A, Section B", ""],
        ["O'Brien, Mary", "1003", "", "mobrien", "Section B", "EX"],
        ["Nguyễn, Văn An", "1004", "S004", "vnguyen", "Section B", ""],
        ["Student, Test", "1005", "", "", "Section A", ""],
    ]
    report = json.loads((tmp_path / "canvas-import.report.json").read_text(encoding="utf-8"))
    assert report["matched"] == []
    assert [(n["submission"], n["rows"], n["reason"]) for n in report["manual_pending"]] == [
        (CANVAS_SOLUTION, [4], "q2 graded by hand and not scored yet; the questions scored so far give 3 points; "
                               "no grade written to Smith, John's row"),
        (CANVAS_BLANK, [5], "q2 graded by hand and not scored yet; the questions scored so far give 0 points; "
                            "no grade written to García Méndez, Lucía's row"),
    ]
    assert [(r["row"], r["reason"]) for r in report["without_submission"]] == [
        (4, f"manual grading pending (q2) for {CANVAS_SOLUTION}; see 'manual grading pending'"),
        (5, f"manual grading pending (q2) for {CANVAS_BLANK}; see 'manual grading pending'"),
        (6, "no submission"), (7, "no submission"), (8, "no submission"),
    ]
    assert report["counts"]["manual_pending"] == 2
    assert ("  NOT FINAL: 2 submissions await manual grading; their rows get no grade until every manual question is scored\n"
            in output)
    assert "MANUAL GRADING PENDING (2) — no grade written until every manual question is scored:" in output


def test_moodle_export_writes_no_partial_total(manual_graded, tmp_path):
    out, _ = manual_graded
    template = tmp_path / "moodle-grades.csv"
    template.write_text(MOODLE_EXPORT, encoding="utf-8")
    result = CliRunner().invoke(cli, ["export", "moodle", "--grades-template", str(template), "--column", MOODLE_COLUMN,
                                      "--out", str(tmp_path / "moodle-import.csv"), str(out)])
    assert result.exit_code == 0, result.output
    assert [r[5:] for r in records(tmp_path / "moodle-import.csv")] == [
        ["Email address", MOODLE_COLUMN],
        ["john.smith@example.edu", "-"],           # kept as exported: q2 awaits a score
        ["lucia@example.edu", "-"],
        ["wei.zhang1@example.edu", "-"],
        ["wei.zhang2@example.edu", "-"],
        ["mary@example.edu", "-"],
    ]
    report = json.loads((tmp_path / "moodle-import.report.json").read_text(encoding="utf-8"))
    assert [(n["submission"], n["rows"]) for n in report["manual_pending"]] == [(MOODLE_SOLUTION, [2]), (MOODLE_BLANK, [3])]
    assert report["matched"] == [] and "MANUAL GRADING PENDING" in result.output


# ---------------------------------------------------------------- once a manual score exists

def test_a_scored_manual_question_counts_in_every_table():
    """A per-question score for a manual question (what a score override gives) makes it
    scored: the cell holds it, the total adds it, nothing is pending."""
    autograded, manual_scores = split_scores({"q1": 2.0, "q3": 1.0, "q2": 2.5}, {"q2": 3.0})
    assert (autograded, manual_scores) == ({"q1": 2.0, "q3": 1.0}, {"q2": 2.5})
    assert split_scores({"q1": 2.0}, {"q2": 3.0}) == ({"q1": 2.0}, {"q2": None})
    table = grades_table([GradingOutcome("a.ipynb", {"q1": 2.0, "q2": 2.5, "q3": 1.0}, "Completed"),
                          GradingOutcome("b.ipynb", {"q1": 2.0, "q3": 0.0}, "Completed")],
                         {"q1": 2.0, "q3": 1.0}, {"q2": 3.0})
    assert table.to_csv(index=False).splitlines() == [
        "file,q1,q2,q3,total_points_earned,percent_correct,grading_status,manual_pending",
        "points-per-question,2.0,3.0,1.0,6.0,100.0,--,manual questions: q2",
        "a.ipynb,2.0,2.5,1.0,5.5,91.667,Completed,",
        "b.ipynb,2.0,,0.0,2.0,33.333,Completed,q2",
    ]


def test_canvas_export_writes_scored_rows_and_holds_pending_ones(tmp_path):
    """grades.csv as `gradkit grade` writes it with a manual question scored for one
    student and pending for the other: only the scored total is written."""
    gradebook = tmp_path / "export.csv"
    gradebook.write_text(CANVAS_EXPORT, encoding="utf-8")
    grading = tmp_path / "grading"
    grading.mkdir()
    (grading / "grades.csv").write_text(
        "file,q1,q2,q3,total_points_earned,percent_correct,grading_status,manual_pending\n"
        "points-per-question,2.0,3.0,1.0,6.0,100.0,--,manual questions: q2\n"
        "smithjohn_1001_5001_manual-mini.ipynb,2.0,2.5,1.0,5.5,91.667,Completed,\n"
        "garcíaméndezlucía_1002_5003_manual-mini.ipynb,2.0,,0.0,2.0,33.333,Completed,q2\n"
        "o'brienmary_1003_5004_manual-mini.ipynb,0.0,,0.0,0.0,0.0,not valid notebook JSON,q2\n", encoding="utf-8")
    report = export_canvas(gradebook_csv=gradebook, column=COLUMN, grading_dir=grading, out_csv=tmp_path / "o.csv")
    cells = {r[1]: r[5] for r in records(tmp_path / "o.csv")[1:]}
    assert cells == {"": "6", "1001": "5.5", "1002": "", "1003": "EX", "1004": "", "1005": ""}
    assert [(m.row, m.points) for m in report.matched] == [(4, 5.5)]
    assert [n.submission for n in report.manual_pending] == ["garcíaméndezlucía_1002_5003_manual-mini.ipynb",
                                                             "o'brienmary_1003_5004_manual-mini.ipynb"]
    assert report.manual_pending[1].reason == (
        "q2 graded by hand and not scored yet; the questions scored so far give 0 points; no grade written to "
        "O'Brien, Mary's row (and its grading_status is 'not valid notebook JSON')")
    assert report.needs_attention


def test_gradebook_without_manual_questions_meta_reads_as_none(tmp_path):
    """A gradebook written before manual questions existed has no such meta key: no
    manual questions, and rows carry an empty ``manual_scores``."""
    with Gradebook(tmp_path) as book:
        book.set_points({"q1": 2.0})
        book.record(GradingOutcome("x.ipynb", {"q1": 2.0}, "Completed"), path="x.ipynb", member=None, student=None,
                    file_sha256="f", autograder_sha256="a", engine="fork")
        assert book.manual_questions() == {}
        (row,) = book.rows()
    assert row.manual_scores == {} and row.manual_pending == [] and row.total == 2.0


def test_an_override_gives_the_manual_question_its_points(manual_graded, tmp_path):
    """`gradkit review --set` scores q2 (the desk's override): every table counts it once, the
    pending marks go, the results entry says it was set by hand, and Canvas gets the grade."""
    out = tmp_path / "grading"
    shutil.copytree(manual_graded[0], out)
    result = CliRunner().invoke(cli, ["review", str(out), "--set", CANVAS_SOLUTION, "q2=2.5", "--note", "answer read"])
    assert result.exit_code == 0, result.output
    refused = CliRunner().invoke(cli, ["review", str(out), "--set", CANVAS_SOLUTION, "q2=3.5"])
    assert refused.exit_code != 0 and "between 0 and 3" in refused.output
    rows = text_rows(out / "grades.csv")
    assert rows[3] == f"{CANVAS_SOLUTION},2.0,2.5,1.0,5.5,91.667,Completed; set by hand: q2=2.5,"
    assert rows[2] == f"{CANVAS_BLANK},0.0,,0.0,0.0,0.0,Completed,q2"          # the others still wait
    with Gradebook(out) as book:
        row = {r.label: r for r in book.rows()}[CANVAS_SOLUTION]
    assert row.manual_scores == {"q2": 2.5} and row.manual_pending == [] and row.total == 5.5
    results = json.loads((out / "results" / "canvas_smithjohn_1001_5001_manual-mini.ipynb.json").read_text(encoding="utf-8"))
    validate_results(results)
    named = [t["name"] for t in results["tests"]]
    assert named.count("q2 (manually graded)") == 1 and "q2" not in named
    assert sum(t.get("score", 0) for t in results["tests"]) == 5.5
    assert results.get("score", 5.5) == 5.5
    entry = results["tests"][-1]
    assert entry["score"] == 2.5 and entry["extra_data"] == {"manual": True, "pending": False}
    assert entry["output"].startswith("Set by hand by the instructor: 2.5 / 3 points")
    target, _ = canvas_export(out, tmp_path)
    assert records(target)[3] == ["Smith, John", "1001", "S001", "jsmith", "Section A", "5.5"]


# ---------------------------------------------------------------- the desk

def test_the_desk_shows_a_manual_question_as_not_graded_yet_and_sets_it(manual_built, tmp_path):
    """Class, submission and question views list the manual question (q2) as "not graded
    yet", never 0; its prose answer cell is its own, not the next autograded question's;
    the submission page's form gives it points, which grades.csv then counts."""
    import http.client
    from urllib.parse import urlencode

    from instructor.batch import grade_batch
    from instructor.desk import start_desk
    from instructor.desk.notebook import question_regions

    student = nbformat.read(manual_built.student_notebook, as_version=4)
    prose = next(i for i, c in enumerate(student.cells) if c.cell_type == "markdown" and "otter_answer_cell" in c.metadata.get("tags", []))
    regions = question_regions(student, ["q2"])
    assert regions["q2"][2] == [prose] and prose not in regions["q3"][2] and prose not in question_regions(student)["q3"][2]
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(manual_built.solution_notebook, subs / "sol.ipynb")
    shutil.copy(manual_built.student_notebook, subs / "blank.ipynb")
    out = tmp_path / "out"
    grade_batch(autograder_zip=manual_built.autograder_zip, submissions=[subs], out_dir=out, jobs=2, progress=False)
    server = start_desk(out, port=0, quiet=True).start()
    try:
        port = int(server.base.rstrip("/").rsplit(":", 1)[1])

        def request(method, path, body=None, cookie=""):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            headers = {"Cookie": cookie} if cookie else {}
            if body is not None:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request(method, path, body=urlencode(body) if body is not None else None, headers=headers)
            response = conn.getresponse()
            return response, response.read().decode("utf-8")

        response, _ = request("GET", f"/?token={server.token}")
        cookie = response.getheader("Set-Cookie").split(";", 1)[0]
        _, page = request("GET", "/", cookie=cookie)
        assert "q2 (3, graded by hand)" in page
        assert re.findall(r'data-q="q2">([^<]*)<', page) == ["not graded yet", "not graded yet"]
        response, page = request("GET", "/question/q2", cookie=cookie)
        assert response.status == 200 and page.count("not graded yet / 3") == 2 and f"cell {prose + 1}<" in page
        _, page = request("GET", "/question/q3", cookie=cookie)
        assert f"cell {prose + 1}<" not in page  # the prose answer is q2's, not q3's
        _, page = request("GET", "/submission?" + urlencode({"label": "subs/blank.ipynb"}), cookie=cookie)
        assert '<option value="q2">q2 (of 3, graded by hand, not graded yet)' in page and "q2: not graded yet / 3 points" in page
        response, _ = request("POST", "/action", {"csrf": server.app.csrf, "label": "subs/blank.ipynb", "action": "set",
                                                  "question": "q2", "points": "2.5"}, cookie=cookie)
        assert response.status == 303
        _, page = request("GET", "/", cookie=cookie)
        assert re.findall(r'data-q="q2">([^<]*)<', page) == ["2.5 ✎", "not graded yet"]
    finally:
        server.stop()
    rows = {r["file"]: r for r in csv.DictReader(io.StringIO((out / "grades.csv").read_text(encoding="utf-8")))}
    assert float(rows["subs/blank.ipynb"]["q2"]) == 2.5 and rows["subs/sol.ipynb"]["q2"] == ""
