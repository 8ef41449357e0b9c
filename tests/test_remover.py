"""The fork engine's remover of the children's working folders (``engine._Remover``,
issue 16): a working folder is the submission's to fill, so what it leaves there must
neither stop the remover nor lead it outside the folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from autograder.engines.fork.engine import _Remover

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fork engine runs on Linux")


def _deep(folder: Path, levels: int) -> Path:
    """Nest ``levels`` folders named ``d`` in ``folder`` (by file descriptor, as a child can with
    ``mkdir`` and ``chdir`` in a loop: the path is longer than ``PATH_MAX``); return ``folder``."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(levels):
            os.mkdir("d", dir_fd=fd)
            inner = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = inner
        os.symlink(folder.parent / "outside", "link", dir_fd=fd)  # at the bottom: reached by the second pass only
    finally:
        os.close(fd)
    return folder


def _outside(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("not the remover's")
    return outside


def test_a_folder_deeper_than_the_recursion_limit_is_removed_and_the_remover_goes_on(tmp_path):
    outside = _outside(tmp_path)
    levels = sys.getrecursionlimit() + 500
    try:
        probe = tmp_path / "probe"
        probe.mkdir()
        with pytest.raises(RecursionError):  # what the remover's thread died of
            shutil.rmtree(_deep(probe, levels), ignore_errors=True)
        deep, after = tmp_path / "deep", tmp_path / "after"
        deep.mkdir()
        after.mkdir()
        (after / "notebook.ipynb").write_text("{}")
        remover = _Remover()
        remover.remove(str(_deep(deep, levels)))
        remover.remove(str(after))  # handed over after the deep one: removed too
        remover.close()
        assert not deep.exists() and not after.exists()
        assert (outside / "keep.txt").read_text() == "not the remover's"
    finally:  # pytest's own clean-up of tmp_path is shutil.rmtree
        subprocess.run(["rm", "-rf", "--", str(tmp_path / "probe"), str(tmp_path / "deep")], check=False)


def test_links_in_a_folder_are_removed_not_followed(tmp_path):
    outside = _outside(tmp_path)
    folder = tmp_path / "work"
    (folder / "sub").mkdir(parents=True)
    (folder / "to-dir").symlink_to(outside)
    (folder / "sub" / "to-file").symlink_to(outside / "keep.txt")
    (folder / "sub" / "to-root").symlink_to("/")
    remover = _Remover()
    remover.remove(str(folder))
    remover.close()
    assert not folder.exists()
    assert sorted(p.name for p in outside.iterdir()) == ["keep.txt"]
    assert (outside / "keep.txt").read_text() == "not the remover's"


def test_a_remove_racing_a_close_neither_hangs_the_close_nor_loses_the_folder(tmp_path, monkeypatch):
    # close() hands its end marker to its own thread: a remove() while that thread is still
    # busy (a grading thread finishing) starts a new thread, which must not take the marker
    # (the old thread would then wait for folders forever and close() never return)
    from autograder.engines.fork import engine

    release, real = threading.Event(), engine._remove_tree

    def slow_first(folder: str) -> None:
        if folder.endswith("first"):
            release.wait(30)
        real(folder)

    monkeypatch.setattr(engine, "_remove_tree", slow_first)
    remover = _Remover()
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        (folder / "sub").mkdir(parents=True)
    remover.remove(str(first))  # its thread now busy with the first folder
    closing = threading.Thread(target=remover.close)
    closing.start()
    deadline = time.monotonic() + 30
    while remover._running is not None and time.monotonic() < deadline:  # close() has taken the thread
        time.sleep(0.01)
    remover.remove(str(second))
    time.sleep(0.2)  # the new thread at its queue
    release.set()
    closing.join(timeout=30)
    assert not closing.is_alive(), "close() never returned"
    remover.close()
    assert not first.exists() and not second.exists()
