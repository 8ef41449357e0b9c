"""The hostile class of the batch-grading tests: submissions that hang, crash, flood,
allocate, ask for input, or are not notebooks at all. Shared by the batch test and the
engines' differential test."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import nbformat

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
