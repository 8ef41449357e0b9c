"""Finding submissions among the files instructors get (no grading: pure file handling)."""

from __future__ import annotations

import json
import zipfile

import nbformat
import pytest

from autograder.submissions import SubmissionError, read_submission_notebook
from instructor.discovery import discover_submissions

NOTEBOOK = nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]))


def test_canvas_bulk_zip_holds_one_submission_per_student(tmp_path):
    bulk = tmp_path / "submissions.zip"
    with zipfile.ZipFile(bulk, "w") as z:
        z.writestr("smithjohn_1001_5001_autograd-basics.ipynb", NOTEBOOK)
        z.writestr("smithjohn_LATE_1001_5002_autograd-basics-1.ipynb", NOTEBOOK)
        z.writestr("doejane_1002_5003_autograd-basics.zip", _export_zip())
        z.writestr("__MACOSX/._smithjohn_1001_5001_autograd-basics.ipynb", b"junk")
    found = discover_submissions([bulk])
    assert [(s.label, s.member, s.student) for s in found] == [
        ("submissions.zip/doejane_1002_5003_autograd-basics.zip", "doejane_1002_5003_autograd-basics.zip", "canvas:1002"),
        ("submissions.zip/smithjohn_1001_5001_autograd-basics.ipynb", "smithjohn_1001_5001_autograd-basics.ipynb", "canvas:1001"),
        ("submissions.zip/smithjohn_LATE_1001_5002_autograd-basics-1.ipynb", "smithjohn_LATE_1001_5002_autograd-basics-1.ipynb", "canvas:1001"),
    ]
    # a member is read from inside the bulk zip, and an export zip inside it too
    for sub in found:
        assert read_submission_notebook(sub).cells[0].source == "x = 1"


def test_otter_export_zip_is_one_submission(tmp_path):
    export = tmp_path / "autograd-basics_2026_11_29T10_00_00.zip"
    export.write_bytes(_export_zip())
    (sub,) = discover_submissions([export])
    assert sub.member is None and sub.student is None
    assert read_submission_notebook(sub).cells[0].source == "x = 1"


def test_moodle_folder_per_student_and_skipped_files(tmp_path):
    root = tmp_path / "moodle"
    (root / "Lucía García_501_assignsubmission_file_").mkdir(parents=True)
    (root / "Lucía García_501_assignsubmission_file_" / "autograd-basics.ipynb").write_text(NOTEBOOK)
    (root / "John Smith_502_assignsubmission_file_homework.pdf").write_bytes(b"%PDF-1.4")
    (root / "data.csv").write_text("a,b")
    (root / ".ipynb_checkpoints").mkdir()
    (root / ".ipynb_checkpoints" / "x-checkpoint.ipynb").write_text(NOTEBOOK)
    skipped = []
    found = discover_submissions([root], skipped)
    assert [(s.label, s.student) for s in found] == [
        ("moodle/John Smith_502_assignsubmission_file_homework.pdf", "moodle:502"),  # a hand-in: it gets a row
        ("moodle/Lucía García_501_assignsubmission_file_/autograd-basics.ipynb", "moodle:501"),
    ]
    assert [p.name for p in skipped] == ["data.csv"]
    with pytest.raises(SubmissionError, match="homework.pdf: not a notebook"):
        read_submission_notebook(found[0])


def test_gradescope_export_maps_folders_to_submitters(tmp_path):
    root = tmp_path / "assignment_123_export"
    for name in ("submission_1", "submission_2", "submission_3"):
        (root / name).mkdir(parents=True)
    (root / "submission_1" / "autograd-basics.ipynb").write_text(NOTEBOOK)
    (root / "submission_2" / "autograd-basics_2026.zip").write_bytes(_export_zip())
    (root / "submission_3" / "notes.txt").write_text("forgot the notebook")
    (root / "submission_metadata.yml").write_text(
        "submission_1:\n  :submitters:\n  - :name: Jane Doe\n    :email: jane@example.edu\n    :sid: '001'\n"
        "submission_2:\n  :submitters:\n  - :name: Ann Loe\n    :email: ann@example.edu\n  - :name: Bo Li\n    :email: bo@example.edu\n"
        "submission_3:\n  :submitters:\n  - :name: Sam Moe\n    :email: sam@example.edu\n",
        encoding="utf-8",
    )
    found = discover_submissions([root])
    assert [(s.label, s.student) for s in found] == [
        ("assignment_123_export/submission_1", "gradescope:jane@example.edu,sid=001"),  # every member's email and sid kept
        ("assignment_123_export/submission_2", "gradescope:ann@example.edu+bo@example.edu"),
        ("assignment_123_export/submission_3", "gradescope:sam@example.edu"),
    ]
    assert read_submission_notebook(found[0]).cells[0].source == "x = 1"
    assert read_submission_notebook(found[1]).cells[0].source == "x = 1"
    with pytest.raises(SubmissionError, match="submission_3: a folder without exactly one notebook"):
        read_submission_notebook(found[2])


def test_same_file_name_in_two_places_gets_two_labels(tmp_path):
    for part in ("a", "b"):
        (tmp_path / part).mkdir()
        (tmp_path / part / "hw.ipynb").write_text(NOTEBOOK)
    found = discover_submissions([tmp_path / "a" / "hw.ipynb", tmp_path / "b" / "hw.ipynb"])
    assert [s.label for s in found] == ["hw.ipynb", "hw.ipynb~2"]


@pytest.mark.parametrize("content, reason", [
    (b"", "not valid notebook JSON"),
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (b'{"cells": [', "not valid notebook JSON"),
    (b"<html><body>login</body></html>", "HTML page"),
    (json.dumps({"hello": "world"}).encode(), "not a Jupyter notebook"),
    (json.dumps({"cells": [{"cell_type": "banana"}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode(), "not a valid Jupyter notebook"),
])
def test_bad_files_get_a_reason_naming_the_file(tmp_path, content, reason):
    path = tmp_path / "alice.ipynb"
    path.write_bytes(content)
    with pytest.raises(SubmissionError, match=reason) as error:
        read_submission_notebook(path)
    assert "alice.ipynb" in str(error.value)


def _export_zip() -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("autograd-basics.ipynb", NOTEBOOK)
        z.writestr(".OTTER_LOG", b"log")
    return buffer.getvalue()


def test_gradescope_student_key_round_trip_and_times():
    """Gradescope's Ruby-written timestamps (nanoseconds, offset after a space) read as UTC;
    a '+' in an email and a member known only by student id survive the key."""
    import datetime as dt

    from instructor.gradescope import entry_student_key, normalize_time, parse_student_key

    assert normalize_time("2026-01-26 16:12:13.530862999 -08:00") == "2026-01-27T00:12:13.530862Z"
    assert normalize_time(dt.datetime(2026, 1, 26, 16, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))) == "2026-01-26T15:00:00.000000Z"
    assert normalize_time("2026-01-26T16:12:13Z") == "2026-01-26T16:12:13.000000Z"
    assert normalize_time("yesterday") is None and normalize_time(None) is None
    key = entry_student_key({":submitters": [{":email": "ivy+cs@example.edu", ":sid": "009", ":name": "Ivy"},
                                             {":sid": "010", ":name": "Jo Kay"}, {":name": ""}],
                             ":created_at": "2026-01-26 16:12:13.5 -08:00"})
    assert key == "gradescope:ivy%2Bcs@example.edu,sid=009+010;at=2026-01-27T00:12:13.500000Z"
    parsed = parse_student_key(key)
    assert [(m.key, m.sid, m.student) for m in parsed.members] == [
        ("ivy+cs@example.edu", "009", "gradescope:ivy+cs@example.edu"), ("010", None, "gradescope:010")]
    assert parsed.is_group and parsed.created_at == "2026-01-27T00:12:13.500000Z"
    assert entry_student_key({":submitters": []}) is None and parse_student_key("canvas:12") is None
    old = parse_student_key("gradescope:ann@example.edu+bo@example.edu")  # the key gradkit wrote before
    assert [m.key for m in old.members] == ["ann@example.edu", "bo@example.edu"] and old.created_at is None


def test_gradescope_metadata_that_is_not_a_mapping_is_refused(tmp_path):
    (tmp_path / "export" / "submission_1").mkdir(parents=True)
    (tmp_path / "export" / "submission_metadata.yml").write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(ValueError, match="submission_metadata.yml: expected a mapping"):
        discover_submissions([tmp_path / "export"])


def test_gradescope_entries_without_a_notebook_and_unlisted_folders_are_kept(tmp_path):
    """Every metadata entry and every folder is a submission: a missing, empty, notebook-less
    or two-notebook folder carries a problem (graded as 0 with that status), an unlisted or
    submitter-less folder a note; a key naming a path outside the export is not followed."""
    from autograder.outcome import GradingOutcome
    from autograder.status import RAN, GradingStatus
    from instructor.discovery import NO_SUBMITTER_NOTE, UNLISTED_NOTE, input_note

    export = tmp_path / "export"
    for name, files in {"submission_2": [], "submission_3": ["r.pdf"], "submission_4": ["a.ipynb", "b.ipynb"],
                        "submission_5": ["nb.ipynb"], "submission_6": ["nb.ipynb"]}.items():
        (export / name).mkdir(parents=True)
        for f in files:
            (export / name / f).write_bytes(b"{}")
    (tmp_path / "outside.ipynb").write_bytes(b"{}")
    entry = "  :submitters:\n  - :email: {0}@example.edu\n"
    (export / "submission_metadata.yml").write_text(
        "".join(f"submission_{i}:\n" + entry.format(who) for i, who in ((1, "a"), (2, "b"), (3, "c"), (4, "d")))
        + "submission_6:\n  :submitters: []\n'..':\n" + entry.format("e"), encoding="utf-8")
    found = {s.label: s for s in discover_submissions([export])}
    assert {label: (s.student, s.problem, s.note) for label, s in found.items()} == {
        "export/..": ("gradescope:e@example.edu", "no notebook in the Gradescope export: submission_metadata.yml lists '..', "
                      "which is not a submission folder's name", None),
        "export/submission_1": ("gradescope:a@example.edu", "no notebook in the Gradescope export: export/submission_1/ is missing "
                                "(submission_metadata.yml lists it)", None),
        "export/submission_2": ("gradescope:b@example.edu", "no notebook in the Gradescope export: export/submission_2/ is empty", None),
        "export/submission_3": ("gradescope:c@example.edu", "no notebook in the Gradescope export: export/submission_3/ holds only r.pdf", None),
        "export/submission_4": ("gradescope:d@example.edu", "no single notebook in the Gradescope export: export/submission_4/ holds 2 "
                                "(a.ipynb, b.ipynb); expected exactly one", None),
        "export/submission_5": (None, None, UNLISTED_NOTE),
        "export/submission_6": (None, None, NO_SUBMITTER_NOTE),
    }
    assert found["export/submission_5"].path == export / "submission_5" / "nb.ipynb"
    # the status follows the current metadata: the note is stored apart from the engine's words
    # (so an earlier note is replaced, never repeated) and rendered after them
    def status(sub, engine_text="Completed"):
        return GradingStatus(RAN, engine_text, input_note=input_note(sub)).text()
    assert status(found["export/submission_5"]) == f"Completed; {UNLISTED_NOTE}"
    assert status(found["export/submission_6"]) == f"Completed; {NO_SUBMITTER_NOTE}"
    problem = found["export/submission_2"]
    assert input_note(problem) == "" and GradingOutcome.failure(problem.label, problem.problem).status == problem.problem
