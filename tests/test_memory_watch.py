"""The fast path of the library snapshot (:mod:`autograder.memory_watch`): every kind of
write to a watched dict and every replaced code, defaults or keyword defaults of a watched
function is seen, nothing else is, and :class:`autograder.integrity.StateSnapshot` reports
the same changes with the watch as without it."""

from __future__ import annotations

import types

import pytest

from autograder import integrity, memory_watch


def _function(a, b=1, *, c=2):
    return a + b + c


WRITES = {
    "set": lambda d: d.__setitem__("x", object()), "replace": lambda d: d.__setitem__("kept", object()),
    "delete": lambda d: d.__delitem__("kept"),
    "pop": lambda d: d.pop("kept"), "popitem": lambda d: d.popitem(), "setdefault": lambda d: d.setdefault("new", 1),
    "update": lambda d: d.update(kept=3), "clear": lambda d: d.clear(), "or-assign": lambda d: d.__ior__({"y": 1}),
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_every_write_to_a_watched_dict_is_seen(write):
    watched = [{"kept": 1, "other": 2} for _ in range(3)]
    watch = memory_watch.watch(watched, [])
    assert watch is not None, "the layout check failed on this interpreter"
    assert watch.changed() == ([], [])
    write(watched[1])
    assert watch.changed() == ([1], [])


def test_changes_in_every_chunk_are_seen_and_each_call_compares_afresh():
    # more dicts and functions than one chunk of Watch.changed holds: a write in the first,
    # a middle and the last chunk, in a dict and in a function, seen together and in order;
    # a write undone (the object put back) is no change, and one made again is seen again
    dicts = [{"kept": i} for i in range(memory_watch._CHUNK + 10)]
    functions = [types.FunctionType(_function.__code__, globals(), "f", (1,), None) for _ in range(memory_watch._CHUNK // 2)]
    watch = memory_watch.watch(dicts, functions)
    assert watch is not None
    assert len(watch._index) > 2 * memory_watch._CHUNK and len(watch._words) == memory_watch._CHUNK
    assert watch.changed() == ([], [])
    last = len(dicts) - 1
    for i in (0, memory_watch._CHUNK, last):
        dicts[i]["kept"] = -1
    functions[-1].__defaults__ = (2,)
    functions[0].__code__ = (lambda a, b=1, *, c=2: 0).__code__
    assert watch.changed() == ([0, memory_watch._CHUNK, last], [0, len(functions) - 1])
    assert watch.changed() == ([0, memory_watch._CHUNK, last], [0, len(functions) - 1])  # still unlike the baseline
    functions[0].__code__ = _function.__code__
    assert watch.changed() == ([0, memory_watch._CHUNK, last], [len(functions) - 1])
    watch.rebase()
    assert watch.changed() == ([], [])
    dicts[memory_watch._CHUNK + 1]["new"] = 1
    assert watch.changed() == ([memory_watch._CHUNK + 1], [])


def test_storing_the_same_object_again_changes_nothing():
    # PEP 509: the tag may stay when a key gets the object it already held; nothing changed
    watched = [{"kept": 1}]
    watch = memory_watch.watch(watched, [])
    watched[0]["kept"] = watched[0]["kept"]
    assert watch.changed() == ([], [])
    assert watched[0] == {"kept": 1}


def test_a_module_and_a_class_namespace_written_through_attributes_are_seen():
    module = types.ModuleType("probe_module")
    module.value = 1
    cls = type("Probe", (), {"method": lambda self: 1})
    import gc
    watch = memory_watch.watch([vars(module), gc.get_referents(vars(cls))[0]], [])
    module.value = 2
    assert watch.changed() == ([0], [])
    cls.method = lambda self: 2
    assert watch.changed() == ([0, 1], [])


@pytest.mark.parametrize("attribute, value", [("__code__", (lambda a, b=1, *, c=2: 0).__code__), ("__defaults__", (5,)),
                                              ("__kwdefaults__", {"c": 5}), ("__defaults__", None), ("__kwdefaults__", None)])
def test_a_replaced_code_or_default_is_seen(attribute, value):
    functions = [types.FunctionType(_function.__code__, globals(), "f", (1,), None) for _ in range(3)]
    for function in functions:
        function.__kwdefaults__ = {"c": 2}
    watch = memory_watch.watch([], functions)
    assert watch.changed() == ([], [])
    functions[2].__call__(1)  # calling it changes nothing watched
    setattr(functions[2], attribute, value)
    assert watch.changed() == ([], [2])


def test_the_snapshot_reports_the_same_changes_with_and_without_the_watch(monkeypatch):
    import json
    import textwrap

    fast = integrity.StateSnapshot()
    fast.freeze()
    assert fast._watch is not None
    slow = integrity.StateSnapshot()
    monkeypatch.setattr(memory_watch, "watch", lambda dicts, functions: None)
    slow.freeze()
    assert slow._watch is None
    monkeypatch.undo()
    original_dumps, original_dedent, original_code = json.dumps, textwrap.dedent.__defaults__, textwrap.indent.__code__
    try:
        json.dumps = lambda *a, **k: "{}"
        textwrap.dedent.__defaults__ = ("x",)
        textwrap.indent.__code__ = (lambda text, prefix, predicate=None: text).__code__
        json.JSONDecoder.decode = lambda self, s: {}
        json.added_by_student = 1
        changes = fast.restore()
    finally:
        json.dumps = original_dumps
        textwrap.dedent.__defaults__ = original_dedent
        textwrap.indent.__code__ = original_code
    assert json.JSONDecoder.decode is not None and json.loads("[1]") == [1] and not hasattr(json, "added_by_student")
    for expected in ("json.dumps was replaced", "json.added_by_student was added", "json.decoder.JSONDecoder.decode was replaced",
                     "the code of textwrap.dedent was replaced", "the code of textwrap.indent was replaced"):
        assert expected in changes
    assert fast.restore() == [] and slow.restore() == []

    def patch():
        json.dumps, json.added_by_student = (lambda *a, **k: ""), 2
        textwrap.dedent.__defaults__ = ("y",)

    patch()
    fast_changes = fast.restore()
    patch()
    assert slow.restore() == fast_changes == ["json.dumps was replaced", "json.added_by_student was added",
                                              "the code of textwrap.dedent was replaced"]
    assert json.dumps is original_dumps and textwrap.dedent.__defaults__ is original_dedent


def test_the_watch_sees_writes_after_numpys_and_the_builtins_names_were_rebound(monkeypatch):
    # student code runs before changed() and may rebind the names it would call: NumPy's
    # functions (a not_equal that answers "equal", a take or flatnonzero that finds nothing)
    # and the builtins (a range that skips the chunks); the watch calls only what it bound
    # when it was made
    import builtins

    import numpy

    watched = [{"kept": 1} for _ in range(5000)]
    functions = [types.FunctionType(_function.__code__, {}) for _ in range(2000)]
    watch = memory_watch.watch(watched, functions)
    assert watch is not None
    real_range = range

    def equal(a, b, out=None, **kwargs):
        out[...] = False
        return out

    def nothing(*args, **kwargs):
        return numpy.zeros(0, dtype=numpy.int64)

    def no_chunks(*args):
        return iter(()) if args[2:] == (memory_watch._CHUNK,) else real_range(*args)

    for name, value in (("not_equal", equal), ("take", nothing), ("flatnonzero", nothing), ("unique", nothing),
                        ("concatenate", nothing), ("searchsorted", lambda *args, **kwargs: 0)):
        monkeypatch.setattr(numpy, name, value)
    watched[4321]["kept"] = 2
    functions[1234].__defaults__ = (5,)
    saved = {name: getattr(builtins, name) for name in ("range", "min", "len", "sorted", "int")}
    builtins.range, builtins.min, builtins.len = no_chunks, lambda *args: 0, lambda *args: 0
    builtins.sorted, builtins.int = lambda *args, **kwargs: [], lambda *args: 0
    try:
        seen = watch.changed()
    finally:
        for name, value in saved.items():
            setattr(builtins, name, value)
    monkeypatch.undo()
    assert seen == ([4321], [1234])
