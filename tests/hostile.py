"""The hostile class of the batch-grading tests: submissions that hang, crash, flood,
allocate, ask for input, or are not notebooks at all. Shared by the batch test and the
engines' differential test: :func:`grade_hostile_class` grades it once with ``gradkit
grade`` (the fork engine) for both (the ``hostile_graded`` fixture of tests/conftest.py)."""

from __future__ import annotations

import shutil
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
import psutil

# file name -> (answer after which the extra cell goes, its code)
HOSTILE_CELLS = {
    # after q2: q1 and q2 are graded, q3's cells are never reached when the process dies
    "loop.ipynb": ("f2", "while True:\n    pass"),
    "stubborn.ipynb": ("f2", "import time\nwhile True:\n    try:\n        time.sleep(0.05)\n    except KeyboardInterrupt:\n        pass"),
    "ask.ipynb": ("f1", "name = input('your name? ')"),
    "exit.ipynb": ("f2", "import os\nos._exit(1)"),
    "segfault.ipynb": ("f2", "import ctypes\nctypes.string_at(0)"),
    "bigalloc.ipynb": ("f1", "import torch\nbig = torch.ones(3_000_000_000, dtype=torch.float64)"),
    "flood.ipynb": ("f1", "for _ in range(50_000):\n    print('y' * 1000)"),
}


def with_cell(solution: Path, after: str, code: str, dest: Path) -> Path:
    """The solution notebook with one extra code cell after the answer cell defining ``after``."""
    nb = nbformat.read(solution, as_version=4)
    index = next(i for i, c in enumerate(nb.cells) if f"def {after}(" in c.source or f"{after} = " in c.source)
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell(code))
    nbformat.write(nb, dest)
    return dest


def write_hostile_class(samples_dir: Path, dest: Path) -> Path:
    """Write the hostile class into ``dest`` (created) from the bundled samples' notebooks.

    Returns:
        Path: ``dest``, holding 13 submissions and one file that is not a submission.
    """
    solution = samples_dir / "solution.ipynb"
    dest.mkdir(parents=True, exist_ok=True)
    for name, (after, code) in HOSTILE_CELLS.items():
        with_cell(solution, after, code, dest / name)
    (dest / "corrupt.ipynb").write_bytes(b'{"cells": [{"cell_type": "code", "sou')
    (dest / "page.ipynb").write_text("<!DOCTYPE html><html><body>Sign in</body></html>", encoding="utf-8")
    with zipfile.ZipFile(dest / "empty.zip", "w") as z:
        z.writestr("__MACOSX/._x.ipynb", b"junk")
        z.writestr("readme.txt", "no notebook")
    with zipfile.ZipFile(dest / "two.zip", "w") as z:
        z.write(solution, "a.ipynb")
        z.write(solution, "b.ipynb")
    # a Canvas-named duplicate attempt: the resubmission (-1) is the one that counts
    shutil.copy(solution, dest / "smithjohn_1234_5678_autograd-basics.ipynb")
    shutil.copy(samples_dir / "q3-accumulated.ipynb", dest / "smithjohn_1234_5679_autograd-basics-1.ipynb")
    (dest / "notes.txt").write_text("not a submission")
    return dest


GRADE_OPTIONS = ("--jobs", "2", "--timeout", "60", "--cell-timeout", "20", "--memory-mb", "4096")
"""The ``gradkit grade`` options of the hostile run (the differential test grades the class
with the otter engine under the same limits). The cell timeout leaves room for the otter
engine's kernel importing torch in a cell while the other xdist worker loads the cores
(at 8 s that cell was interrupted on a loaded machine)."""


@dataclass(frozen=True)
class HostileRun:
    """The hostile class graded by ``gradkit grade`` (:func:`grade_hostile_class`).

    Attributes:
        exit_code: the command's exit code.
        output: what it printed.
        out: its grading output folder (``grades.csv``, ``gradebook.sqlite``, ...).
        outlived: command lines of this process's descendants that were started by the run
            and still ran 1 s after it returned.
        marked: command lines of any process on the machine whose command line names the
            run's folder (a submission's process that left the grader's tree).
    """

    exit_code: int
    output: str
    out: Path
    outlived: list[list[str]]
    marked: list[list[str]]


def _naming(marker: str) -> list[list[str]]:
    """Command lines of the processes whose command line contains ``marker``."""
    found = []
    for p in psutil.process_iter(["cmdline"]):
        try:
            if any(marker in part for part in (p.info["cmdline"] or [])):
                found.append(list(p.info["cmdline"]))
        except psutil.Error:
            continue
    return found


def _descendants() -> dict[int, list[str]]:
    found = {}
    for p in psutil.Process().children(recursive=True):
        try:
            found[p.pid] = p.cmdline()
        except psutil.Error:
            continue
    return found


def grade_hostile_class(autograder_zip: Path, samples_dir: Path, root: Path) -> HostileRun:
    """Write the hostile class into ``root/class`` (:func:`write_hostile_class`) and grade it
    with ``gradkit grade`` (:data:`GRADE_OPTIONS`, the fork engine) into ``root/out``.

    Args:
        autograder_zip: the built assignment's zip.
        samples_dir: the bundled samples written as notebooks (``solution.ipynb``, ``q3-accumulated.ipynb``).
        root: a folder of its own (created); its path marks the run's processes.

    Returns:
        HostileRun: what the command said and did, and the processes it left (checked 1 s after).
    """
    from click.testing import CliRunner

    from instructor.cli import main as cli

    subs = write_hostile_class(samples_dir, root / "class")
    out = root / "out"
    before = _descendants()
    result = CliRunner().invoke(cli, ["grade", "--autograder", str(autograder_zip), "--out", str(out), *GRADE_OPTIONS, str(subs)])
    time.sleep(1)
    outlived = [cmdline for pid, cmdline in _descendants().items() if pid not in before]
    return HostileRun(result.exit_code, result.output, out, outlived, _naming(str(root)))
