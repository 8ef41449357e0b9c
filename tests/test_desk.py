"""The grading desk without a browser: its access rules (token, CSRF, methods, headers)
against a real server over HTTP, the sanitiser and the notebook rendering on the hostile
notebook, the class view's filters, and decisions that rewrite grades.csv and the Canvas
import. The same flows in a real browser: tests/test_desk_browser.py."""

from __future__ import annotations

import http.client
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import nbformat
import pandas as pd
import pytest

from instructor.desk import start_desk
from instructor.desk.model import ClassFilter, filter_rows, question_cases, read_case_info, read_snapshot, sort_rows
from instructor.desk.notebook import question_regions, render_cells
from instructor.desk.sanitize import sanitize_html
from instructor.desk.security import CSP
from instructor.outputs import export_lms

from .desk_class import ACCUMULATED, COLUMN, FLAGGED, HONEST, HOSTILE, STUDENTS, payloads, write_canvas_gradebook


class Client:
    """A plain HTTP client that does not follow redirects and keeps the desk's cookie."""

    def __init__(self, base: str):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.cookie = ""

    def request(self, method: str, path: str, body: dict | None = None, cookie: bool = True, headers: dict | None = None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        headers = {**({"Cookie": self.cookie} if cookie and self.cookie else {}), **(headers or {})}
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        conn.close()
        cookie_header = response.getheader("Set-Cookie")
        if cookie_header:
            self.cookie = cookie_header.split(";", 1)[0]
        return response, text


@pytest.fixture
def desk(desk_class, built, tmp_path):
    """A desk over a copy of the graded class (with a Canvas export made), served in a thread."""
    out = tmp_path / "out"
    shutil.copytree(desk_class, out)
    canvas = write_canvas_gradebook(tmp_path / "canvas-export.csv")
    export_lms("canvas", source=canvas, column=COLUMN, grading_dir=out, out_csv=out / "canvas-import.csv")
    server = start_desk(out, port=0, quiet=True, autograder_zip=built.autograder_zip).start()
    yield server, out
    server.stop()


def _grades(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "grades.csv").iloc[1:].set_index("file")


def _row(out: Path, label: str):
    """The gradebook row of ``label`` in the grading folder ``out``."""
    return next(r for r in read_snapshot(out).rows if r.label == label)


@contextmanager
def _changed_submission(out: Path, label: str, cell) -> Iterator[Path]:
    """``label``'s submission file with ``cell`` appended, for the block; yields its path.
    The original bytes are put back afterwards (also when the block removed the file)."""
    path = Path(_row(out, label).path)
    original = path.read_bytes()
    nb = nbformat.reads(original.decode(), as_version=4)
    nb.cells.append(cell)
    try:
        nbformat.write(nb, path)
        yield path
    finally:
        path.write_bytes(original)


def _canvas(out: Path) -> dict[str, str]:
    table = pd.read_csv(out / "canvas-import.csv", dtype=str).set_index("ID")
    return {uid: table.loc[uid, COLUMN] for _, uid in STUDENTS.values()}


def test_every_page_needs_the_token_and_every_response_carries_the_csp(desk):
    server, _ = desk
    client = Client(server.base)
    for path in ["/", "/submission?" + urlencode({"label": HONEST}), "/question/q1", "/histogram.svg", "/static/desk.css"]:
        response, text = client.request("GET", path)
        assert response.status == 403, path
        assert "token" in text
        assert response.getheader("Content-Security-Policy") == CSP
    response, _ = client.request("GET", "/?token=" + "0" * 48)
    assert response.status == 403 and not client.cookie
    # the right token: a cookie (HttpOnly, SameSite=Strict) and a redirect to the address without it
    response, _ = client.request("GET", f"/?token={server.token}&sort=total")
    assert response.status == 303 and response.getheader("Location") == "/?sort=total"
    set_cookie = response.getheader("Set-Cookie")
    assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie and server.token in set_cookie
    response, _ = client.request("GET", f"//evil.example/?token={server.token}", cookie=False)
    assert response.status == 303 and response.getheader("Location") == "/evil.example/"  # never another host
    response, text = client.request("GET", "/?sort=total")
    assert response.status == 200 and HONEST in text
    assert response.getheader("Content-Security-Policy") == CSP
    assert "script-src 'none'" in CSP and "default-src 'none'" in CSP and "base-uri 'none'" in CSP and "form-action 'self'" in CSP
    assert response.getheader("X-Content-Type-Options") == "nosniff" and response.getheader("Referrer-Policy") == "no-referrer"
    assert "<script" not in text.lower()
    for path in ["/submission?" + urlencode({"label": HOSTILE}), "/question/q1", "/histogram.svg", "/static/desk.css"]:
        response, _ = client.request("GET", path)
        assert response.status == 200, path


def test_state_changes_need_post_and_the_csrf_token(desk):
    server, out = desk
    client = Client(server.base)
    client.request("GET", f"/?token={server.token}")
    before = (out / "grades.csv").read_text()
    form = {"label": FLAGGED, "action": "clear"}
    response, _ = client.request("POST", "/action", form)
    assert response.status == 403  # no CSRF token
    response, _ = client.request("POST", "/action", {**form, "csrf": "0" * 48})
    assert response.status == 403  # a wrong one
    response, _ = client.request("POST", "/action", {**form, "csrf": server.app.csrf}, cookie=False)
    assert response.status == 403  # the CSRF token without the access cookie
    for method in ("GET", "PUT", "DELETE"):
        response, _ = client.request(method, "/action?" + urlencode({**form, "csrf": server.app.csrf}))
        assert response.status == 405, method
    assert (out / "grades.csv").read_text() == before
    # the page's own form carries the token
    _, page = client.request("GET", "/submission?" + urlencode({"label": FLAGGED}))
    assert re.search(r'name="csrf" value="' + server.app.csrf + '"', page)
    response, _ = client.request("POST", "/action", {**form, "csrf": server.app.csrf, "note": "allowed"})
    assert response.status == 303 and response.getheader("Location").startswith("/submission?")
    assert _grades(out).loc[FLAGGED, "total_points_earned"] == 10


def test_decisions_rewrite_grades_and_the_canvas_import(desk):
    server, out = desk
    client = Client(server.base)
    client.request("GET", f"/?token={server.token}")
    assert _canvas(out)[STUDENTS[FLAGGED][1]] in ("0", "0.0")
    csrf = server.app.csrf
    client.request("POST", "/action", {"csrf": csrf, "label": FLAGGED, "action": "clear"})
    assert _canvas(out)[STUDENTS[FLAGGED][1]] in ("10", "10.0")
    response, _ = client.request("POST", "/action", {"csrf": csrf, "label": ACCUMULATED, "action": "set", "question": "q3",
                                                     "points": "4.5", "note": "regrade request: fair"})
    assert response.status == 303
    assert _grades(out).loc[ACCUMULATED, "q3"] == 4.5 and _grades(out).loc[ACCUMULATED, "total_points_earned"] == 9.5
    assert float(_canvas(out)[STUDENTS[ACCUMULATED][1]]) == 9.5
    _, page = client.request("GET", "/submission?" + urlencode({"label": ACCUMULATED}))
    assert "set by hand" in page and "regrade request: fair" in page
    # out of range: refused with the API's message, nothing written
    response, page = client.request("POST", "/action", {"csrf": csrf, "label": ACCUMULATED, "action": "set", "question": "q3", "points": "7"})
    assert response.status == 400 and "between 0 and 5" in page
    assert _grades(out).loc[ACCUMULATED, "q3"] == 4.5
    response, _ = client.request("POST", "/action", {"csrf": csrf, "label": ACCUMULATED, "action": "comment", "question": "q3",
                                                     "text": "<b>see</b> the lecture notes"})
    assert response.status == 303
    _, page = client.request("GET", "/submission?" + urlencode({"label": ACCUMULATED}))
    assert "&lt;b&gt;see&lt;/b&gt; the lecture notes" in page  # escaped, not markup
    client.request("POST", "/action", {"csrf": csrf, "label": ACCUMULATED, "action": "unset", "question": "q3"})
    assert _grades(out).loc[ACCUMULATED, "q3"] == 3.5
    # an unknown label names it
    response, page = client.request("POST", "/action", {"csrf": csrf, "label": "class/nobody.ipynb", "action": "clear"})
    assert response.status in (400, 404) and "nobody.ipynb" in page


def test_host_origin_and_the_token_redirect_refuse_what_another_site_sends(desk):
    """DNS rebinding (a Host naming another machine), a form posted from another site (its
    Origin or Sec-Fetch-Site), and a token address whose path is not Latin-1 or carries CR LF."""
    server, out = desk
    client = Client(server.base)
    client.request("GET", f"/?token={server.token}")
    port = urlsplit(server.base).port
    for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1.evil.example:{port}", f"10.0.0.1:{port}"):
        response, text = client.request("GET", "/", headers={"Host": host})
        assert response.status == 403 and "Host" in text, host
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", "LOCALHOST."):
        response, _ = client.request("GET", "/", headers={"Host": host})
        assert response.status == 200, host
    before = (out / "grades.csv").read_text()
    form = {"label": FLAGGED, "action": "clear", "csrf": server.app.csrf}
    for headers in ({"Origin": "http://evil.example"}, {"Origin": f"http://127.0.0.1:{port + 1}"}, {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
                    {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}):
        response, _ = client.request("POST", "/action", form, headers=headers)
        assert response.status == 403, headers
    assert (out / "grades.csv").read_text() == before
    # as Chromium posts the desk's own form under Referrer-Policy: no-referrer
    response, _ = client.request("POST", "/action", form, headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"})
    assert response.status == 303
    for path, location in (("/%E4%B8%AD", "/%E4%B8%AD"), ("/a%0d%0aSet-Cookie:%20x=1", "/a%0D%0ASet-Cookie%3A%20x%3D1"),
                           ("/%5C%5Cevil.example/", "/evil.example/")):
        response, _ = client.request("GET", f"{path}?token={server.token}", cookie=False)
        assert response.status == 303 and response.getheader("Location") == location, path


def test_submission_html_cannot_dress_as_the_desk_or_link_into_it():
    """Class names of the desk's own page parts, relative links into the desk (whose
    ``done`` message would show the student's words) and hidden direction controls."""
    from instructor.desk.sanitize import DESK_CLASSES, show_controls

    assert {"tests", "qtests", "cases", "pass", "done", "error", "warning", "findings", "hand"} <= DESK_CLASSES
    fake = sanitize_html('<div class="qtests tests"><table class="cases"><tr class="pass"><td>q3 passed</td></tr></table></div>'
                         '<p class="done">cleared</p><span class="k highlight prompt output_area">x</span>')
    assert "class=" in fake and not any(re.search(rf'class="[^"]*\b{name}\b', fake) for name in DESK_CLASSES), fake
    assert 'class="k highlight prompt output_area"' in fake  # nbconvert's and Pygments' classes stay
    for href in ("/submission?label=x&done=Cleared+by+the+instructor", "action", "//evil.example/x", "./x", "?done=x",
                 "data:text/html,x", " javascript:x", "vbscript:x"):
        assert "href" not in sanitize_html(f'<a href="{href}">x</a>'), href
    for href in ("#section-2", "https://pytorch.org/docs", "http://x.example/", "mailto:ta@example.org"):
        assert f'href="{href}"' in sanitize_html(f'<a href="{href}">x</a>'), href
    assert "\u202e" not in sanitize_html("<p>smith\u202egpj.exe</p>") and "&lt;U+202E&gt;" in sanitize_html("<p>a\u202eb</p>")
    assert show_controls("lee\u2066ann\u200b.ipynb") == "lee<U+2066>ann<U+200B>.ipynb"


def test_the_sanitiser_removes_every_payload():
    url = "http://127.0.0.1:9"
    clean = sanitize_html(payloads(url, "x")).lower()
    for banned in ("<script", "onerror", "onload", "ontoggle", "onfocus", "javascript:", "<svg", "<iframe", "srcdoc", "<link",
                   "<style", "style=", "<meta", "<base", "<form", "<input", "<button", "<object", "<embed", "<video",
                   "<audio", "<body", url, "href=\"/submission", "qtests", "srcset=", "data:text/html", "<noscript", "<math"):
        assert banned not in clean, banned
    assert "javascript link x" in clean and "styled x" in clean and "fake panel x" in clean  # the text stays
    kept = sanitize_html('<a href="https://pytorch.org/docs">docs</a><img src="data:image/png;base64,iVBORw0KGgo=" alt="fig">')
    assert 'href="https://pytorch.org/docs"' in kept and 'rel="noopener noreferrer"' in kept and 'src="data:image/png;base64,' in kept
    assert sanitize_html('<a href="data:text/html,<script>alert(1)</script>">x</a>') == '<a rel="noopener noreferrer">x</a>'


def test_the_hostile_notebook_renders_without_active_content(desk_class, desk_listener):
    row = _row(desk_class, HOSTILE)
    cells = render_cells(nbformat.read(row.path, as_version=4))
    html = "\n".join(c.html for c in cells).lower()
    for banned in ("<script", "onerror", "onload", "javascript:", "<svg", "<iframe", "<link", "<style", "<meta", "<base",
                   "<form", "<object", "<embed"):
        assert banned not in html, banned
    # the listener's address appears only as text (a stream printed it), never in an attribute
    assert not re.search(r"""<[^>]*=\s*["']?""" + re.escape(desk_listener.url), html)
    assert "&lt;img src='" + desk_listener.url in html
    # the SVG figure stays visible, as an image (no script runs in an <img>)
    assert 'src="data:image/svg+xml;base64,' in html
    assert "javascript link md" in html and "javascript link out" in html
    assert row.total == 10


def test_question_regions_and_test_cases(desk_class, built):
    row = _row(desk_class, ACCUMULATED)
    nb = nbformat.read(row.path, as_version=4)
    regions = question_regions(nb)
    assert list(regions) == ["q1", "q2", "q3"]
    for q, (first, check, answers) in regions.items():
        assert f'grader.check("{q}")' in nb.cells[check].source
        assert answers and all(first <= a < check for a in answers)
    assert "def f1(" in nb.cells[regions["q1"][2][0]].source
    assert [len(regions[q][2]) for q in regions] == [1, 1, 3]
    # a notebook that lost its cell tags (another tool saved it): the region's own code cells
    for cell in nb.cells:
        cell.metadata.pop("tags", None)
    untagged = question_regions(nb)
    assert all(set(regions[q][2]) <= set(untagged[q][2]) for q in regions)  # every answer cell still found
    assert untagged["q1"][2] and all("gradkit_checks.record" not in nb.cells[j].source for q in untagged for j in untagged[q][2])
    assert any("def f1(" in nb.cells[j].source for j in untagged["q1"][2])
    cases = question_cases(row, "q3", read_case_info(built.autograder_zip))
    assert [(c.name, c.visibility, c.passed) for c in cases] == [
        ("test_q3_public", "public", True), ("test_q3_gradients", "hidden", False),
        ("test_q3_sgd_step", "hidden", True), ("test_q3_linear_grads", "hidden", True)]
    assert "2 times too large" in cases[1].message
    # without the zip: otter's numbering, public where the Public Tests entry says so
    assert [c.name for c in question_cases(row, "q3")] == ["q3 - 1", "q3 - 2", "q3 - 3", "q3 - 4"]


def test_class_filters_and_sort(desk_class):
    snap = read_snapshot(desk_class)
    labels = lambda rows: [r.label for r in rows]  # noqa: E731
    assert labels(filter_rows(snap.rows, snap.points, ClassFilter(needs_review=True))) == [FLAGGED]
    assert labels(filter_rows(snap.rows, snap.points, ClassFilter(failed="q3"))) == [ACCUMULATED]
    assert labels(filter_rows(snap.rows, snap.points, ClassFilter(incomplete=True))) == []
    assert labels(filter_rows(snap.rows, snap.points, ClassFilter(text="DOEJANE"))) == [ACCUMULATED]
    assert labels(sort_rows(snap.rows, "total"))[:1] == [FLAGGED]
    assert labels(sort_rows(snap.rows, "q3", descending=True))[-1] == FLAGGED
    with pytest.raises(ValueError, match="unknown sort key"):
        sort_rows(snap.rows, "nonsense")


def test_a_moved_or_changed_submission_file_is_said_so(desk):
    server, out = desk
    client = Client(server.base)
    client.request("GET", f"/?token={server.token}")
    with _changed_submission(out, HONEST, nbformat.v4.new_markdown_cell("added after grading")) as path:
        response, page = client.request("GET", "/submission?" + urlencode({"label": HONEST}))
        assert response.status == 200 and "has changed since it was graded" in page and "added after grading" in page
        path.unlink()
        response, page = client.request("GET", "/submission?" + urlencode({"label": HONEST}))
        assert response.status == 200 and "cannot be shown" in page and HONEST in page
        response, page = client.request("GET", "/question/q1")
        assert response.status == 200 and "cannot be shown" in page
    response, page = client.request("GET", "/submission?" + urlencode({"label": "class/nobody.ipynb"}))
    assert response.status == 404 and "nobody.ipynb" in page
    response, page = client.request("GET", "/question/q9")
    assert response.status == 404 and "q1, q2, q3" in page


def test_serve_usage_errors_are_one_line(desk_class, tmp_path):
    import socket

    from click.testing import CliRunner

    from instructor.cli import main as cli

    result = CliRunner().invoke(cli, ["serve", str(tmp_path)], standalone_mode=True)
    assert result.exit_code == 2 and "no gradebook.sqlite here" in result.output
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        result = CliRunner().invoke(cli, ["serve", str(desk_class), "--port", str(taken.getsockname()[1])])
        assert result.exit_code == 2 and "cannot listen there" in result.output
    finally:
        taken.close()


def test_an_override_on_a_changed_submission_is_shown_and_confirmed(desk, built):
    from instructor.batch import grade_batch

    server, out = desk
    client = Client(server.base)
    client.request("GET", f"/?token={server.token}")
    csrf = server.app.csrf
    client.request("POST", "/action", {"csrf": csrf, "label": HONEST, "action": "set", "question": "q1", "points": "1.5"})
    with _changed_submission(out, HONEST, nbformat.v4.new_code_cell("print('a cell added after the override')")) as path:
        grade_batch(autograder_zip=built.autograder_zip, submissions=[path.parent], out_dir=out, jobs=1, progress=False)
    _, page = client.request("GET", "/?" + urlencode({"overridden": "1"}))
    assert "override on a changed submission: q1" in page
    _, page = client.request("GET", "/submission?" + urlencode({"label": HONEST}))
    assert 'id="btn-confirm"' in page and "override on a changed submission" in page
    response, _ = client.request("POST", "/action", {"csrf": csrf, "label": HONEST, "action": "confirm", "question": "q1",
                                                     "note": "the change does not touch q1"})
    assert response.status == 303
    _, page = client.request("GET", "/submission?" + urlencode({"label": HONEST}))
    assert 'id="btn-confirm"' not in page
    assert _grades(out).loc[HONEST, "q1"] == 1.5


def test_a_check_call_inside_an_answer_does_not_move_a_question(built):
    """``grader.check("q3")`` in a comment, a string or next to other code in an answer cell
    is not a question's end: the regions stay those of the notebook as built."""
    nb = nbformat.read(built.student_notebook, as_version=4)
    expected = question_regions(nb)
    assert list(expected) == ["q1", "q2", "q3"]
    hostile = nbformat.read(built.student_notebook, as_version=4)
    q1_answer, q2_answer = expected["q1"][2][0], expected["q2"][2][0]
    hostile.cells[q1_answer].source += '\n# grader.check("q3")'
    hostile.cells[q2_answer].source += '\nprint("grader.check(\'q3\')")\ngrader.check("q3"); x = 1'
    assert question_regions(hostile) == expected
    # a cell holding only the call (and a comment) is one, as Otter writes it
    hostile.cells[expected["q1"][1]].source = '# run the tests\ngrader.check( "q1" )\n'
    assert question_regions(hostile) == expected


def test_huge_outputs_are_cut_with_a_note(built):
    """A submission printing megabytes, or thousands of outputs, gives a page of bounded size
    that says what was left out."""
    from instructor.desk.notebook import MAX_OUTPUT_CHARS, MAX_OUTPUTS

    nb = nbformat.read(built.solution_notebook, as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="A" * (50 * MAX_OUTPUT_CHARS)),
                    nbformat.v4.new_output("display_data", data={"text/html": "<b>x</b>" * MAX_OUTPUT_CHARS, "text/plain": "x"})]
    html = "\n".join(c.html for c in render_cells(nb))
    assert len(html) < 40 * MAX_OUTPUT_CHARS and html.count("more characters not shown by the desk") == 2
    code.outputs = [nbformat.v4.new_output("display_data", data={"text/plain": f"line {i}"}) for i in range(MAX_OUTPUTS + 50)]
    html = "\n".join(c.html for c in render_cells(nb))
    assert f"line {MAX_OUTPUTS - 1}" in html and f"line {MAX_OUTPUTS}<" not in html and "50 more outputs not shown by the desk" in html


def test_a_label_with_hidden_direction_controls_is_shown_as_written(desk):
    """A file name with U+202E (right-to-left override) cannot show reordered text in the
    class, submission or question view; forms still carry the real label."""
    from instructor.gradebook import Gradebook

    server, out = desk
    label = "class/smith\u202ebnypi.exe_john.ipynb"
    with Gradebook(out) as book:
        row = next(r for r in book.rows() if r.label == HONEST)
        book.relabel(HONEST, label, path=row.path, member=row.member)
    client = Client(server.base)
    client.request("GET", f"/?token={server.token}")
    for path in ("/", "/submission?" + urlencode({"label": label}), "/question/q1"):
        response, page = client.request("GET", path)
        assert response.status == 200 and "smith<U+202E>bnypi" in page.replace("&lt;", "<").replace("&gt;", ">"), path
        visible = re.sub(r'value="[^"]*"|data-label="[^"]*"|href="[^"]*"', "", page)
        assert "\u202e" not in visible, path
    _, page = client.request("GET", "/submission?" + urlencode({"label": label}))
    assert f'name="label" value="{label}"' in page
