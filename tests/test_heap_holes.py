"""The zygote's filling of the C allocator's free chunks (:mod:`autograder.engines.fork.heap_holes`):
afterwards the bins hold (almost) nothing, so a forked child's small allocations come
from the top of the heap, not from holes in the zygote's pages; a second call finds
nothing to fill. (What the filling saves a child is measured, not asserted: README.) Run in a fresh interpreter (the chunks it takes are never freed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

SCRIPT = r"""
import ctypes, json, os
from autograder.engines import process
from autograder.engines.fork.heap_holes import _MallInfo2, fill_heap_holes

libc = process.libc()
libc.malloc.argtypes, libc.malloc.restype = [ctypes.c_size_t], ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
libc.mallinfo2.restype = _MallInfo2

def in_bins():
    info = libc.mallinfo2()
    return info.fordblks - info.keepcost

# holes: 20,000 chunks of several sizes, every other one freed (the survivors keep them apart)
chunks = [libc.malloc(size) for size in (40, 100, 200, 500) * 5000]
for chunk in chunks[::2]:
    libc.free(chunk)
holes = in_bins()
taken = fill_heap_holes()
after = in_bins()
again = fill_heap_holes()
print(json.dumps({"holes": holes, "taken": taken, "after": after, "again": again}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_the_free_chunks_are_filled_and_later_allocations_come_from_the_top():
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO, capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    found = json.loads(out.stdout)
    assert found["holes"] > 1_000_000  # the freed chunks are in the bins
    # 32 bytes counted per chunk; a chunk cut from a hole less than 64 bytes long takes all of it
    assert 0.5 * found["holes"] < found["taken"] <= found["holes"] + 8192
    assert found["after"] < 4096  # the bins hold almost nothing
    assert found["again"] == 0
