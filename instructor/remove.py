"""``gradkit remove OUT LABEL...``: take submissions out of a grading folder, on the record.

The only way a submission leaves the outputs (besides ``--regrade`` of the same label): its
gradebook row is deleted, the removal (with what the row said, and the instructor's note)
is appended to the gradebook's history (the ``events`` table), and every output is rebuilt
without it; its ``results/`` and ``feedback/`` files are deleted.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from .gradebook import GRADEBOOK_FILE, Gradebook
from .lock import output_lock
from .outputs import Rebuilt, rebuild_outputs

__all__ = ["RemoveError", "remove_submissions"]


class RemoveError(Exception):
    """The folder or a label given to ``gradkit remove`` is wrong; the message says which."""


def remove_submissions(out_dir: Path, labels: list[str], *, note: str = "") -> Rebuilt:
    """Delete the gradebook rows of ``labels``, record it, and rebuild every output.

    Every label is checked first: nothing is removed if one is unknown.

    Args:
        out_dir: a grading output folder written by ``gradkit grade``.
        labels: the submissions' labels (the ``file`` column of grades.csv).
        note: why, kept in the history with each removal.

    Returns:
        instructor.outputs.Rebuilt: the outputs as rebuilt.

    Raises:
        RemoveError: no gradebook in ``out_dir``, no label given, or an unknown label
            (with the nearest labels).
        instructor.lock.FolderBusy: another command is writing ``out_dir``.
    """
    out_dir = Path(out_dir)
    if not (out_dir / GRADEBOOK_FILE).is_file():
        raise RemoveError(f"{out_dir}: no {GRADEBOOK_FILE} here; give the --out folder of `gradkit grade`")
    if not labels:
        raise RemoveError("give at least one LABEL (the `file` column of grades.csv)")
    with output_lock(out_dir), Gradebook(out_dir) as book:
        known = book.labels()
        for label in labels:
            if label not in known:
                near = [k for k in known if k.endswith("/" + label)] or difflib.get_close_matches(label, known, n=3)
                hint = f"; did you mean {', '.join(near)}?" if near else " (labels are the `file` column of grades.csv)"
                raise RemoveError(f"{out_dir}: no submission labelled {label!r}{hint}")
        for label in dict.fromkeys(labels):
            book.remove(label, note)
        return rebuild_outputs(out_dir)
