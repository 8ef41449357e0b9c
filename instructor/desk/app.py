"""The desk's web app (Starlette + Jinja2): the class, submission and question views, and
the one form endpoint that records decisions.

Pages (all ``GET``, read only): ``/`` the class view (filters and sort as query
parameters), ``/histogram.svg`` the score histogram (matplotlib, drawn on the server),
``/submission?label=LABEL`` one submission, ``/question/NAME`` one question across the
class. ``POST /action`` records a decision through the same functions as ``gradkit
review`` (:func:`instructor.review_decisions.review` for clear/reject/reopen; the override API
:mod:`instructor.overrides` for set/unset points and comments), which rewrite every
export, then redirects back (303). The security rules (token, CSRF, headers) are in
:mod:`instructor.desk.security`; everything from a submission is sanitised
(:mod:`instructor.desk.sanitize`) and Jinja2 escapes every other value (autoescape on).
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from pathlib import Path
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from autograder.points import points_possible
from autograder.submissions import Submission, SubmissionError, read_submission_notebook

from .. import overrides
from ..gradebook import GRADEBOOK_FILE, GradebookRow, sha256_bytes
from ..lock import FolderBusy
from ..review_decisions import ReviewError, review
from .model import (SORT_KEYS, ClassFilter, changed_overrides, filter_rows, findings_by_cell, overridden_questions, question_cases,
                    question_score, read_case_info, read_snapshot, score_text, sort_rows)
from .notebook import render_cells
from .sanitize import show_controls
from .security import DeskSecurity, check_csrf, new_token

__all__ = ["ACTIONS", "create_app"]

HERE = Path(__file__).resolve().parent
ACTIONS = ("clear", "reject", "reopen", "set", "unset", "confirm", "comment")
"""``action`` values of ``POST /action``."""


class _RenderCache:
    """Rendered notebooks by (path, member, file hash): a few dozen, least recently used dropped."""

    def __init__(self, size: int = 64):
        self.size, self.items, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key, make):
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        value = make()
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value


def create_app(out_dir: Path, *, token: str | None = None, autograder_zip: Path | None = None):
    """The desk over one grading folder, wrapped in its security middleware.

    Args:
        out_dir: a grading output folder (holding ``gradebook.sqlite``).
        token: the access token (a new random one if None); ``app.token`` holds it.
        autograder_zip: the autograder zip, for test-case names, points and public/hidden
            flags (optional).

    Returns:
        DeskSecurity: the ASGI app; attributes ``token``, ``csrf``, ``out_dir``.

    Raises:
        FileNotFoundError: no gradebook in ``out_dir``.
        ValueError: ``autograder_zip`` is not a zip.
    """
    out_dir = Path(out_dir).resolve()
    if not (out_dir / GRADEBOOK_FILE).is_file():
        raise FileNotFoundError(f"{out_dir}: no {GRADEBOOK_FILE} here; give the --out folder of `gradkit grade`")
    token = token or new_token()
    csrf = new_token()
    case_info = read_case_info(autograder_zip)
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters["shown"] = lambda value: show_controls(str(value))  # labels and names as text: no hidden reordering
    env.globals.update(Markup=Markup, score_text=score_text, question_score=question_score, csrf=csrf, folder=str(out_dir), urlencode=urlencode)
    cache = _RenderCache()

    def page(template: str, status: int = 200, **values) -> HTMLResponse:
        return HTMLResponse(env.get_template(template).render(**values), status_code=status)

    def notebook_view(row: GradebookRow, question: str | None = None, manual: tuple = ()):
        """(cells, problem): the rendered cells of a row's submission (only ``question``'s
        answer cells if given), or why they cannot be shown."""
        sub = Submission(Path(row.path), row.label, member=row.member)
        try:
            data = sub.read_bytes()
            current = sha256_bytes(data)
            cells = cache.get((row.path, row.member, current, question, manual),
                              lambda: render_cells(read_submission_notebook(sub), question, manual=manual))
        except (SubmissionError, OSError) as error:
            return [], f"The submission cannot be shown: {error}"
        changed = "" if current == row.file_sha256 else (
            f"{row.path} has changed since it was graded: this is the file as it is now; run gradkit grade again to grade it.")
        return cells, changed

    def class_view(request: Request):
        q = request.query_params
        snap = read_snapshot(out_dir)
        flt = ClassFilter(needs_review=q.get("needs_review") == "1", failed=q.get("failed", "") if q.get("failed") in snap.points else "",
                          incomplete=q.get("incomplete") == "1", overridden=q.get("overridden") == "1", text=q.get("q", "").strip())
        key = q.get("sort", "label")
        key = key if key in SORT_KEYS or key in snap.points else "label"
        rows = sort_rows(filter_rows(snap.rows, snap.points, flt), key, q.get("desc") == "1", questions=snap.points)
        params = {k: v for k, v in q.items() if k not in ("sort", "desc")}
        return page("class.html", rows=rows, points=snap.questions, manual=snap.manual, possible=points_possible(snap.points, snap.manual), flt=flt, sort=key,
                    desc=q.get("desc") == "1", params=params, total_count=len(snap.rows), overridden=overridden_questions, changed=changed_overrides,
                    pending=sum(r.needs_review for r in snap.rows))

    def histogram(request: Request):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        snap = read_snapshot(out_dir)
        possible = points_possible(snap.points, snap.manual) or 1.0
        fig, ax = plt.subplots(figsize=(6, 2.4))
        totals = [r.total for r in snap.rows]
        ax.hist(totals, bins=min(20, max(5, len(set(totals)))), range=(0, possible), color="#4c72b0")
        ax.set_xlabel("points")
        ax.set_ylabel("submissions")
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="svg")
        plt.close(fig)
        return Response(buffer.getvalue(), media_type="image/svg+xml")

    def submission_view(request: Request, message: str = "", error: str = "", status: int = 200):
        label = request.query_params.get("label", "")
        snap = read_snapshot(out_dir, label)
        row = next((r for r in snap.rows if r.label == label), None)
        if row is None:
            return page("error.html", status=404, message=f"No submission labelled {label!r} in {out_dir}.")
        history = overrides.history_text(snap.events)
        cells, problem = notebook_view(row, manual=tuple(snap.manual))
        by_cell, loose = findings_by_cell(row)
        for cell in cells:
            cell.findings = by_cell.get(cell.index, [])
        last_cell = {}
        for cell in cells:
            if cell.question:
                last_cell[cell.question] = cell.index
        tests = {qn: question_cases(row, qn, case_info) for qn in snap.questions}
        outputs = {t.get("name"): t.get("output", "") for t in row.results.get("tests", [])}
        return page("submission.html", status=status, row=row, cells=cells, problem=problem, loose=loose, points=snap.questions, manual=snap.manual,
                    tests=tests, outputs=outputs, last_cell=last_cell, events=snap.events, message=message or request.query_params.get("done", ""),
                    error=error, overrides=overridden_questions(row), changed=changed_overrides(row), history=history)

    def question_view(request: Request):
        name = request.path_params["name"]
        snap = read_snapshot(out_dir)
        if name not in snap.questions:
            return page("error.html", status=404, message=f"No question {name!r}; questions: {', '.join(snap.questions)}.")
        only_failed = request.query_params.get("failed") == "1"
        rows = filter_rows(snap.rows, snap.points, ClassFilter(failed=name)) if only_failed else snap.rows
        entries = []
        for row in rows:
            cells, problem = notebook_view(row, name, tuple(snap.manual))
            entries.append({"row": row, "cells": cells, "problem": problem,
                            "cases": question_cases(row, name, case_info),
                            "output": next((t.get("output", "") for t in row.results.get("tests", []) if t.get("name") == name), ""),
                            "override": overridden_questions(row).get(name)})
        return page("question.html", name=name, possible=snap.questions[name], entries=entries, points=snap.questions, only_failed=only_failed,
                    manual=snap.manual)

    async def action(request: Request):
        form = await request.form()
        if not check_csrf(csrf, form.get("csrf")):
            return page("error.html", status=403, message="The form's CSRF token is missing or wrong: reload the page and try again.")
        label, verb = str(form.get("label", "")), str(form.get("action", ""))
        note, question = str(form.get("note", "")), str(form.get("question", ""))
        try:
            done = await run_in_threadpool(_act, out_dir, verb, label, question, note, form)
        except (ReviewError, ValueError, KeyError, FolderBusy) as error:  # the API's one-line errors
            request.scope["query_string"] = urlencode({"label": label}).encode()
            said = f"{verb}: {error}"
            return await run_in_threadpool(lambda: submission_view(Request(request.scope), error=said, status=400))
        return RedirectResponse("/submission?" + urlencode({"label": label, "done": done}), status_code=303)

    routes = [
        Route("/", class_view, methods=["GET"]),
        Route("/histogram.svg", histogram, methods=["GET"]),
        Route("/submission", submission_view, methods=["GET"]),
        Route("/question/{name}", question_view, methods=["GET"]),
        Route("/action", action, methods=["POST"]),
        Route("/favicon.ico", lambda request: Response(status_code=204), methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]
    inner = Starlette(routes=routes)
    app = DeskSecurity(inner, token)
    app.csrf, app.out_dir = csrf, out_dir
    return app


def _act(out_dir: Path, verb: str, label: str, question: str, note: str, form) -> str:
    """Record one decision through the CLI's functions; returns what was done (one line).

    Raises:
        ValueError: an unknown action or a malformed number; the API's own errors pass through.
    """
    if verb in ("clear", "reject", "reopen"):
        review(out_dir=out_dir, **{verb: (label,)}, note=note)
        return {"clear": "cleared", "reject": "rejected", "reopen": "reopened"}[verb] + f" {label}"
    if verb not in ACTIONS:
        raise ValueError(f"unknown action {verb!r}")
    if verb == "set":
        try:
            points = float(str(form.get("points", "")).strip())
        except ValueError:
            raise ValueError(f"points must be a number, not {form.get('points')!r}") from None
        overrides.set_points(out_dir=out_dir, label=label, question=question, points=points, note=note)
        return f"set {question} of {label} to {points:g} points"
    if verb == "confirm":
        overrides.confirm_override(out_dir=out_dir, label=label, question=question, note=note)
        return f"confirmed the hand-set points of {question} of {label} on the changed submission"
    if verb == "unset":
        overrides.unset_points(out_dir=out_dir, label=label, question=question, note=note)
        return f"removed the override of {question} of {label}"
    text = str(form.get("text", "")).strip()
    overrides.add_comment(out_dir=out_dir, label=label, question=question, text=text)
    return f"added a comment on {question} of {label}"
