"""The fork engine's remover of the children's working folders (``engine._Remover``,
issue 16): a working folder is the submission's to fill, so what it leaves there must
neither stop the remover nor lead it outside the folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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
