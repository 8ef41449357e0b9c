"""A fork job server imports gradkit's own support modules once for all its children
(issue 16, ``zygote._preload_support``): always exactly the job's copies, so a child sees
the same modules as if it had imported the job's files itself."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from autograder import shipped
from autograder.engines.fork import protocol, zygote

NAMES = (shipped.CHECKS, shipped.REFERENCE)


def _job(workdir: Path, support: list[str]) -> protocol.Job:
    return protocol.Job(workdir=str(workdir), cells=[], stop_before=None, token="t", cell_timeout=1.0, memory_mb=100,
                        output_bytes=10, seed=None, seed_variable=None, read_roots=[], support_modules=support)


def _folder(root: Path, name: str, checks_extra: str = "") -> Path:
    folder = root / name
    folder.mkdir()
    (folder / shipped.file_name(shipped.CHECKS)).write_text(shipped.source(shipped.CHECKS).read_text() + checks_extra)
    (folder / shipped.file_name(shipped.REFERENCE)).write_text(shipped.source(shipped.REFERENCE).read_text())
    return folder


@pytest.fixture
def clean_modules():
    """The support modules' names free in sys.modules, before and after (this process's)."""
    saved = {name: sys.modules.pop(name) for name in NAMES if name in sys.modules}
    yield
    for name in NAMES:
        sys.modules.pop(name, None)
    sys.modules.update(saved)


def test_the_jobs_copies_are_imported_once_and_kept_while_the_bytes_are_the_same(tmp_path, clean_modules):
    first, second = _folder(tmp_path, "a"), _folder(tmp_path, "b")
    preloaded: dict[str, bytes] = {}
    zygote._preload_support(_job(first, sorted(NAMES)), preloaded)
    assert sorted(preloaded) == sorted(NAMES)
    checks = sys.modules[shipped.CHECKS]
    assert Path(checks.__file__).parent == first
    assert Path(sys.modules[shipped.REFERENCE].__file__).parent == first
    assert str(first) not in sys.path and str(first) not in sys.path_importer_cache
    zygote._preload_support(_job(second, sorted(NAMES)), preloaded)  # same bytes, another folder: kept
    assert sys.modules[shipped.CHECKS] is checks


def test_other_bytes_are_imported_again_from_the_jobs_folder(tmp_path, clean_modules):
    first, changed = _folder(tmp_path, "a"), _folder(tmp_path, "b", checks_extra="\nPRELOAD_MARK = 1\n")
    preloaded: dict[str, bytes] = {}
    zygote._preload_support(_job(first, sorted(NAMES)), preloaded)
    old = sys.modules[shipped.CHECKS]
    zygote._preload_support(_job(changed, sorted(NAMES)), preloaded)
    new = sys.modules[shipped.CHECKS]
    assert new is not old and Path(new.__file__).parent == changed and new.PRELOAD_MARK == 1
    assert preloaded[shipped.CHECKS] == (changed / shipped.file_name(shipped.CHECKS)).read_bytes()


def test_modules_the_job_does_not_ship_are_dropped(tmp_path, clean_modules):
    first = _folder(tmp_path, "a")
    preloaded: dict[str, bytes] = {}
    zygote._preload_support(_job(first, sorted(NAMES)), preloaded)
    zygote._preload_support(_job(tmp_path, []), preloaded)
    assert preloaded == {} and not any(name in sys.modules for name in NAMES)
    # the reference without the check library it imports: left to the child
    zygote._preload_support(_job(first, [shipped.REFERENCE]), preloaded)
    assert preloaded == {} and not any(name in sys.modules for name in NAMES)


def test_an_import_that_fails_is_left_to_the_child(tmp_path, clean_modules):
    broken = _folder(tmp_path, "a", checks_extra="\nraise RuntimeError('broken on purpose')\n")
    preloaded: dict[str, bytes] = {}
    zygote._preload_support(_job(broken, sorted(NAMES)), preloaded)
    assert preloaded == {} and not any(name in sys.modules for name in NAMES)
    assert str(broken) not in sys.path
