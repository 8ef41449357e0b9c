"""Canvas and Moodle bulk-download names -> student identity (pure, fast)."""

from __future__ import annotations

import dataclasses

import pytest

from instructor.lms.names import SubmissionIdentity, normalize_name, parse_submission_name

CANVAS_CASES = [
    # label, user id, name part, late, attempt, attachment id, file name, original name
    ("smithjohn_12345_67890_autograd-basics.ipynb", "12345", "smithjohn", False, 0, "67890", "autograd-basics.ipynb", "autograd-basics.ipynb"),
    ("canvas-download/smithjohn_12345_67890_autograd-basics.ipynb", "12345", "smithjohn", False, 0, "67890", "autograd-basics.ipynb", "autograd-basics.ipynb"),
    ("smithjohn_LATE_12345_67891_autograd-basics.ipynb", "12345", "smithjohn", True, 0, "67891", "autograd-basics.ipynb", "autograd-basics.ipynb"),
    ("smithjohn_late_12345_67891_autograd-basics.ipynb", "12345", "smithjohn", True, 0, "67891", "autograd-basics.ipynb", "autograd-basics.ipynb"),
    ("smithjohn_12345_67892_autograd-basics-1.ipynb", "12345", "smithjohn", False, 1, "67892", "autograd-basics-1.ipynb", "autograd-basics.ipynb"),
    ("dl/smithjohn_LATE_12345_67893_autograd-basics-2.ipynb", "12345", "smithjohn", True, 2, "67893", "autograd-basics-2.ipynb", "autograd-basics.ipynb"),
    ("smithjohn_12345_67894_autograd-basics-12.zip", "12345", "smithjohn", False, 12, "67894", "autograd-basics-12.zip", "autograd-basics.zip"),
    ("garcíaméndezlucía_2001_3001_tarea.ipynb", "2001", "garcíaméndezlucía", False, 0, "3001", "tarea.ipynb", "tarea.ipynb"),
    ("nguyễnvănan_2002_3002_bài tập 1.ipynb", "2002", "nguyễnvănan", False, 0, "3002", "bài tập 1.ipynb", "bài tập 1.ipynb"),
    ("o'brienmary_2003_3003_my notebook (final).ipynb", "2003", "o'brienmary", False, 0, "3003", "my notebook (final).ipynb", "my notebook (final).ipynb"),
    ("smith-jonesann marie_2004_3004_autograd_basics_v2.ipynb", "2004", "smith-jonesann marie", False, 0, "3004", "autograd_basics_v2.ipynb", "autograd_basics_v2.ipynb"),
    ("王小明_2005_3005_作业.ipynb", "2005", "王小明", False, 0, "3005", "作业.ipynb", "作业.ipynb"),
    # the original name itself has ids-like parts: only the first _<digits>_<digits>_ counts
    ("leeann_2006_3006_hw_1_2_final.ipynb", "2006", "leeann", False, 0, "3006", "hw_1_2_final.ipynb", "hw_1_2_final.ipynb"),
    # no extension: the whole name is the stem
    ("leeann_2006_3007_notebook-3", "2006", "leeann", False, 3, "3007", "notebook-3", "notebook"),
    # a dot-file-like original name keeps its name
    ("leeann_2006_3008_.ipynb", "2006", "leeann", False, 0, "3008", ".ipynb", ".ipynb"),
    # gradkit's clash suffix is ignored
    ("a/smithjohn_12345_67890_autograd-basics.ipynb~2", "12345", "smithjohn", False, 0, "67890", "autograd-basics.ipynb", "autograd-basics.ipynb"),
    # a submitted zip unpacked into a folder of the same name
    ("dl/smithjohn_12345_67895_export/autograd-basics.ipynb", "12345", "smithjohn", False, 0, "67895", "export", "export"),
    # inside a bulk-download zip (label = zip/member)
    ("submissions.zip/smithjohn_12345_67896_autograd-basics-1.ipynb", "12345", "smithjohn", False, 1, "67896", "autograd-basics-1.ipynb", "autograd-basics.ipynb"),
]


@pytest.mark.parametrize("label, uid, name, late, attempt, attachment, file_name, original", CANVAS_CASES)
def test_canvas_names(label, uid, name, late, attempt, attachment, file_name, original):
    ident = parse_submission_name(label)
    assert ident.platform == "canvas"
    assert (ident.lms_id, ident.name, ident.late, ident.attempt, ident.attachment_id, ident.file_name, ident.original_name) == (
        uid, name, late, attempt, attachment, file_name, original)
    assert ident.label == label
    assert ident.student_key == f"canvas:{uid}"


MOODLE_CASES = [
    # label, participant id, name, original name
    ("Jane Doe_4567_assignsubmission_file_autograd-basics.ipynb", "4567", "Jane Doe", "autograd-basics.ipynb"),
    ("moodle/Jane Doe_4567_assignsubmission_file_/autograd-basics.ipynb", "4567", "Jane Doe", "autograd-basics.ipynb"),
    ("moodle/Jane Doe_4567_assignsubmission_file_/work/sub/autograd-basics.zip", "4567", "Jane Doe", "work/sub/autograd-basics.zip"),
    ("moodle/Jane Doe_4567_assignsubmission_file/autograd-basics.ipynb", "4567", "Jane Doe", "autograd-basics.ipynb"),
    ("Lucía García Méndez_88_assignsubmission_file_tarea_1.ipynb", "88", "Lucía García Méndez", "tarea_1.ipynb"),
    ("Mary OBrien_89_assignsubmission_file_nb.ipynb", "89", "Mary OBrien", "nb.ipynb"),
    ("Anne-Marie Smith-Jones_90_assignsubmission_file_autograd-basics-1.ipynb", "90", "Anne-Marie Smith-Jones", "autograd-basics-1.ipynb"),
    ("Nguyễn Văn An_91_assignsubmission_file_bài 1.ipynb", "91", "Nguyễn Văn An", "bài 1.ipynb"),
    ("Participant_92_assignsubmission_file_nb.ipynb", "92", "Participant", "nb.ipynb"),
    ("Team A-Jane Doe_93_assignsubmission_file_nb.ipynb", "93", "Team A-Jane Doe", "nb.ipynb"),
    ("Jane Doe_94_assignsubmission_onlinetext_onlinetext.html", "94", "Jane Doe", "onlinetext.html"),
    # a Canvas-looking file inside a Moodle folder: the Moodle folder wins
    ("m/Jane Doe_95_assignsubmission_file_/hw_1_2_final.ipynb", "95", "Jane Doe", "hw_1_2_final.ipynb"),
    # a file-form name unpacked as a folder
    ("m/Jane Doe_96_assignsubmission_file_export.zip/autograd-basics.ipynb", "96", "Jane Doe", "export.zip/autograd-basics.ipynb"),
]


@pytest.mark.parametrize("label, pid, name, original", MOODLE_CASES)
def test_moodle_names(label, pid, name, original):
    ident = parse_submission_name(label)
    assert ident.platform == "moodle"
    assert (ident.lms_id, ident.name, ident.original_name, ident.late, ident.attempt) == (pid, name, original, False, 0)
    assert ident.student_key == f"moodle:{pid}"


@pytest.mark.parametrize("label", [
    "",
    "autograd-basics.ipynb",
    "class/alice.ipynb",
    "smithjohn.ipynb",
    "smithjohn_12345_autograd-basics.ipynb",       # no attachment id
    "smithjohn_abc_67890_autograd-basics.ipynb",   # user id not digits
    "_12345_67890",                                # nothing after the ids, no name
    "smithjohn_12345_67890_",                      # empty original name
    "Jane Doe_assignsubmission_file_nb.ipynb",     # no participant id
    "submission_123456/autograd-basics.ipynb",     # a Gradescope export folder
    "../..",
    "/",
    "\x00\n\t",
    "~2",
    "a" * 5000,
])
def test_unparseable_names_have_no_platform(label):
    ident = parse_submission_name(label)
    assert ident == SubmissionIdentity(label=label)
    assert ident.platform is None and ident.student_key is None


def test_never_raises_on_odd_input():
    assert parse_submission_name(None).platform is None  # type: ignore[arg-type]
    assert parse_submission_name("x_1_2_y\udcff.ipynb").platform == "canvas"  # lone surrogate from a bad file name


def test_identity_is_frozen():
    ident = parse_submission_name("smithjohn_1_2_a.ipynb")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ident.lms_id = "3"  # type: ignore[misc]


@pytest.mark.parametrize("given, expected", [
    ("Jane Doe", "jane doe"),
    ("  JANE   doe ", "jane doe"),
    ("Lucía García Méndez", "lucia garcia mendez"),
    ("Lucia Garci\u0301a Me\u0301ndez", "lucia garcia mendez"),  # NFD as macOS writes file names
    ("Mary O'Brien", "mary obrien"),
    ("Mary O\u2019Brien", "mary obrien"),
    ("Anne-Marie Smith-Jones", "anne-marie smith-jones"),
    ("Jürgen Groß", "jurgen gross"),
    ("Nguyễn Văn An", "nguyen van an"),
    ("Jane_Doe", "jane doe"),
    ("王小明", "王小明"),
])
def test_normalize_name(given, expected):
    assert normalize_name(given) == expected


def test_an_otter_export_zip_name_is_not_a_canvas_name():
    # grader.export() writes <stem>_YYYY_MM_DDTHH_MM_SS.zip: digits where Canvas puts ids
    assert parse_submission_name("autograd-basics_2026_11_29T10_00_00.zip").platform is None
    assert parse_submission_name("class/hw_2026_01_02T03_04_05.zip").platform is None
    renamed = parse_submission_name("doejane_2001_7001_autograd-basics_2026_11_29T10_00_00.zip")
    assert (renamed.platform, renamed.lms_id, renamed.original_name) == ("canvas", "2001", "autograd-basics_2026_11_29T10_00_00.zip")
