"""A submission whose ``metadata.otter`` was lost: give it back the assignment name.

Otter Assign writes ``metadata.otter.assignment_name`` into the student notebook, and
``otter run`` refuses a notebook whose name differs from the autograder's
``otter_config.json`` (``Received submission for assignment 'None' (this is assignment
'autograd-basics')``, ``otter.run.run_autograder.runners.abstract_runner.validate_assignment_name``),
also when the name is simply missing. Tools that keep only some notebook metadata drop
it: jupytext's text formats keep ``kernelspec`` and ``jupytext`` only, so a correct
notebook taken to ``py:percent`` and back is refused in full. A notebook without the
name is not a notebook of another assignment, so gradkit fills the name in from the
autograder zip before otter sees it; a notebook that names another assignment is still
refused.

Used by both grading engines (:mod:`autograder.engines`) and, standard library only, by
the autograder zip itself: ``gradkit build`` ships this file, ``gradkit_submission.py``,
and runs it in ``run_autograder`` before Otter (``python gradkit_submission.py
SUBMISSION_DIR OTTER_CONFIG``), which also rewrites a notebook saved with a UTF-8 byte
order mark without it (``nbformat.read``, which otter uses, refuses the mark).
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path
from typing import Any

_SCRIPT = Path(__file__).name  # its name as shipped, for messages: gradkit_submission.py

__all__ = ["fix_notebook_file", "main", "restore_assignment_name", "zip_assignment_name"]


def zip_assignment_name(autograder_zip: Path) -> str | None:
    """``assignment_name`` of the zip's ``otter_config.json``, or ``None`` if it has none
    (or the zip cannot be read: the engines report that themselves)."""
    try:
        with zipfile.ZipFile(autograder_zip) as archive:
            config = json.loads(archive.read("otter_config.json"))
    except (OSError, KeyError, zipfile.BadZipFile, ValueError):
        return None
    return _assignment_name(config)


def _assignment_name(config: Any) -> str | None:
    """``assignment_name`` of a parsed ``otter_config.json``, if it is a non-empty string."""
    name = config.get("assignment_name") if isinstance(config, dict) else None
    return name if isinstance(name, str) and name else None


def restore_assignment_name(notebook: dict[str, Any], assignment_name: str | None) -> str | None:
    """Set ``metadata.otter.assignment_name`` of ``notebook`` (a notebook dict or
    ``NotebookNode``, changed in place) to ``assignment_name`` when the notebook has none.

    Returns:
        str | None: a status note saying what was restored, or ``None`` when nothing was
        (the name was there, or the autograder has none).
    """
    if not assignment_name:
        return None
    if not isinstance(notebook.get("metadata"), dict):
        notebook["metadata"] = {}
    metadata = notebook["metadata"]
    otter = metadata.get("otter")
    if isinstance(otter, dict) and otter.get("assignment_name"):
        return None
    if isinstance(otter, dict):
        note = "no assignment name in its Otter metadata (taken from the autograder)"
    else:
        note = "no Otter metadata (assignment name taken from the autograder)"
    # assigned whole: a NotebookNode stores a converted copy of a dict it is given
    metadata["otter"] = {**(otter if isinstance(otter, dict) else {}), "assignment_name": assignment_name}
    return note


def fix_notebook_file(path: Path, assignment_name: str | None) -> bool:
    """Restore the assignment name of the notebook at ``path`` and drop a byte order mark;
    rewrite the file only if either changed. Returns whether it was rewritten. A file
    that is not notebook JSON is left as it is (otter reports it)."""
    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    try:
        notebook = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return False
    if not isinstance(notebook, dict):
        return False
    restored = restore_assignment_name(notebook, assignment_name) if notebook.get("nbformat") == 4 else None
    if not (restored or bom):
        return False
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return True


def main(argv: list[str]) -> int:
    """``python gradkit_submission.py SUBMISSION_DIR OTTER_CONFIG``: fix every top-level
    ``.ipynb`` in ``SUBMISSION_DIR``; exit 0 (also when nothing needed fixing), 2 on usage."""
    if len(argv) != 2:
        print(f"usage: python {_SCRIPT} SUBMISSION_DIR OTTER_CONFIG", file=sys.stderr)
        return 2
    try:
        config = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        config = {}
    name = _assignment_name(config)
    for path in sorted(Path(argv[0]).glob("*.ipynb")):
        if fix_notebook_file(path, name):
            print(f"gradkit: {path.name}: restored what a tool dropped (assignment name, byte order mark)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
