"""The import system's part of :meth:`autograder.integrity.StateSnapshot.restore` (issue 16):
``sys.modules`` is compared only when its version tag moved since ``add_modules``, and the
path importer cache is emptied by binding a new dict. Each case runs in a forked child of
this test process (the restore puts the whole interpreter back)."""

from __future__ import annotations

import importlib
import json
import sys
import types

from autograder import integrity

from .fork_each import fork_each


def _in_child(work) -> dict:
    """``work(snapshot)`` in a forked child, the snapshot taken, frozen and support-added
    there as the zygote and the child do; returns its JSON-able result."""
    def case(_: str) -> str:
        snapshot = integrity.StateSnapshot()
        snapshot.freeze()
        snapshot.add_modules([])
        return json.dumps(work(snapshot))

    [(status, text)] = fork_each(["case"], case).values()
    assert status == 0 and text, "the child failed (its traceback is on stderr)"
    return json.loads(text)


def test_a_replaced_module_is_reported_and_put_back_every_time():
    def work(snapshot):
        import json as real

        assert snapshot._modules_watch is not None, "the layout check failed on this interpreter"
        out = {"skipped": snapshot._modules_unwritten(), "untouched": snapshot.restore()}
        sys.modules["json"] = types.ModuleType("json")
        out["seen"] = not snapshot._modules_unwritten()
        out["replaced"] = snapshot.restore()
        out["rebased"] = snapshot._modules_unwritten()  # the restore's own writes: not a change
        out["back"] = sys.modules["json"] is real
        out["again untouched"] = snapshot.restore()
        sys.modules["json"] = types.ModuleType("json")  # after the rebase: seen again
        out["replaced again"] = snapshot.restore()
        sys.modules["gradkit_probe_added"] = types.ModuleType("gradkit_probe_added")  # an import: no finding
        out["added"] = snapshot.restore()
        return out

    out = _in_child(work)
    assert out["untouched"] == [] and out["again untouched"] == [] and out["added"] == []
    assert out["replaced"] == ["sys.modules['json'] was replaced"] == out["replaced again"]
    assert out["back"] is True and out["skipped"] is True and out["seen"] is True and out["rebased"] is True


def test_rebinding_sys_modules_is_still_compared():
    def work(snapshot):
        real = sys.modules
        sys.modules = dict(real)
        sys.modules["json"] = types.ModuleType("json")
        changes = snapshot.restore()
        sys.modules = real
        return changes

    assert _in_child(work) == ["sys.modules['json'] was replaced"]


def test_sys_modules_rebound_to_a_lying_dict_is_reported_and_put_back():
    """Red team atk5 (``b40``): a dict subclass bound to the name ``sys.modules`` whose ``get``
    answers the snapshot's names with the snapshot's modules and other readers with
    stand-ins. The comparison reads the entries with the dict's own lookup, and the real
    module dict is bound back and the rebinding reported."""
    def work(snapshot):
        real = sys.modules

        class Lying(dict):
            def get(self, key, default=None):
                return real.get(key, default)

        lying = Lying(real)
        lying["json"] = types.ModuleType("json")
        sys.modules = lying
        changes = snapshot.restore()
        out = {"changes": changes, "back": sys.modules is real, "json": sys.modules["json"] is json}
        sys.modules = real
        return out

    out = _in_child(work)
    assert out["changes"] == ["sys.modules was rebound to a Lying"], out
    assert out["back"] is True and out["json"] is True


def test_a_patch_of_the_modules_that_load_the_tests_compiled_code_is_reported_and_put_back():
    """Red team atk5 (``b41``): the fork engine's child loads the test files' code with
    marshal, base64 and binascii, so they are snapshotted with the grader's libraries."""
    def work(snapshot):
        import base64
        import binascii
        import marshal

        originals = (marshal.loads, base64.b64decode, binascii.a2b_base64)
        marshal.loads = base64.b64decode = binascii.a2b_base64 = lambda *args, **kwargs: None
        changes = sorted(snapshot.restore())
        return {"changes": changes, "back": (marshal.loads, base64.b64decode, binascii.a2b_base64) == originals}

    out = _in_child(work)
    assert out["changes"] == ["base64.b64decode was replaced", "binascii.a2b_base64 was replaced", "marshal.loads was replaced"], out
    assert out["back"] is True


def test_the_path_importer_cache_is_left_empty_and_a_planted_finder_unused():
    def work(snapshot):
        class Planted:
            def find_spec(self, name, target=None):
                raise AssertionError("the planted finder was used")

        sys.modules.pop("wave", None)
        importlib.import_module("wave")  # caches finders (an earlier restore in this process may have emptied the cache)
        old = sys.path_importer_cache
        assert old, "the interpreter has no finders cached"
        for path in list(old):
            old[path] = Planted()
        snapshot.restore()
        new = sys.path_importer_cache
        emptied = new is not old and not new
        sys.modules.pop("wave", None)
        importlib.import_module("wave")  # a standard module: found through fresh finders, in the new dict

        return {"emptied": emptied, "used": len(new) > 0 and not any(isinstance(f, Planted) for f in new.values())}

    assert _in_child(work) == {"emptied": True, "used": True}
