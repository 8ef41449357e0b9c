"""Atomic file writes: a reader (the grading desk, an LMS import, a student's browser)
never sees half a file.

Used by the writers of a grading output folder (:mod:`instructor.outputs`: grades.csv,
students.csv, results/; :mod:`instructor.report_html`) and by the LMS exports
(:mod:`instructor.lms.common`, :mod:`instructor.lms.export_report`), which turn
:class:`OutputWriteError` into their own :class:`instructor.lms.common.ExportError`.
Each file written is logged at DEBUG level (``gradkit ... -vv``).
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

__all__ = ["OutputWriteError", "write_text_atomic", "write_text_if_changed"]

log = logging.getLogger(__name__)


class OutputWriteError(Exception):
    """A file cannot be written; ``str(error)`` names the path and the system's reason."""


def _default_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_text_atomic(path: Path, text: str, *, fsync: bool = True) -> None:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` through a temporary file in
    the same folder and an atomic rename (:func:`os.replace`). Creates missing parent
    folders; the file gets the mode ``open()`` would give it (0666 less the umask).

    With ``fsync`` (the default) the text reaches the disk before the rename, so the file
    survives a power cut whole; without it a reader still never sees half a file, which
    is enough for files rebuilt from the gradebook by every command (``results/``: one
    ``fsync`` per file was most of the exports' time for a class).

    Raises:
        OutputWriteError: the folder cannot be created or the file cannot be written
            (the message names the path: ``<path>: cannot write: <reason>``).
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise OutputWriteError(f"{path}: cannot write here: {error.strerror or error}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.chmod(tmp, _default_file_mode())  # mkstemp makes 0600; give what open() would
        os.replace(tmp, path)
    except BaseException as error:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise OutputWriteError(f"{path}: cannot write: {error.strerror or error}") from None
        raise
    log.debug("wrote %s (%d characters)", path, len(text))


def write_text_if_changed(path: Path, text: str) -> bool:
    """:func:`write_text_atomic` without ``fsync``, unless ``path`` already holds ``text``
    (then nothing is written, and that is logged at DEBUG level instead). For files every
    command rebuilds from the gradebook (``results/``): a run that grades a few more
    submissions into a class's folder rewrites only theirs.

    Returns:
        bool: whether the file was written.

    Raises:
        OutputWriteError: as :func:`write_text_atomic`.
    """
    path = Path(path)
    try:
        if path.read_text(encoding="utf-8") == text:
            log.debug("kept %s (unchanged, %d characters)", path, len(text))
            return False
    except (OSError, UnicodeDecodeError):
        pass
    write_text_atomic(path, text, fsync=False)
    return True
