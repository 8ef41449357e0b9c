"""The LMS side of the grading round trip: who handed in what (Canvas and Moodle bulk
download names), and grade import files for Canvas and Moodle written from ``grades.csv``.

* :func:`parse_submission_name` / :class:`SubmissionIdentity`: identity from file names;
* :func:`export_canvas`: fill one assignment column of a Canvas gradebook export;
* :func:`export_moodle`: fill one grade column of a Moodle grade export;
* :class:`ExportReport`: what matched what, and everything that did not.

Formats: ``shared/brief/lms.md``. CLI: ``gradkit export canvas|moodle`` (:mod:`.cli`).
"""

from .canvas import export_canvas
from .common import ExportError
from .moodle import export_moodle
from .names import SubmissionIdentity, normalize_name, parse_submission_name
from .export_report import ExportReport, MatchedRow, RosterRow, SubmissionNote

__all__ = [
    "ExportError", "ExportReport", "MatchedRow", "RosterRow", "SubmissionIdentity", "SubmissionNote",
    "export_canvas", "export_moodle", "normalize_name", "parse_submission_name",
]
