"""The grading desk in a real browser: headless Chromium from Debian's packages
(``/usr/bin/chromium``, driven by Playwright for Python; never a downloaded browser)
against ``gradkit serve`` started as a real process.

Where Chromium or Playwright is missing the tests skip with the reason; under CI (the
``CI`` environment variable set, as .ci/run runs) they fail instead. ``GRADKIT_CHROMIUM``
names another Chromium executable. Screenshots of each
view are written under the grading output folder the test works on
(``<tmp>/out/desk-screenshots/``; not committed).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
import pytest

from instructor.outputs import export_lms

from .desk_class import ACCUMULATED, COLUMN, FLAGGED, HONEST, HOSTILE, HOSTILE_NAME, STUDENTS, write_canvas_gradebook

CHROMIUM = Path(os.environ.get("GRADKIT_CHROMIUM", "/usr/bin/chromium"))


def _browser_missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "Playwright for Python is not installed (pip install -e '.[test]')"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    return None


if _browser_missing() and not os.environ.get("CI"):  # skip before the session's fixtures build and grade anything
    pytest.skip(_browser_missing(), allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    missing = _browser_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"the browser tests must run under CI: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM))
        yield chromium
        chromium.close()


@pytest.fixture
def served(desk_class, built, tmp_path):
    """``gradkit serve`` (a real process, any free port) over a copy of the graded class
    with a Canvas export made; yields (url with token, base address, folder)."""
    out = tmp_path / "out"
    shutil.copytree(desk_class, out)
    export_lms("canvas", source=write_canvas_gradebook(tmp_path / "canvas-export.csv"), column=COLUMN, grading_dir=out,
               out_csv=out / "canvas-import.csv")
    proc = subprocess.Popen([sys.executable, "-m", "instructor.cli", "serve", str(out), "--port", "0",
                             "--autograder", str(built.autograder_zip)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = None
        for line in proc.stdout:
            if "?token=" in line:
                url = line.strip()
                break
        assert url and url.startswith("http://127.0.0.1:"), f"gradkit serve printed no address (exit code {proc.poll()})"
        yield url, url.split("?", 1)[0], out
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        proc.stdout.close()


def _grades(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "grades.csv").iloc[1:].set_index("file")


def _canvas(out: Path, label: str) -> float:
    table = pd.read_csv(out / "canvas-import.csv", dtype=str).set_index("ID")
    return float(table.loc[STUDENTS[label][1], COLUMN])


def _shots(out: Path) -> Path:
    folder = out / "desk-screenshots"
    folder.mkdir(exist_ok=True)
    return folder


def test_click_through_review_clear_and_set_points(browser, served):
    url, base, out = served
    shots = _shots(out)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    assert _grades(out).loc[FLAGGED, "total_points_earned"] == 0 and _canvas(out, FLAGGED) == 0

    page.goto(url)
    assert page.url == base  # the token left the address bar (a cookie holds it)
    rows = page.locator("#class-table tbody tr")
    assert rows.count() == 5
    page.screenshot(path=str(shots / "class.png"), full_page=True)

    page.check("#f-needs-review")
    page.click("#apply-filters")
    assert "needs_review=1" in page.url
    assert [rows.nth(i).get_attribute("data-label") for i in range(rows.count())] == [FLAGGED]
    page.screenshot(path=str(shots / "class-needs-review.png"), full_page=True)

    page.click(f'tr[data-label="{FLAGGED}"] a.sub-link')
    assert page.locator("#review").inner_text().strip() == "needs review"
    flagged = page.locator(".cell.flagged")
    assert flagged.count() == 1
    assert "torch.allclose" in flagged.locator("li.hit").inner_text()
    assert page.locator("#tests-q3 table.cases tr").count() == 5  # header + q3's four test cases
    page.screenshot(path=str(shots / "submission-flagged.png"), full_page=True)

    page.fill("#review-note", "checked: a teaching demo")
    page.click("#btn-clear")
    assert "cleared" in page.locator("#done").inner_text()
    assert page.locator("#review").inner_text().startswith("cleared")
    assert _grades(out).loc[FLAGGED, "total_points_earned"] == 10
    assert _canvas(out, FLAGGED) == 10

    page.click("nav.top >> text=Class")
    page.click(f'tr[data-label="{ACCUMULATED}"] a.sub-link')
    assert _grades(out).loc[ACCUMULATED, "q3"] == 3.5 and _canvas(out, ACCUMULATED) == 8.5
    page.select_option("#set-question", "q3")
    page.fill("#set-points", "4.5")
    page.fill("#set-note", "regrade request: the step was right")
    page.click("#btn-set")
    assert "set q3" in page.locator("#done").inner_text()
    assert "set by hand" in page.locator("#tests-q3 h3").inner_text()
    assert _grades(out).loc[ACCUMULATED, "q3"] == 4.5
    assert _grades(out).loc[ACCUMULATED, "total_points_earned"] == 9.5
    assert _canvas(out, ACCUMULATED) == 9.5
    page.screenshot(path=str(shots / "submission-set.png"), full_page=True)

    page.click("nav.top >> text=q3")
    entries = page.locator("article.entry")
    assert entries.count() == 5
    assert "set by hand" in page.locator(f'article[data-label="{ACCUMULATED}"] h2').inner_text()
    assert page.locator(f'article[data-label="{ACCUMULATED}"] .cell.answer').count() >= 3
    page.screenshot(path=str(shots / "question-q3.png"), full_page=True)

    page.goto(base + "?" + urlencode({"overridden": "1"}))
    assert [rows.nth(i).get_attribute("data-label") for i in range(rows.count())] == [ACCUMULATED]
    # the desk's own pages need nothing the policy refuses (no error in the console)
    assert errors == []
    page.close()


def test_hostile_notebook_runs_and_loads_nothing(browser, served, desk_listener):
    url, base, out = served
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    # control: this browser does load a remote image from the listener when a page asks
    page.set_content(f'<img src="{desk_listener.url}/control-img">')
    page.wait_for_load_state("networkidle")
    assert "/control-img" in desk_listener.hits
    desk_listener.hits.clear()

    requested = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(url)
    target = base + "submission?" + urlencode({"label": HOSTILE})
    page.goto(target)
    page.wait_for_load_state("networkidle")
    assert page.locator("main > h1").inner_text() == HOSTILE
    for text in ("javascript link md", "javascript link out", "javascript link mdout", "Send md", "Send out", "details md"):
        page.get_by_text(text, exact=False).first.click()
    page.keyboard.press("Tab")
    page.mouse.move(400, 400)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(_shots(out) / "hostile.png"), full_page=True)

    assert page.url == target  # no meta refresh, no form submission, no javascript: navigation
    assert page.evaluate("Object.keys(window).filter(k => k.startsWith('gk_'))") == []
    assert page.evaluate("document.baseURI") == target  # no <base href> took effect
    selector = ", ".join(["script", "iframe", "object", "embed", "svg", "base", "meta[http-equiv]", "style", "video", "audio",
                          'form:not([action="/action"])', f'[src*="{desk_listener.url}"]', f'[href*="{desk_listener.url}"]'])
    assert page.evaluate("s => document.querySelectorAll(s).length", selector) == 0
    # the SVG figure is shown, as an image
    assert page.evaluate("""[...document.querySelectorAll('img[src^="data:image/svg+xml"]')].some(i => i.naturalWidth > 0)""")
    assert desk_listener.hits == []
    assert [r for r in requested if r.startswith(desk_listener.url) or not r.startswith(base) and not r.startswith("data:")] == []
    # nor from the question view, the class view, or a submission whose file name is markup
    for view in (base + "question/q1", base + "submission?" + urlencode({"label": HOSTILE_NAME}), base):
        page.goto(view)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("Object.keys(window).filter(k => k.startsWith('gk_'))") == []
    assert desk_listener.hits == []
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", base)
    assert HONEST in page.content()
    shown = page.evaluate("[...document.querySelectorAll('tr[data-label]')].map(t => [t.dataset.label, t.querySelector('a').innerText])")
    assert [HOSTILE_NAME, HOSTILE_NAME] in shown  # the markup in the file name is shown as text
    page.close()
