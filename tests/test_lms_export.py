"""gradkit export canvas|moodle: grade import files from grades.csv.

Unit-level cases write grades.csv by hand (the thing under test is the export, not
grading); the two end-to-end tests grade real notebooks under Canvas and Moodle download
names with `gradkit grade` and export that run.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from instructor.cli import main as cli
from instructor.lms import ExportError, export_canvas, export_moodle
from instructor.lms.common import format_points, read_csv_table
from instructor.samples import load_samples, write_samples

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "assignments" / "autograd-basics" / "samples"
GRADES_HEADER = ["file", "q1", "q2", "q3", "total_points_earned", "percent_correct", "grading_status"]
COLUMN = "Autograd Basics (12345)"
BROKEN = "canvas/x.ipynb: not valid notebook JSON: Expecting value: line 1 column 1 (char 0)"

CANVAS_EXPORT = (
    "Student,ID,SIS User ID,SIS Login ID,Section,Autograd Basics (12345),Homework 2 (12346),Current Score,Final Score\r\n"
    ",,,,,Manual Posting,,,\r\n"
    "    Points Possible,,,,,,20.00,(read only),(read only)\r\n"
    '"Smith, John",1001,S001,jsmith,Section A,,18.00,90.00,90.00\r\n'
    '"García Méndez, Lucía",1002,007,lgarcia,"Section A, Section B",,15.00,75.00,75.00\r\n'
    '"O\'Brien, Mary",1003,,mobrien,Section B,EX,,,\r\n'
    '"Nguyễn, Văn An",1004,S004,vnguyen,Section B,,,,\r\n'
    '"Student, Test",1005,,,Section A,,,,\r\n'
)

MOODLE_EXPORT = (
    "First name,Last name,ID number,Institution,Department,Email address,"
    "Assignment: Autograd Basics (Real),Quiz: Week 1 (Real),Course total (Real),Last downloaded from this course\n"
    "John,Smith,S001,Uni,Physics,john.smith@example.edu,-,7.00,7.00,1700000000\n"
    "Lucía,García Méndez,007,Uni,Maths,lucia@example.edu,-,8.00,8.00,1700000000\n"
    "Wei,Zhang,S003,Uni,CS,wei.zhang1@example.edu,-,,,1700000000\n"
    "Wei,Zhang,S004,Uni,CS,wei.zhang2@example.edu,-,,,1700000000\n"
    "Mary,O'Brien,S005,Uni,CS,mary@example.edu,-,,,1700000000\n"
)


def write_grades(folder: Path, rows: list[tuple[str, float, str]], possible: float = 10.0) -> Path:
    """grades.csv as `gradkit grade` writes it: (label, total points, grading_status) rows."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "grades.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(GRADES_HEADER)
        w.writerow(["points-per-question", 2.0, 3.0, 5.0, possible, 100.0, "--"])
        for label, total, status in rows:
            w.writerow([label, 0.0, 0.0, 0.0, total, round(100 * total / possible, 3), status])
    return folder


def records(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


# ---------------------------------------------------------------- Canvas, unit level

@pytest.fixture
def canvas_case(tmp_path):
    gradebook = tmp_path / "export.csv"
    gradebook.write_bytes(("\ufeff" + CANVAS_EXPORT).encode("utf-8"))
    grading = write_grades(tmp_path / "grading", [
        ("canvas/smithjohn_1001_5001_autograd-basics.ipynb", 7.5, "Completed"),
        ("canvas/smithjohn_LATE_1001_5002_autograd-basics-1.ipynb", 10.0, "Completed"),
        ("canvas/garcíaméndezlucía_1002_5003_autograd-basics.ipynb", 8.5, "Completed"),
        ("canvas/o'brienmary_1003_5004_autograd-basics.ipynb", 0.0, BROKEN),
        ("canvas/strangerx_9999_5005_autograd-basics.ipynb", 10.0, "Completed"),
        ("canvas/student.ipynb", 10.0, "Completed"),
        ("moodle/Jane Doe_4567_assignsubmission_file_/autograd-basics.ipynb", 10.0, "Completed"),
    ])
    return gradebook, grading


def test_canvas_fills_the_right_rows_and_keeps_every_row(canvas_case, tmp_path):
    gradebook, grading = canvas_case
    out = tmp_path / "import.csv"
    report = export_canvas(gradebook_csv=gradebook, column=COLUMN, grading_dir=grading, out_csv=out)

    got = records(out)
    source = records(gradebook)
    # header: the student columns and the one assignment column
    assert got[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", COLUMN]
    # every row, in order, student cells unchanged (SIS id "007" stays "007")
    assert len(got) == len(source)
    assert [r[:5] for r in got[1:]] == [r[:5] for r in source[1:]]
    cells = {r[0]: r[5] for r in got[1:]}
    assert cells[""] == "Manual Posting"
    assert cells["    Points Possible"] == "10"
    assert cells["Smith, John"] == "10"              # the latest attempt (-1, LATE), not 7.5
    assert cells["García Méndez, Lucía"] == "8.5"
    assert cells["O'Brien, Mary"] == "0"              # not graded: 0 written, flagged
    assert cells["Nguyễn, Văn An"] == ""              # no submission: blank kept
    assert cells["Student, Test"] == ""

    assert [(m.row, m.submission) for m in report.matched] == [
        (4, "canvas/smithjohn_LATE_1001_5002_autograd-basics-1.ipynb"),
        (5, "canvas/garcíaméndezlucía_1002_5003_autograd-basics.ipynb"),
        (6, "canvas/o'brienmary_1003_5004_autograd-basics.ipynb"),
    ]
    assert report.matched[0].late and report.matched[0].matched_on == "Canvas user id 1001 = ID column"
    assert [n.submission for n in report.superseded] == ["canvas/smithjohn_1001_5001_autograd-basics.ipynb"]
    assert "the latest, canvas/smithjohn_LATE_1001_5002_autograd-basics-1.ipynb" in report.superseded[0].reason
    assert [(n.submission, n.rows) for n in report.not_completed] == [("canvas/o'brienmary_1003_5004_autograd-basics.ipynb", (6,))]
    assert [(m.row, m.previous) for m in report.replaced] == [(6, "EX")]
    unmatched = {n.submission: n.reason for n in report.unmatched}
    assert set(unmatched) == {
        "canvas/strangerx_9999_5005_autograd-basics.ipynb", "canvas/student.ipynb",
        "moodle/Jane Doe_4567_assignsubmission_file_/autograd-basics.ipynb",
    }
    assert "Canvas user id 9999" in unmatched["canvas/strangerx_9999_5005_autograd-basics.ipynb"]
    assert "not a Canvas download name" in unmatched["canvas/student.ipynb"]
    assert "Moodle" in unmatched["moodle/Jane Doe_4567_assignsubmission_file_/autograd-basics.ipynb"]
    assert report.ambiguous == []
    assert [(r.row, r.student, r.reason) for r in report.without_submission] == [
        (7, "Nguyễn, Văn An", "no submission"), (8, "Student, Test", "no submission")]
    assert report.points_possible == 10.0

    # every grades.csv row is accounted for exactly once
    listed = [m.submission for m in report.matched] + [n.submission for n in report.superseded + report.unmatched + report.ambiguous]
    assert sorted(listed) == sorted(r[0] for r in records(grading / "grades.csv")[2:])
    assert sorted(label for label, _ in report.accounted()) == sorted(listed)

    saved = json.loads((tmp_path / "import.report.json").read_text(encoding="utf-8"))
    assert saved["counts"] == {"matched": 3, "without_submission": 2, "unmatched": 3, "ambiguous": 0, "manual_pending": 0,
                               "superseded": 1, "not_completed": 1, "replaced": 1, "groups": 0}
    assert saved["matched"][0]["student"] == "Smith, John"
    text = report.to_text()
    for fragment in ("3 of 5 roster rows", "strangerx_9999", "NOT COMPLETED", "'EX' -> 0", "row 7: Nguyễn, Văn An"):
        assert fragment in text


def test_canvas_keeps_bom_line_endings_and_exact_values(canvas_case, tmp_path):
    gradebook, grading = canvas_case
    out = tmp_path / "import.csv"
    export_canvas(gradebook_csv=gradebook, column=COLUMN, grading_dir=grading, out_csv=out)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\r\n") == len(records(gradebook)) and b"\n" not in raw.replace(b"\r\n", b"")
    assert '"García Méndez, Lucía",1002,007,lgarcia,"Section A, Section B",8.5\r\n' in raw.decode("utf-8")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_canvas_plain_utf8_export_without_optional_columns(tmp_path):
    gradebook = tmp_path / "export.csv"
    gradebook.write_text("Student,ID,Section,HW (1),Autograd Basics (12345)\n"
                         "    Points Possible,,,5,\n"
                         "Doe Jane,42,S1,5,\n", encoding="utf-8")
    grading = write_grades(tmp_path / "g", [("doejane_42_1_autograd-basics.ipynb", 7.25, "Completed")])
    report = export_canvas(gradebook_csv=gradebook, column=COLUMN, grading_dir=grading, out_csv=tmp_path / "o.csv")
    assert (tmp_path / "o.csv").read_text(encoding="utf-8") == (
        "Student,ID,Section,Autograd Basics (12345)\n    Points Possible,,,10\nDoe Jane,42,S1,7.25\n")
    assert not report.needs_attention


def test_canvas_latest_attempt_rule(tmp_path):
    gradebook = tmp_path / "export.csv"
    gradebook.write_text(f"Student,ID,Section,{COLUMN}\nA,1,S,\nB,2,S,\n", encoding="utf-8")
    grading = write_grades(tmp_path / "g", [
        ("d/aa_1_900_nb-2.ipynb", 2.0, "Completed"),     # resubmission 2: latest
        ("d/aa_1_999_nb-1.ipynb", 1.0, "Completed"),
        ("d/aa_1_1000_nb.ipynb", 0.0, "Completed"),
        ("d/bb_2_999_nb.ipynb", 5.0, "Completed"),
        ("d/bb_2_1000_nb.ipynb", 6.0, "Completed"),      # same resubmission number: higher attachment id
    ])
    report = export_canvas(gradebook_csv=gradebook, column=COLUMN, grading_dir=grading, out_csv=tmp_path / "o.csv")
    assert {m.student: (m.submission, m.points) for m in report.matched} == {
        "A": ("d/aa_1_900_nb-2.ipynb", 2.0), "B": ("d/bb_2_1000_nb.ipynb", 6.0)}
    assert sorted(n.submission for n in report.superseded) == ["d/aa_1_1000_nb.ipynb", "d/aa_1_999_nb-1.ipynb", "d/bb_2_999_nb.ipynb"]
    assert "no 'Points Possible' row" in " ".join(report.notes)
    assert len(records(tmp_path / "o.csv")) == 3  # no row added


def test_canvas_duplicate_id_is_ambiguous_not_guessed(tmp_path):
    gradebook = tmp_path / "export.csv"
    gradebook.write_text(f"Student,ID,Section,{COLUMN}\nA,7,S1,\nA again,7,S2,3\n", encoding="utf-8")
    grading = write_grades(tmp_path / "g", [("aa_7_1_nb.ipynb", 9.0, "Completed")])
    report = export_canvas(gradebook_csv=gradebook, column=COLUMN, grading_dir=grading, out_csv=tmp_path / "o.csv")
    assert report.matched == []
    assert [(n.submission, n.rows) for n in report.ambiguous] == [("aa_7_1_nb.ipynb", (2, 3))]
    assert [(r.row, r.value) for r in report.without_submission] == [(2, ""), (3, "3")]
    assert "only ambiguous submissions" in report.without_submission[0].reason
    assert [r[3] for r in records(tmp_path / "o.csv")[1:]] == ["", "3"]


@pytest.mark.parametrize("content, fragment", [
    (f"Name,ID,{COLUMN}\nA,1,\n", "not a Canvas gradebook export"),
    (f"Student;ID;Section;{COLUMN}\nA;1;S;\n", "no column"),  # ';' kept: still a Canvas header, column found
    ("", "is empty"),
    ('Student,ID,"unterminated\n', "not well-formed CSV"),
])
def test_canvas_bad_gradebook(tmp_path, content, fragment):
    gradebook = tmp_path / "export.csv"
    gradebook.write_text(content, encoding="utf-8")
    grading = write_grades(tmp_path / "g", [])
    if fragment == "no column":  # a ';' file parses; asking for a missing column still fails clearly
        with pytest.raises(ExportError, match="no column 'Nope'"):
            export_canvas(gradebook_csv=gradebook, column="Nope", grading_dir=grading, out_csv=tmp_path / "o.csv")
        return
    with pytest.raises(ExportError, match=fragment) as info:
        export_canvas(gradebook_csv=gradebook, column=COLUMN, grading_dir=grading, out_csv=tmp_path / "o.csv")
    assert str(gradebook) in str(info.value)
    assert not (tmp_path / "o.csv").exists()


def test_canvas_errors_name_the_file(canvas_case, tmp_path):
    gradebook, grading = canvas_case
    out = tmp_path / "o.csv"
    with pytest.raises(ExportError, match=r"no column 'Autograd Basics'.*did you mean 'Autograd Basics \(12345\)'"):
        export_canvas(gradebook_csv=gradebook, column="Autograd Basics", grading_dir=grading, out_csv=out)
    with pytest.raises(ExportError, match="is a student column"):
        export_canvas(gradebook_csv=gradebook, column="SIS User ID", grading_dir=grading, out_csv=out)
    with pytest.raises(ExportError, match="no grades.csv"):
        export_canvas(gradebook_csv=gradebook, column=COLUMN, grading_dir=tmp_path, out_csv=out)
    with pytest.raises(ExportError, match="would overwrite an input"):
        export_canvas(gradebook_csv=gradebook, column=COLUMN, grading_dir=grading, out_csv=gradebook)
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(CANVAS_EXPORT.encode("utf-8").replace("García".encode(), "García".encode("latin-1")))
    with pytest.raises(ExportError, match=r"latin1.csv: the Canvas gradebook export is not UTF-8"):
        export_canvas(gradebook_csv=latin1, column=COLUMN, grading_dir=grading, out_csv=out)
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    with pytest.raises(ExportError, match="a-file/o.csv: cannot write"):
        export_canvas(gradebook_csv=gradebook, column=COLUMN, grading_dir=grading, out_csv=tmp_path / "a-file" / "o.csv")
    bad_grades = write_grades(tmp_path / "bad", [("x.ipynb", 1.0, "Completed")])
    (bad_grades / "grades.csv").write_text("file,score\nx.ipynb,1\n", encoding="utf-8")
    with pytest.raises(ExportError, match=r"grades.csv: not a gradkit grade table: no 'total_points_earned'"):
        export_canvas(gradebook_csv=gradebook, column=COLUMN, grading_dir=bad_grades, out_csv=out)
    assert not out.exists()


def test_canvas_cli_default_output_and_usage_errors(canvas_case):
    gradebook, grading = canvas_case
    runner = CliRunner()
    result = runner.invoke(cli, ["export", "canvas", "--gradebook", str(gradebook), "--column", COLUMN, str(grading)])
    assert result.exit_code == 0, result.output
    assert COLUMN in records(grading / "canvas-import.csv")[0]
    assert json.loads((grading / "canvas-import.report.json").read_text(encoding="utf-8"))["counts"]["matched"] == 3
    assert "3 of 5 roster rows filled" in result.output and "UNMATCHED submissions (3)" in result.output
    result = runner.invoke(cli, ["export", "canvas", "--gradebook", str(gradebook), "--column", "Nope (1)", str(grading)])
    assert result.exit_code == 2
    assert f"{gradebook}: no column 'Nope (1)'" in result.output


def test_format_points():
    assert [format_points(x) for x in (10.0, 7.5, 0.0, 2 / 3, 9.99999, 1e-9)] == ["10", "7.5", "0", "0.6667", "10", "0"]


# ---------------------------------------------------------------- Moodle, unit level

def moodle_case(tmp_path, rows, template=MOODLE_EXPORT):
    path = tmp_path / "moodle-export.csv"
    path.write_text(template, encoding="utf-8")
    return path, write_grades(tmp_path / "grading", rows)


MOODLE_COLUMN = "Assignment: Autograd Basics (Real)"


def test_moodle_matches_by_name_and_reports_the_rest(tmp_path):
    template, grading = moodle_case(tmp_path, [
        ("m/JOHN  SMITH_11_assignsubmission_file_/autograd-basics.ipynb", 10.0, "Completed"),
        ("m/Lucia Garci\u0301a Me\u0301ndez_12_assignsubmission_file_nb.ipynb", 8.5, "Completed"),  # NFD, no accent on Lucia
        ("m/Wei Zhang_13_assignsubmission_file_nb.ipynb", 7.0, "Completed"),                       # two rows named so
        ("m/Mary OBrien_14_assignsubmission_file_nb.ipynb", 0.0, BROKEN),                           # apostrophe stripped
        ("m/Ghost Person_15_assignsubmission_file_nb.ipynb", 3.0, "Completed"),
        ("m/Participant_16_assignsubmission_file_nb.ipynb", 3.0, "Completed"),
        ("c/smithjohn_1001_5001_nb.ipynb", 1.0, "Completed"),
    ])
    out = tmp_path / "out.csv"
    report = export_moodle(grades_template=template, column=MOODLE_COLUMN, grading_dir=grading, out_csv=out)
    got = records(out)
    assert got[0] == ["First name", "Last name", "ID number", "Institution", "Department", "Email address", MOODLE_COLUMN]
    assert [r[:6] for r in got[1:]] == [r[:6] for r in records(template)[1:]]
    assert [r[6] for r in got[1:]] == ["10", "8.5", "-", "-", "0"]
    assert {m.student: m.matched_on for m in report.matched} == {
        "John Smith": "name 'JOHN  SMITH' = First name + Last name",
        "Lucía García Méndez": "name 'Lucia Garci\u0301a Me\u0301ndez' = First name + Last name",
        "Mary O'Brien": "name 'Mary OBrien' = First name + Last name",
    }
    assert report.matched[0].key == "Email address john.smith@example.edu"
    assert report.replaced == []  # "-" is Moodle's "no grade", not a value being replaced
    assert [(n.submission, n.rows) for n in report.ambiguous] == [("m/Wei Zhang_13_assignsubmission_file_nb.ipynb", (4, 5))]
    unmatched = {n.submission: n.reason for n in report.unmatched}
    assert "no roster row is named 'Ghost Person'" in unmatched["m/Ghost Person_15_assignsubmission_file_nb.ipynb"]
    assert "blind-marked" in unmatched["m/Participant_16_assignsubmission_file_nb.ipynb"]
    assert "Canvas download name" in unmatched["c/smithjohn_1001_5001_nb.ipynb"]
    assert [n.submission for n in report.not_completed] == ["m/Mary OBrien_14_assignsubmission_file_nb.ipynb"]
    assert [r.row for r in report.without_submission] == [4, 5]
    assert "map 'Email address' or 'ID number'" in report.notes[0]
    assert json.loads((tmp_path / "out.report.json").read_text(encoding="utf-8"))["counts"]["ambiguous"] == 1


def test_moodle_two_participants_for_one_row_and_several_files(tmp_path):
    template, grading = moodle_case(tmp_path, [
        ("m/John Smith_21_assignsubmission_file_nb.ipynb", 10.0, "Completed"),
        ("m/Smith John_22_assignsubmission_file_nb.ipynb", 4.0, "Completed"),     # last-first: the same row
        ("m/Lucía García Méndez_23_assignsubmission_file_a.ipynb", 8.5, "Completed"),
        ("m/Lucía García Méndez_23_assignsubmission_file_b.zip", 8.5, "Completed"),  # same result: fine
        ("m/Mary OBrien_24_assignsubmission_file_a.ipynb", 8.5, "Completed"),
        ("m/Mary OBrien_24_assignsubmission_file_b.ipynb", 2.0, "Completed"),      # differs: not guessed
    ])
    report = export_moodle(grades_template=template, column=MOODLE_COLUMN, grading_dir=grading, out_csv=tmp_path / "o.csv")
    assert [(m.student, m.submission) for m in report.matched] == [
        ("Lucía García Méndez", "m/Lucía García Méndez_23_assignsubmission_file_a.ipynb")]
    assert [n.submission for n in report.superseded] == ["m/Lucía García Méndez_23_assignsubmission_file_b.zip"]
    ambiguous = {n.submission: n.reason for n in report.ambiguous}
    assert set(ambiguous) == {
        "m/John Smith_21_assignsubmission_file_nb.ipynb", "m/Smith John_22_assignsubmission_file_nb.ipynb",
        "m/Mary OBrien_24_assignsubmission_file_a.ipynb", "m/Mary OBrien_24_assignsubmission_file_b.ipynb",
    }
    assert "all match row 2 (John Smith)" in ambiguous["m/John Smith_21_assignsubmission_file_nb.ipynb"]
    assert "no attempt order" in ambiguous["m/Mary OBrien_24_assignsubmission_file_a.ipynb"]
    # first-last only: "Smith John" now matches nobody, so John Smith's row is filled
    report = export_moodle(grades_template=template, column=MOODLE_COLUMN, grading_dir=grading, out_csv=tmp_path / "o.csv", match_on="first-last")
    assert "John Smith" in [m.student for m in report.matched]
    assert "m/Smith John_22_assignsubmission_file_nb.ipynb" in [n.submission for n in report.unmatched]


def test_moodle_semicolon_template_and_missing_identity_columns(tmp_path):
    template = "First name;Last name;Email address;Autograd\r\nJane;Doe;;\r\n"
    path, grading = moodle_case(tmp_path, [("Jane Doe_1_assignsubmission_file_nb.ipynb", 6.0, "Completed")], template)
    report = export_moodle(grades_template=path, column="Autograd", grading_dir=grading, out_csv=tmp_path / "o.csv")
    assert (tmp_path / "o.csv").read_bytes() == b"First name;Last name;Email address;Autograd\r\nJane;Doe;;6\r\n"
    assert "row 2 (Jane Doe)" in report.notes[-1]  # neither email nor ID number: import cannot map it
    path.write_text("Email address,Autograd\nj@x,\n", encoding="utf-8")
    with pytest.raises(ExportError, match="no 'First name' and 'Last name' column"):
        export_moodle(grades_template=path, column="Autograd", grading_dir=grading, out_csv=tmp_path / "o.csv")
    path.write_text(MOODLE_EXPORT, encoding="utf-8")
    with pytest.raises(ExportError, match=r"moodle-export.csv: no column 'Autograd Basics'.*did you mean 'Assignment: Autograd Basics \(Real\)'"):
        export_moodle(grades_template=path, column="Autograd Basics", grading_dir=grading, out_csv=tmp_path / "o.csv")
    result = CliRunner().invoke(cli, ["export", "moodle", "--grades-template", str(path), "--column", "Nope", str(grading)])
    assert result.exit_code == 2 and f"{path}: no column 'Nope'" in result.output
    assert not (grading / "moodle-import.csv").exists()
    with pytest.raises(ExportError, match="match_on='email'"):
        export_moodle(grades_template=path, column=MOODLE_COLUMN, grading_dir=grading, out_csv=tmp_path / "o.csv", match_on="email")


def test_read_csv_table_keeps_values(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('a,b\n" 007 ",EX\n\n"multi\nline",1.50\n', encoding="utf-8")
    table = read_csv_table(path, "test file")
    assert table.rows == [[" 007 ", "EX"], [], ["multi\nline", "1.50"]]
    assert (table.delimiter, table.newline, table.bom) == (",", "\n", False)


# ---------------------------------------------------------------- end to end: real grading

@pytest.fixture(scope="module")
def lms_grading(built, tmp_path_factory):
    """One real `gradkit grade` run over a Canvas and a Moodle bulk download.

    Returns (grading output folder, {sample name: expected points}).
    """
    root = tmp_path_factory.mktemp("lms")
    samples = {s.name: s for s in load_samples(SAMPLES)}
    chosen = [samples["solution"], samples["q3-accumulated"], samples["q1-math-log"]]
    paths = dict(zip([s.name for s in chosen], write_samples(built.student_notebook, chosen, root / "samples")))
    expected = {s.name: sum(s.expected.values()) for s in chosen}
    canvas = root / "canvas-download"
    moodle = root / "moodle-download"
    canvas.mkdir()
    (moodle / "Lucía García Méndez_501_assignsubmission_file_").mkdir(parents=True)
    for source, target in [
        ("q3-accumulated", canvas / "smithjohn_1001_5001_autograd-basics.ipynb"),         # first attempt
        ("solution", canvas / "smithjohn_LATE_1001_5002_autograd-basics-1.ipynb"),        # resubmission: counts
        ("q1-math-log", canvas / "garcíaméndezlucía_1002_5003_autograd-basics.ipynb"),
        ("solution", canvas / "studenttest_1005_5006_autograd-basics.ipynb"),
        ("q1-math-log", moodle / "Lucía García Méndez_501_assignsubmission_file_" / "autograd-basics.ipynb"),
        ("solution", moodle / "John Smith_502_assignsubmission_file_autograd-basics.ipynb"),
    ]:
        shutil.copy(paths[source], target)
    (canvas / "o'brienmary_1003_5004_autograd-basics.ipynb").write_text("<!DOCTYPE html><html></html>", encoding="utf-8")
    (canvas / "strangerx_9999_5005_autograd-basics.ipynb").write_text('{"cells": [', encoding="utf-8")
    (moodle / "Wei Zhang_503_assignsubmission_file_autograd-basics.ipynb").write_text("{}", encoding="utf-8")
    (moodle / "Ghost Person_504_assignsubmission_file_autograd-basics.ipynb").write_text("{}", encoding="utf-8")
    out = root / "grading"
    result = CliRunner().invoke(cli, ["grade", "--autograder", str(built.autograder_zip), "--out", str(out), "--jobs", "2", str(canvas), str(moodle)])
    assert result.exit_code == 0, result.output
    return out, expected


def test_end_to_end_canvas(lms_grading, tmp_path):
    grading, expected = lms_grading
    gradebook = tmp_path / "Grades-Course.csv"
    gradebook.write_text(CANVAS_EXPORT, encoding="utf-8")
    out = tmp_path / "canvas-import.csv"
    result = CliRunner().invoke(cli, ["export", "canvas", "--gradebook", str(gradebook), "--column", COLUMN, "--out", str(out), str(grading)])
    assert result.exit_code == 0, result.output
    got = records(out)
    assert len(got) == len(records(gradebook))
    assert [r[:5] for r in got] == [r[:5] for r in records(gradebook)]
    cells = {r[1]: r[5] for r in got[1:] if r[1]}
    assert cells == {
        "1001": format_points(expected["solution"]),          # the latest attempt, not q3-accumulated's
        "1002": format_points(expected["q1-math-log"]),
        "1003": "0",                                          # an HTML page: not graded, 0, flagged
        "1004": "",                                           # no submission
        "1005": format_points(expected["solution"]),
    }
    assert expected["q3-accumulated"] < expected["solution"]
    assert got[2][0] == "    Points Possible" and got[2][5] == "10"
    assert got[1][5] == "Manual Posting"
    report = json.loads((tmp_path / "canvas-import.report.json").read_text(encoding="utf-8"))
    assert [m["submission"] for m in report["superseded"]] == ["canvas-download/smithjohn_1001_5001_autograd-basics.ipynb"]
    assert [m["submission"] for m in report["not_completed"]] == ["canvas-download/o'brienmary_1003_5004_autograd-basics.ipynb"]
    assert [r["student"] for r in report["without_submission"]] == ["Nguyễn, Văn An"]
    unmatched = {n["submission"] for n in report["unmatched"]}
    assert "canvas-download/strangerx_9999_5005_autograd-basics.ipynb" in unmatched
    assert {u for u in unmatched if u.startswith("moodle-download/")} == {  # other platform: reported, not used
        "moodle-download/Lucía García Méndez_501_assignsubmission_file_/autograd-basics.ipynb",
        "moodle-download/John Smith_502_assignsubmission_file_autograd-basics.ipynb",
        "moodle-download/Wei Zhang_503_assignsubmission_file_autograd-basics.ipynb",
        "moodle-download/Ghost Person_504_assignsubmission_file_autograd-basics.ipynb",
    }
    assert "strangerx_9999" in result.output and "Nguyễn, Văn An" in result.output


def test_end_to_end_moodle(lms_grading, tmp_path):
    grading, expected = lms_grading
    template = tmp_path / "moodle-grades.csv"
    template.write_text(MOODLE_EXPORT, encoding="utf-8")
    result = CliRunner().invoke(cli, ["export", "moodle", "--grades-template", str(template), "--column", MOODLE_COLUMN, str(grading)])
    assert result.exit_code == 0, result.output
    out = grading / "moodle-import.csv"
    got = records(out)
    assert [r[:6] for r in got] == [r[:6] for r in records(template)]
    assert {r[5]: r[6] for r in got[1:]} == {
        "john.smith@example.edu": format_points(expected["solution"]),
        "lucia@example.edu": format_points(expected["q1-math-log"]),
        "wei.zhang1@example.edu": "-",   # a name two rows share: reported, not guessed
        "wei.zhang2@example.edu": "-",
        "mary@example.edu": "-",         # no submission
    }
    report = json.loads((grading / "moodle-import.report.json").read_text(encoding="utf-8"))
    assert [m["matched_on"] for m in report["matched"]] == [
        "name 'John Smith' = First name + Last name", "name 'Lucía García Méndez' = First name + Last name"]
    assert [n["submission"] for n in report["ambiguous"]] == ["moodle-download/Wei Zhang_503_assignsubmission_file_autograd-basics.ipynb"]
    assert "moodle-download/Ghost Person_504_assignsubmission_file_autograd-basics.ipynb" in {n["submission"] for n in report["unmatched"]}
    assert [r["student"] for r in report["without_submission"]] == ["Wei Zhang", "Wei Zhang", "Mary O'Brien"]


def test_a_row_longer_than_its_header_is_refused_with_its_line(tmp_path):
    """A name with an unquoted comma shifts every later cell: never cut silently; the line
    is the one the row starts on (a quoted cell may span lines)."""
    from instructor.lms.common import read_csv_table

    path = tmp_path / "export.csv"
    path.write_text('Student,ID,Section,A (1)\r\n"Doe,\r\nJane",1,S,\r\nSmith, John,1001,A,\r\n', encoding="utf-8")
    with pytest.raises(ExportError) as error:
        read_csv_table(path, "Canvas gradebook export")
    message = str(error.value)
    assert message.startswith(f"{path}, line 4: ")
    assert "has 5 fields but its header has 4" in message and "' John'" not in message.split("extra:")[0]
    path.write_text("Student,ID,Section,A (1)\r\nSmith John,1001,A,\r\n", encoding="utf-8")
    assert read_csv_table(path, "Canvas gradebook export").rows == [["Smith John", "1001", "A", ""]]
