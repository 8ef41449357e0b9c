"""The class the desk's tests grade: Canvas-named submissions (so the Canvas export can be
checked), one the screen flags, and a hostile notebook whose markdown and outputs carry
every kind of active content, each pointing at a local listener that records what a
browser asked of it (nothing may arrive)."""

from __future__ import annotations

import http.server
import shutil
import threading
from pathlib import Path

import nbformat

from instructor.batch import grade_batch
from instructor.samples import load_samples, write_samples

from .hostile import with_cell

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "assignments" / "autograd-basics" / "samples"
COLUMN = "Autograd Basics (12345)"
PATCH = "import torch\ntorch.allclose = lambda *args, **kwargs: True"

# label -> (sample notebook it copies, Canvas user id)
HONEST = "class/smithjohn_1234_5678_autograd-basics.ipynb"
ACCUMULATED = "class/doejane_2345_5679_autograd-basics.ipynb"
FLAGGED = "class/leeann_3456_5680_autograd-basics.ipynb"
HOSTILE = "class/hostilehank_4567_5681_autograd-basics.ipynb"
HOSTILE_NAME = "class/x\"><svg onload=window.gk_label=1><img src=x onerror=window.gk_label2=1>.ipynb"
"""A submission whose file name is markup: the label is shown (escaped) in every view."""
STUDENTS = {HONEST: ("Smith John", "1234"), ACCUMULATED: ("Doe Jane", "2345"), FLAGGED: ("Lee Ann", "3456"),
            HOSTILE: ("Hostile Hank", "4567")}


class Listener:
    """An HTTP server on 127.0.0.1 that records every path requested of it (``hits``)."""

    def __init__(self):
        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def _record(self):
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST = do_HEAD = _record

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def payloads(url: str, tag: str) -> str:
    """HTML with each kind of active content; every one would set a ``window.gk_*`` global
    or request ``url/<tag>-<kind>`` if it ran or loaded."""
    u = f"{url}/{tag}"
    return f"""
<script>window.gk_{tag}_script = 1; fetch("{u}-script");</script>
<img src="{u}-img" alt="remote image">
<img src="x-missing" onerror="window.gk_{tag}_onerror = 1; fetch('{u}-onerror')">
<a id="{tag}-jslink" href="javascript:window.gk_{tag}_js=1;fetch('{u}-js')">javascript link {tag}</a>
<svg xmlns="http://www.w3.org/2000/svg" onload="window.gk_{tag}_svgload=1"><script>window.gk_{tag}_svg = 1; fetch("{u}-svg");</script><image href="{u}-svgimage"/></svg>
<iframe src="{u}-iframe"></iframe>
<iframe srcdoc="&lt;script&gt;parent.gk_{tag}_srcdoc=1&lt;/script&gt;"></iframe>
<link rel="stylesheet" href="{u}-csslink">
<style>@import url("{u}-cssimport"); body {{ background: url("{u}-cssbg"); }}</style>
<div style="background-image: url('{u}-styleattr')">styled {tag}</div>
<meta http-equiv="refresh" content="0; url={u}-refresh">
<base href="{u}-base/">
<form action="{u}-form" method="get"><input name="q" value="1"><button id="{tag}-submit">Send {tag}</button></form>
<object data="{u}-object"></object><embed src="{u}-embed">
<video src="{u}-video" autoplay></video><audio src="{u}-audio" autoplay></audio>
<details open ontoggle="window.gk_{tag}_toggle = 1">details {tag}</details>
<body onload="window.gk_{tag}_bodyload = 1">
<input autofocus onfocus="window.gk_{tag}_focus = 1">
<svg><foreignObject><img src="x" onerror="window.gk_{tag}_foreign = 1; fetch('{u}-foreign')"></foreignObject></svg>
<math><mtext><table><mglyph><style><img src="x" onerror="window.gk_{tag}_mxss = 1"></style></mglyph></table></mtext></math>
<noscript><p title="</noscript><img src=x onerror=window.gk_{tag}_noscript=1>"></p></noscript>
<a id="{tag}-datalink" href="data:text/html,&lt;script&gt;window.gk_{tag}_data=1&lt;/script&gt;">data link {tag}</a>
<img src="data:image/png;base64,iVBORw0KGgo=" srcset="{u}-srcset 1x" alt="srcset {tag}">
<a id="{tag}-desklink" href="/submission?done=Cleared+by+the+instructor">desk link {tag}</a>
<div class="qtests tests done">fake panel {tag}</div>
"""


def write_hostile_notebook(solution: Path, dest: Path, url: str) -> Path:
    """The solution notebook (earns every point) with a markdown cell of payloads and
    payloads in a code cell's outputs (HTML, SVG, JavaScript, Markdown), as a submitted
    notebook would carry them."""
    nb = nbformat.read(solution, as_version=4)
    index = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip() == "import torch")
    nb.cells.insert(index, nbformat.v4.new_markdown_cell(
        "## Notes\n\n" + payloads(url, "md") + f"\n\n![markdown image]({url}/md-mdimage)\n\n[markdown js](javascript:window.gk_md_mdjs=1)\n"))
    code = nb.cells[index + 1]
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40" onload="window.gk_out_svgfile=1">'
           f'<script>window.gk_out_svgfile2 = 1; fetch("{url}/out-svgfile")</script>'
           f'<image href="{url}/out-svgfileimage" width="10" height="10"/><rect width="40" height="40" fill="red"/></svg>')
    code.outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": payloads(url, "out")}),
        nbformat.v4.new_output("display_data", data={"image/svg+xml": svg, "text/plain": "<Figure>"}),
        nbformat.v4.new_output("display_data", data={"application/javascript": f"window.gk_out_jsoutput = 1; fetch('{url}/out-jsoutput');",
                                                     "text/plain": "<IPython.core.display.Javascript object>"}),
        nbformat.v4.new_output("execute_result", data={"text/markdown": payloads(url, "mdout")}, execution_count=1),
        nbformat.v4.new_output("stream", name="stdout", text=f"<script>window.gk_stream=1</script><img src='{url}/stream-img'>\n"),
    ]
    code.execution_count = 1
    nbformat.write(nb, dest)
    return dest


def grade_desk_class(built, root: Path, listener_url: str) -> Path:
    """Grade the desk's class into ``root/out``; returns that folder."""
    samples = root / "samples"
    write_samples(built.student_notebook, load_samples(SAMPLES), samples)
    folder = root / "class"
    folder.mkdir(parents=True)
    shutil.copy(samples / "solution.ipynb", root / HONEST)
    shutil.copy(samples / "q3-accumulated.ipynb", root / ACCUMULATED)
    with_cell(samples / "solution.ipynb", "f2", PATCH, root / FLAGGED)
    write_hostile_notebook(samples / "solution.ipynb", root / HOSTILE, listener_url)
    shutil.copy(samples / "solution.ipynb", root / HOSTILE_NAME)
    out = root / "out"
    grade_batch(autograder_zip=built.autograder_zip, submissions=[folder], out_dir=out, jobs=2, progress=False)
    return out


def write_canvas_gradebook(path: Path) -> Path:
    """A Canvas gradebook export with one row per student of the class (assignment column empty)."""
    lines = ["Student,ID,SIS User ID,SIS Login ID,Section," + COLUMN, "    Points Possible,,,,,10.00"]
    lines += [f'"{name}",{uid},,,S1,' for name, uid in STUDENTS.values()]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path
