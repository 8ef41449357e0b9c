"""A submission's notebook as sanitised HTML, one fragment per cell, and which cells
belong to which question.

Rendering: nbconvert's HTML exporter (``basic`` template, no page shell, no scripts)
renders the whole notebook once; the result is split into cells at markers that carry a
random nonce (a submission cannot forge a cell boundary) and each cell's HTML passes
through :func:`instructor.desk.sanitize.sanitize_html`. Before rendering, SVG outputs are
turned into ``<img src="data:image/svg+xml;base64,...">`` (an SVG shown as an image runs
no script and loads nothing, so figures stay visible while inline SVG is not allowed).

Question regions follow the student notebook that ``gradkit build`` writes with Otter
Assign: each question ends at its ``grader.check("qN")`` cell and starts after the
previous one (at the question's own text and provided cells right before its first
answer); its answer cells are the cells tagged ``otter_answer_cell`` there. A notebook
that lost its tags (exported by another tool) falls back to every code cell of the
region that is not a provided cell (``# Provided``, ``gradkit_checks.record``) or Otter's own.
A manually graded question (``manual: true``) has no ``grader.check`` cell: Otter Assign
writes it between ``<!-- BEGIN QUESTION -->`` and ``<!-- END QUESTION -->`` markdown
markers. Such a block (holding no ``grader.check``) is the next manual question's region
(names given in notebook order), and its cells never count as the answer of the
autograded question after it.
"""

from __future__ import annotations

import base64
import copy
import re
import secrets
import threading
from dataclasses import dataclass, field

import nbformat

from autograder.shipped import CHECKS

from .sanitize import sanitize_html

__all__ = ["RenderedCell", "question_regions", "render_cells"]

_EXPORTER = None
_EXPORTER_LOCK = threading.Lock()
_CHECK = re.compile(r"""grader\s*\.\s*check\(\s*["']([^"']+)["']\s*\)""")
_CHECK_CELL = re.compile(r"""\A\s*grader\s*\.\s*check\(\s*["']([^"'\n]+)["']\s*\)\s*\Z""")
_BEGIN = re.compile(r"<!--\s*BEGIN QUESTION\s*-->")
_END = re.compile(r"<!--\s*END QUESTION\s*-->")
_RECORD = re.compile(re.escape(CHECKS) + r"""\s*\.\s*record\(\s*["']([^"']+)["']""")


def _check_cell(cell) -> re.Match | None:
    """The question a ``grader.check`` cell checks: a code cell holding that call alone
    (comments and blank lines aside), as Otter Assign writes it. A call in a comment, a
    string or an answer cell does not mark a question's end (a submission cannot move a
    question's region by writing ``# grader.check("q3")`` into another answer)."""
    if cell.cell_type != "code":
        return None
    code = "\n".join(line for line in cell.source.splitlines() if line.strip() and not line.lstrip().startswith("#"))
    return _CHECK_CELL.match(code)


@dataclass
class RenderedCell:
    """One cell of a submission as the desk shows it.

    Attributes:
        index: 1-based position among all cells (as the screen's findings count them).
        cell_type: ``code``, ``markdown`` or ``raw``.
        html: sanitised HTML of the cell (input and outputs), safe to put into a page.
        source: the cell's source text (escaped by the templates when shown).
        question: the question whose region holds the cell, or None.
        answer: whether it is one of its question's answer cells.
        findings: the screen's findings on this cell (:class:`autograder.findings.Finding`).
    """

    index: int
    cell_type: str
    html: str
    source: str
    question: str | None = None
    answer: bool = False
    findings: list = field(default_factory=list)


def _manual_blocks(nb: nbformat.NotebookNode) -> list[tuple[int, int]]:
    """(BEGIN cell, END cell) of each ``<!-- BEGIN QUESTION -->`` block without a ``grader.check``."""
    blocks, begin = [], None
    for i, cell in enumerate(nb.cells):
        text = cell.source if cell.cell_type == "markdown" else ""
        if begin is not None and _check_cell(cell):
            begin = None  # an autograded question's block: not manual
        if begin is not None and _END.search(text):
            blocks.append((begin, i))
            begin = None
        if _BEGIN.search(text) and not _END.search(text[_BEGIN.search(text).end():]):
            begin = i
    return blocks


def question_regions(nb: nbformat.NotebookNode, manual=()) -> dict[str, tuple[int, int, list[int]]]:
    """Where each question lies in a student notebook.

    Args:
        nb: the notebook (nbformat v4).
        manual: the manually graded questions' names, in notebook order (the gradebook's
            manual questions); each takes the next BEGIN/END QUESTION block without a
            ``grader.check``.

    Returns:
        dict: question name -> (first cell, last cell: the ``grader.check`` cell or the
        END QUESTION cell, answer cells), 0-based indices, in notebook order. Questions
        without a ``grader.check`` cell or block are absent.
    """
    regions: dict[str, tuple[int, int, list[int]]] = {}
    blocks = _manual_blocks(nb)
    in_block = {j for b, e in blocks for j in range(b, e)}  # the END cell holds the next question's text
    for name, (b, e) in zip(manual, blocks):
        tagged = [j for j in range(b, e + 1) if "otter_answer_cell" in (nb.cells[j].get("metadata", {}).get("tags") or [])]
        regions[name] = (b, e, tagged or list(range(b + 1, e)) or [b])
    start = 0
    for i, cell in enumerate(nb.cells):
        match = _check_cell(cell)
        if not match or match.group(1) in regions:
            continue
        q = match.group(1)
        start = max([start] + [e for b, e in blocks if start <= e < i])  # not into a manual question's block
        span = [j for j in range(start, i) if j not in in_block]
        tagged = [j for j in span if "otter_answer_cell" in (nb.cells[j].get("metadata", {}).get("tags") or [])]
        if tagged:
            answers = tagged
        else:  # tags lost: every code cell of the region but provided ones and Otter's own
            answers = [j for j in span if nb.cells[j].cell_type == "code" and not nb.cells[j].source.lstrip().startswith("# Provided")
                       and "import otter" not in nb.cells[j].source and not _CHECK.search(nb.cells[j].source)
                       and not _RECORD.search(nb.cells[j].source)]
        first = answers[0] if answers else i
        # the question's own text and provided cells right before its first answer cell
        while first > start and (nb.cells[first - 1].cell_type == "markdown"
                                 or nb.cells[first - 1].get("metadata", {}).get("editable") is False):
            first -= 1
        regions[q] = (first if tagged else start, i, answers)
        start = i + 1
    return dict(sorted(regions.items(), key=lambda item: item[1][0]))


MAX_OUTPUT_CHARS = 100_000
"""Characters of one output's text (stream, text/plain, text/html, text/markdown) shown; the rest is cut with a note."""
MAX_OUTPUTS = 200
"""Outputs shown per cell; a note says how many more there are (a submission printing in a loop)."""


def _cut(text, limit: int = MAX_OUTPUT_CHARS):
    text = text if isinstance(text, str) else "".join(text)
    return text if len(text) <= limit else text[:limit] + f"\n... ({len(text) - limit:,} more characters not shown by the desk)\n"


def _prepare(nb: nbformat.NotebookNode, nonce: str) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    nb.nbformat, nb.nbformat_minor = 4, max(5, nb.get("nbformat_minor", 5))
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"gkdesk-{nonce}-{i}"
        cell.pop("attachments", None) if cell.cell_type == "code" else None
        if cell.cell_type == "code" and len(cell.get("outputs", [])) > MAX_OUTPUTS:
            more = len(cell.outputs) - MAX_OUTPUTS
            cell.outputs = cell.outputs[:MAX_OUTPUTS] + [nbformat.v4.new_output(
                "stream", name="stdout", text=f"... ({more:,} more outputs not shown by the desk)\n")]
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if "text" in output:
                output["text"] = _cut(output["text"])
            for key in ("text/plain", "text/html", "text/markdown", "text/latex"):
                if isinstance(output.get("data"), dict) and key in output["data"]:
                    output["data"][key] = _cut(output["data"][key])
            data = output.get("data")
            if not isinstance(data, dict):
                continue
            data.pop("application/javascript", None)
            data.pop("application/vnd.jupyter.widget-view+json", None)
            svg = data.pop("image/svg+xml", None)
            if svg is not None and not any(k.startswith("image/") for k in data):
                text = svg if isinstance(svg, str) else "".join(svg)
                encoded = base64.b64encode(text.encode("utf-8")).decode("ascii")
                data["text/html"] = f'<img alt="SVG figure" src="data:image/svg+xml;base64,{encoded}">'
    return nb


def render_cells(nb: nbformat.NotebookNode, question: str | None = None, manual=()) -> list[RenderedCell]:
    """The cells of ``nb`` as sanitised HTML, with their question and answer flag.

    Args:
        nb: the notebook (nbformat v4), as submitted.
        question: render only this question's answer cells (the question view; faster),
            or None for every cell.
        manual: the manually graded questions, in notebook order (:func:`question_regions`).

    Returns:
        list[RenderedCell]: one per cell rendered, in order (``index`` 1-based, counting
        every cell of ``nb``).
    """
    from nbconvert import HTMLExporter

    regions = question_regions(nb, manual)
    wanted = set(regions[question][2]) if question in regions else (set() if question else set(range(len(nb.cells))))
    nonce = secrets.token_hex(8)
    prepared = _prepare(nb, nonce)
    prepared.cells = [c for i, c in enumerate(prepared.cells) if i in wanted]
    with _EXPORTER_LOCK:  # one exporter (its templates compiled once), one render at a time
        global _EXPORTER
        if _EXPORTER is None:
            _EXPORTER = HTMLExporter(template_name="basic", exclude_input_prompt=False)
            _EXPORTER.anchor_link_text = ""
        body, _ = _EXPORTER.from_notebook_node(prepared)
    marker = re.compile(r'<div\b[^>]*\bid="cell-id=gkdesk-' + nonce + r'-(\d+)"[^>]*>')
    pieces: dict[int, str] = {}
    matches = list(marker.finditer(body))
    for k, m in enumerate(matches):
        end = matches[k + 1].start() if k + 1 < len(matches) else len(body)
        pieces[int(m.group(1))] = body[m.end():end]
    owner: dict[int, tuple[str, bool]] = {}
    for q, (first, last, answers) in regions.items():
        for j in range(first, last + 1):
            owner[j] = (q, j in answers)
    return [RenderedCell(index=i + 1, cell_type=cell.cell_type, html=sanitize_html(pieces.get(i, "")), source=cell.source,
                         question=owner.get(i, (None, False))[0], answer=owner.get(i, (None, False))[1])
            for i, cell in enumerate(nb.cells) if i in wanted]
