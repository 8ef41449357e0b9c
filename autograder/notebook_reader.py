"""Reading a submitted notebook the way Jupyter does: one reader for every part of gradkit.

Jupyter (``jupyter_server``'s contents manager) reads a notebook with
``nbformat.read(f, as_version=4)``: any version nbformat can read is upgraded to 4, and a
file that does not validate against the schema still opens, with a warning. Tools write
such files every day: jupytext and nbdev give cells an ``id`` while the file says
``"nbformat_minor": 4`` (ids exist from 4.5 on), copies and merges duplicate ids, older
editors leave ids out of 4.5 files, Windows editors save with a byte order mark and CRLF
line ends. :func:`parse_notebook` reads all of these, repairs them as nbformat's own
``normalize``/``validate(repair_duplicate_cell_ids=True, strip_invalid_metadata=True)``
would, and returns what it repaired as short notes (the grading status shows them after
``"Completed; "``; they are not findings and do not send a submission to review).

An output that does not validate (a stream without its ``name``, an ``execute_result``
without ``execution_count``, an ``output_type`` nbformat does not know) is dropped and
noted: Jupyter opens such a file with a warning, and grading runs the code again, so a
saved output never counts. Only JSON that is not a notebook at all (no cells, a cell
without a type) is refused, with a :class:`NotebookReadError` naming the file.

``gradkit grade`` (both engines, :mod:`autograder.submissions`) and ``gradkit check``
(:mod:`student.check`) read through this module, so they accept exactly the same files.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, field
from typing import Iterator

import nbformat
from nbformat import validator

__all__ = ["NotebookRead", "NotebookReadError", "code_cells", "parse_notebook", "read_notebook_file"]

_ID = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")  # nbformat 4.5's cell id pattern
_CODE_KEYS = {"id", "cell_type", "metadata", "source", "outputs", "execution_count"}
_TEXT_KEYS = {"id", "cell_type", "metadata", "source", "attachments"}


class NotebookReadError(ValueError):
    """The bytes are not a notebook Jupyter could open; the message names the file and why."""


@dataclass
class NotebookRead:
    """A notebook read as Jupyter reads it.

    Attributes:
        notebook: the notebook, nbformat 4 (minor 5 when the file had cell ids or was 4.5+),
            valid against nbformat's schema.
        notes: what was repaired on reading, one short phrase each (``"cells carry ids
            under nbformat 4.4 (read as 4.5)"``); empty for a clean file.
    """

    notebook: nbformat.NotebookNode
    notes: list[str] = field(default_factory=list)

    def status_note(self) -> str | None:
        """The notes as one ``grading_status`` note, or ``None`` when there are none."""
        return f"notebook read as Jupyter reads it: {', '.join(self.notes)}" if self.notes else None


def code_cells(notebook) -> Iterator[tuple[int, dict, str]]:
    """The code cells of ``notebook`` (an nbformat v4 ``NotebookNode``), in order.

    Yields:
        (int, dict, str): the cell's 1-based position (every cell counted, as Jupyter lists
        them), the cell itself (to change in place) and its source as one string (a list
        source joined).
    """
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        yield number, cell, "".join(source) if isinstance(source, list) else source


def read_notebook_file(path, where: str | None = None) -> NotebookRead:
    """:func:`parse_notebook` of the file at ``path`` (``where`` defaults to the path).

    Raises:
        NotebookReadError: see :func:`parse_notebook`; also when the file cannot be read.
    """
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as error:
        raise NotebookReadError(f"{where or path}: cannot be read ({error.strerror or error})") from None
    return parse_notebook(raw, str(where or path))


def parse_notebook(raw: bytes, where: str) -> NotebookRead:
    """Read a notebook file's bytes as Jupyter does and repair its schema slips.

    Args:
        raw: the file's bytes (UTF-8, with or without a byte order mark; any line ends).
        where: the file's name, for messages.

    Returns:
        NotebookRead: the nbformat-4 notebook and the notes of what was repaired.

    Raises:
        NotebookReadError: not UTF-8, not JSON, JSON that is not a notebook of a version
            nbformat reads (1 to 4), or a notebook still invalid after repair (the first
            schema error is named).
    """
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise NotebookReadError(f"{where}: not UTF-8 text, so not a notebook") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        hint = " (is it an HTML page saved as .ipynb?)" if text.lstrip()[:1] == "<" else ""
        raise NotebookReadError(f"{where}: not valid notebook JSON{hint}: {error}") from None
    if not isinstance(data, dict) or not ("cells" in data or "worksheets" in data):
        raise NotebookReadError(f"{where}: JSON that is not a Jupyter notebook (no cells)")
    notes: list[str] = []
    major = data.get("nbformat")
    if major is None and isinstance(data.get("cells"), list):
        data["nbformat"], major = 4, 4
        notes.append("no nbformat version (read as 4)")
    if not isinstance(major, int) or not 1 <= major <= 4:
        raise NotebookReadError(f"{where}: nbformat version {major!r}, which Jupyter cannot read")
    if major == 4:
        for number, cell in enumerate(data.get("cells") if isinstance(data.get("cells"), list) else [], start=1):
            kind = cell.get("cell_type") if isinstance(cell, dict) else None
            if kind not in ("code", "markdown", "raw"):
                raise NotebookReadError(f"{where}: JSON that is not a valid Jupyter notebook: cell {number} has cell_type {kind!r} "
                                        "(a cell is code, markdown or raw)")
        notes += _repair_v4(data)
    elif major < 4:
        notes.append(f"nbformat {major} (upgraded to 4)")
    invalid: dict = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbformat warns about what the notes already say
            nb = nbformat.reads(json.dumps(data), as_version=4, capture_validation_error=invalid)
    except Exception as error:  # noqa: BLE001 - nbformat raises several unrelated types
        raise NotebookReadError(f"{where}: JSON that is not a valid Jupyter notebook: {_first_line(error)}") from None
    if major < 4:  # converted: ids are random, the version fields are nbformat's
        nb.metadata.pop("orig_nbformat", None)
        nb.metadata.pop("orig_nbformat_minor", None)
    if not invalid:
        # nbformat.reads validated it (repairing cell ids in place, as validate() does), so
        # normalize() would change nothing (it strips only what the same schema refuses)
        # and a third validation would pass: skipped, the same notebook at a third of the cost.
        return NotebookRead(nb, notes)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            changes, repaired = validator.normalize(nb, strip_invalid_metadata=True)
    except Exception:  # noqa: BLE001 - nbformat's repair assumes a shape (cell_type...) the file lacks
        _raise_invalid(nb, where)
    if changes:
        notes.append("notebook or cell metadata outside the schema (dropped)")
    nb = nbformat.from_dict(repaired)
    _raise_invalid(nb, where)
    return NotebookRead(nb, notes)


def _raise_invalid(nb, where: str) -> None:
    """Raise :class:`NotebookReadError` with the first schema error, if ``nb`` is invalid."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nbformat.validate(nb)
    except Exception as error:  # noqa: BLE001 - ValidationError and jsonschema's own
        raise NotebookReadError(f"{where}: JSON that is not a valid Jupyter notebook: {_first_line(error)}") from None


def _repair_v4(data: dict) -> list[str]:
    """Repair, in place, the nbformat-4 slips real tools write; the notes say which."""
    notes: list[str] = []
    minor = data.get("nbformat_minor")
    cells = data.get("cells")
    if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
        return notes  # nbformat names the problem
    if not isinstance(minor, int):
        minor = 5 if any("id" in c for c in cells) else 4
        notes.append(f"no nbformat_minor (read as 4.{minor})")
    if not isinstance(data.get("metadata"), dict):
        data["metadata"] = {}
        notes.append("no notebook metadata")
    if minor < 5 and any("id" in c for c in cells):
        notes.append(f"cells carry ids under nbformat 4.{minor} (read as 4.5)")
        minor = 5
    if minor > 5:  # a newer minor than this nbformat knows: read with 4.5's schema, as Jupyter warns and opens
        notes.append(f"nbformat 4.{minor} (read as 4.5)")
        minor = 5
    data["nbformat_minor"] = minor
    missing = duplicate = bad = 0
    seen: set[str] = set()
    fixed_cells = extra_keys = dropped_outputs = 0
    for cell in cells:
        kind = cell.get("cell_type")
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = {}
            fixed_cells += 1
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            source = ""
        if cell.get("source") != source and not isinstance(cell.get("source"), list):
            fixed_cells += 1
        cell["source"] = source
        if kind == "code":
            if not isinstance(cell.get("outputs"), list):
                cell["outputs"] = []
                fixed_cells += 1
            kept = [o for o in cell["outputs"] if isinstance(o, dict) and validator.isvalid(o, ref="output", version=4, version_minor=min(minor, 5))]
            dropped_outputs += len(cell["outputs"]) - len(kept)
            cell["outputs"] = kept
            count = cell.get("execution_count")
            if count is not None and not (isinstance(count, int) and count >= 0):
                cell["execution_count"] = None
                fixed_cells += 1
            elif "execution_count" not in cell:
                cell["execution_count"] = None
                fixed_cells += 1
            allowed = _CODE_KEYS
        elif kind in ("markdown", "raw"):
            allowed = _TEXT_KEYS
        else:
            continue  # nbformat names the problem
        for key in [k for k in cell if k not in allowed]:
            del cell[key]  # e.g. "outputs" on a markdown cell (VS Code), "execution_count" on raw
            extra_keys += 1
        if minor >= 5:
            cell_id = cell.get("id")
            if cell_id is None:
                missing += 1
            elif not (isinstance(cell_id, str) and _ID.match(cell_id)):
                bad += 1
                cell.pop("id")
            elif cell_id in seen:
                duplicate += 1
                cell.pop("id")
            else:
                seen.add(cell_id)
    if minor >= 5:
        for index, cell in enumerate(cells):
            if "id" not in cell:
                cell["id"] = _new_id(index, seen)
    if missing:
        notes.append(f"{missing} cell{'s' if missing > 1 else ''} without an id")
    if duplicate:
        notes.append(f"{duplicate} duplicate cell id{'s' if duplicate > 1 else ''}")
    if bad:
        notes.append(f"{bad} malformed cell id{'s' if bad > 1 else ''}")
    if fixed_cells:
        notes.append(f"{fixed_cells} cell field{'s' if fixed_cells > 1 else ''} missing or of the wrong type")
    if dropped_outputs:
        notes.append(f"{dropped_outputs} saved output{'s' if dropped_outputs > 1 else ''} outside the schema (dropped; outputs are not graded)")
    if extra_keys:
        notes.append(f"{extra_keys} cell field{'s' if extra_keys > 1 else ''} outside the schema (dropped)")
    return notes


def _new_id(index: int, used: set[str]) -> str:
    """A cell id not in ``used`` (deterministic: the same file reads the same way twice)."""
    candidate, n = f"cell-{index + 1}", 1
    while candidate in used:
        n += 1
        candidate = f"cell-{index + 1}-{n}"
    used.add(candidate)
    return candidate


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__

