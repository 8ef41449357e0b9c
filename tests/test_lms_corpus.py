"""The LMS corpus (tests/lms_corpus/manifest.json): Canvas and Moodle exports in the
layouts and languages the platforms write, and Gradescope "Export Submissions" metadata
with groups, resubmissions and several entries per student, each with the exact rows
gradkit must write.

Canvas and Moodle cases export from a hand-written grades.csv (the thing under test is
the export); the Gradescope cases are graded for real, all in one `gradkit grade` run
over a handful of copies of the bundled samples, and then exported to Canvas and Moodle.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from instructor.cli import main as cli
from instructor.lms.common import read_csv_table
from instructor.samples import load_samples, write_samples

CORPUS = Path(__file__).resolve().parent / "lms_corpus"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
CASES = MANIFEST["cases"]
SAMPLES = Path(__file__).resolve().parent.parent / "assignments" / "autograd-basics" / "samples"
GRADES_HEADER = ["file", "q1", "q2", "q3", "total_points_earned", "percent_correct", "grading_status"]


def _cases(*kinds: str) -> list:
    return [pytest.param(c, id=c["id"]) for c in CASES if c["kind"] in kinds]


def test_every_case_names_what_it_stands_for():
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))
    for case in CASES:
        assert case["note"].strip() and "\n" not in case["note"], case["id"]
        if "file" in case:
            assert (CORPUS / case["file"]).is_file(), case["id"]


def _write_grades(folder: Path, rows: list) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "grades.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(GRADES_HEADER)
        w.writerow(["points-per-question", 2.0, 3.0, 5.0, 10.0, 100.0, "--"])
        for label, total, status in rows:
            w.writerow([label, 0.0, 0.0, 0.0, total, 10 * total, status])
    return folder


def _export_args(case: dict, source: Path, out: Path, grading: Path) -> list[str]:
    platform = case.get("platform", case["kind"])
    args = ["export", platform, "--gradebook" if platform == "canvas" else "--grades-template", str(source),
            "--column", case["column"], "--out", str(out)]
    for option, value in (case.get("options") or {}).items():
        args += [f"--{option.replace('_', '-')}", value]
    return args + [str(grading)]


@pytest.mark.parametrize("case", _cases("canvas", "moodle"))
def test_canvas_and_moodle_exports(case, tmp_path):
    source = tmp_path / Path(case["file"]).name
    shutil.copyfile(CORPUS / case["file"], source)  # the exact bytes: BOM, delimiter, line endings
    grading = _write_grades(tmp_path / "grading", case["grades"])
    out = tmp_path / "import.csv"
    result = CliRunner().invoke(cli, _export_args(case, source, out, grading))
    if "error" in case:
        assert result.exit_code == 2, result.output
        message = " ".join(result.output.split())
        for fragment in [str(source)] + case["error"]:
            assert fragment in message, (fragment, result.output)
        assert not out.exists()
        return
    assert result.exit_code == 0, result.output
    written, given = read_csv_table(out, "import"), read_csv_table(source, "export")
    assert [written.header] + written.rows == case["rows"]
    assert (written.bom, written.delimiter, written.newline) == (given.bom, given.delimiter, given.newline)
    report = json.loads(out.with_name("import.report.json").read_text(encoding="utf-8"))
    for fragment in case.get("warnings", []):
        assert any(fragment in w for w in report["warnings"]), (fragment, report["warnings"])
    if not case.get("warnings"):
        assert report["warnings"] == []
    for fragment in case.get("notes", []):
        assert any(fragment in n for n in report["notes"]), (fragment, report["notes"])
    listed = [m["submission"] for m in report["matched"]] + [
        n["submission"] for key in ("superseded", "unmatched", "ambiguous") for n in report[key]]
    assert sorted(listed) == sorted(label for label, _, _ in case["grades"])  # every grades.csv row accounted for
    assert "WARNINGS" in result.output if case.get("warnings") else "WARNINGS" not in result.output


@pytest.fixture(scope="module")
def gradescope_grading(built, tmp_path_factory):
    """Every Gradescope case folder, its notebooks written from the bundled samples (and
    its other folders with the files named in 'folders', unread), graded in one real
    `gradkit grade` run. Returns (grading output folder, {sample: points}, terminal output)."""
    root = tmp_path_factory.mktemp("lms-corpus")
    samples = {s.name: s for s in load_samples(SAMPLES)}
    wanted = sorted({name for c in CASES if c["kind"] == "gradescope" for name in c["notebooks"].values()})
    written = dict(zip(wanted, write_samples(built.student_notebook, [samples[n] for n in wanted], root / "samples")))
    folders = []
    for case in (c for c in CASES if c["kind"] == "gradescope"):
        folder = root / "exports" / Path(case["folder"]).name
        folder.mkdir(parents=True)
        shutil.copyfile(CORPUS / case["folder"] / "submission_metadata.yml", folder / "submission_metadata.yml")
        for submission, sample in case["notebooks"].items():
            (folder / submission).mkdir()
            shutil.copyfile(written[sample], folder / submission / "autograd-basics.ipynb")
        for submission, files in (case.get("folders") or {}).items():
            (folder / submission).mkdir()
            for name in files:
                (folder / submission / name).write_bytes(b"not read: this folder holds no single notebook")
        folders.append(str(folder))
    out = root / "grading"
    result = CliRunner().invoke(cli, ["grade", "--autograder", str(built.autograder_zip), "--out", str(out), "--jobs", "2", *folders])
    assert result.exit_code == 0, result.output
    return out, {name: sum(samples[name].expected.values()) for name in wanted}, result.output


@pytest.mark.parametrize("case", _cases("gradescope"))
def test_gradescope_students(case, gradescope_grading):
    out, points, output = gradescope_grading
    prefix = Path(case["folder"]).name + "/"
    with open(out / "students.csv", encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["file"].startswith(prefix)]
    got = [[r["student"], r["file"], float(r["total_points_earned"]), int(r["attempts"]), r["group"]] for r in rows]
    assert got == case["students"]
    for student, label, total, _, _ in case["students"]:  # the expected totals are the samples' own (0 without a notebook)
        sample = case["notebooks"].get(label.rsplit("/", 1)[1])
        assert total == (points[sample] if sample else 0), (student, label)
    with open(out / "grades.csv", encoding="utf-8", newline="") as f:
        statuses = {r["file"]: r["grading_status"] for r in csv.DictReader(f) if r["file"].startswith(prefix)}
    metadata = yaml.safe_load((CORPUS / case["folder"] / "submission_metadata.yml").read_text(encoding="utf-8"))
    wanted = set(metadata) | set(case["notebooks"]) | set(case.get("folders") or {})
    assert sorted(statuses) == sorted(prefix + name for name in wanted)  # every entry and every folder: a row
    for label, status in (case.get("statuses") or {}).items():
        assert statuses[label] == status
    for label, status in statuses.items():
        if label not in (case.get("statuses") or {}):
            assert status == "Completed", label
    for line in case.get("summary", []):
        assert line in output.splitlines()


@pytest.mark.parametrize("case", _cases("gradescope-export"))
def test_gradescope_exports(case, gradescope_grading, tmp_path):
    out, _, _ = gradescope_grading
    source = tmp_path / Path(case["file"]).name
    shutil.copyfile(CORPUS / case["file"], source)
    target = tmp_path / "import.csv"
    result = CliRunner().invoke(cli, _export_args(case, source, target, out))
    assert result.exit_code == 0, result.output
    written = read_csv_table(target, "import")
    assert [written.header] + written.rows == case["rows"]
    report = json.loads(target.with_name("import.report.json").read_text(encoding="utf-8"))
    assert report["ambiguous"] == []
    assert [[n["submission"], n["rows"]] for n in report["not_completed"]] == case["not_completed"]
    assert [r["student"] for r in report["without_submission"]] == [case["rows"][-1][0] if case["platform"] == "canvas" else "Zoe Zed"]
    # every grades.csv row exactly once: a group submission is one entry listing each member's outcome
    with open(out / "grades.csv", encoding="utf-8", newline="") as f:
        labels = [r["file"] for r in csv.DictReader(f)][1:]
    solo_matched = {m["submission"] for m in report["matched"]} - {g["submission"] for g in report["groups"]}
    listed = [g["submission"] for g in report["groups"]] + sorted(solo_matched) + [
        n["submission"] for key in ("superseded", "unmatched", "ambiguous") for n in report[key]]
    assert sorted(listed) == sorted(labels)
    groups = [[g["submission"], [[m["member"], m["outcome"], m["rows"]] for m in g["members"]]] for g in report["groups"]]
    assert groups == case["groups"]
    for g in report["groups"]:
        for m in g["members"]:
            if m["outcome"] == "superseded":
                assert "a solo submission" in m["reason"], m  # these cases: superseded by a later solo submission
    text = result.output
    assert text.count("solo-after-group/submission_2001 (group of 2): cy@gs.example.edu: matched") == 1
    for label, rows in case["not_completed"]:  # one note per submission, naming every row its score went to
        note = next(n for n in report["not_completed"] if n["submission"] == label)
        assert all(f"row {r} (" in note["reason"] for r in rows), note
    assert "Gradescope submissions (no download name)" in report["match_rule"]
    if case.get("options"):  # the export is remembered with its options: a rebuild writes the same file
        before = target.read_bytes()
        target.unlink()
        rebuilt = CliRunner().invoke(cli, ["report", str(out)])
        assert rebuilt.exit_code == 0, rebuilt.output
        assert target.read_bytes() == before
    assert "<- solo-after-group/submission_2000: 8 points — Gradescope submitter di@gs.example.edu = " in result.output


@pytest.mark.parametrize("case", _cases("gradescope-metadata-change"))
def test_gradescope_metadata_change_reaches_students_without_regrading(case, built, tmp_path):
    """A re-downloaded Gradescope export whose submission_metadata.yml changed (a member
    added to the group, :created_at corrected, a folder now listed) with the same files:
    nothing is graded again, yet students.csv, the statuses and the student keys follow the
    current metadata, each change a 'reattributed' event in the gradebook's history."""
    from instructor.gradebook import Gradebook

    source = CORPUS / case["folder"]
    samples = {s.name: s for s in load_samples(SAMPLES)}
    [notebook] = write_samples(built.student_notebook, [samples["solution"]], tmp_path / "samples")
    export = tmp_path / "changed-metadata"
    for name in ("submission_7001", "submission_7002"):
        (export / name).mkdir(parents=True)
        shutil.copyfile(notebook, export / name / "autograd-basics.ipynb")
    out = tmp_path / "grading"

    def grade(metadata: str) -> tuple[str, dict, dict]:
        shutil.copyfile(source / metadata, export / "submission_metadata.yml")
        result = CliRunner().invoke(cli, ["grade", "--autograder", str(built.autograder_zip), "--out", str(out), "--jobs", "1", str(export)])
        assert result.exit_code == 0, result.output
        with open(out / "students.csv", encoding="utf-8", newline="") as f:
            students = {r["student"]: (r["file"], r["group"]) for r in csv.DictReader(f)}
        with open(out / "grades.csv", encoding="utf-8", newline="") as f:
            statuses = {r["file"]: r["grading_status"] for r in csv.DictReader(f)}
        return result.output, students, statuses

    output, students, statuses = grade("submission_metadata.yml")
    assert "2 graded now" in output
    assert students == {"gradescope:pat@gs.example.edu": ("changed-metadata/submission_7001", ""),
                        "changed-metadata/submission_7002": ("changed-metadata/submission_7002", "")}
    assert statuses["changed-metadata/submission_7002"] == "Completed; not in submission_metadata.yml, so its submitters are unknown"

    output, students, statuses = grade("submission_metadata.next.yml")
    assert "0 graded now, 2 already in the gradebook" in output  # the files did not change: not graded again
    group = "gradescope:pat@gs.example.edu;gradescope:quinn@gs.example.edu"
    assert students == {"gradescope:pat@gs.example.edu": ("changed-metadata/submission_7001", group),
                        "gradescope:quinn@gs.example.edu": ("changed-metadata/submission_7001", group),
                        "gradescope:rae@gs.example.edu": ("changed-metadata/submission_7002", "")}
    assert statuses["changed-metadata/submission_7002"] == "Completed"
    with Gradebook(out) as book:
        keys = {r.label: r.student for r in book.rows()}
        events = [(e.action, e.label, json.loads(e.old)["student"], json.loads(e.new)["student"])
                  for e in book.events() if e.action == "reattributed"]
    assert keys["changed-metadata/submission_7001"] == (
        "gradescope:pat@gs.example.edu,sid=017+quinn@gs.example.edu,sid=018;at=2026-01-26T19:00:00.000000Z")  # corrected time
    assert events == [
        ("reattributed", "changed-metadata/submission_7001", "gradescope:pat@gs.example.edu,sid=017;at=2026-01-26T20:00:00.000000Z",
         keys["changed-metadata/submission_7001"]),
        ("reattributed", "changed-metadata/submission_7002", None, "gradescope:rae@gs.example.edu,sid=019;at=2026-01-26T19:30:00.000000Z"),
    ]

    grade("submission_metadata.next.yml")  # nothing changed: no new event
    with Gradebook(out) as book:
        assert len([e for e in book.events() if e.action == "reattributed"]) == 2
