"""Which of many dicts and Python functions were written since a baseline, found without
touching them: the fork engine's fast path for :class:`autograder.integrity.StateSnapshot`.

The snapshot covers about 1,400 module namespaces, 4,200 class namespaces and 28,000
functions (torch, NumPy, otter, IPython, the standard library). Comparing them through the
Python API after every submission reads each value, and each read writes the value's
reference count: in a forked child every such write copies a shared page of the zygote
(about 23,000 page faults, 90 MB and 0.1-0.3 s of CPU a submission, measured).

CPython keeps what a change must alter in words of the objects themselves:

* every dict carries a version tag (PEP 509's ``ma_version_tag``, a process-wide 64-bit
  counter stamped on the dict at every insertion, replacement, deletion or clear; CPython
  3.11 ``Objects/dictobject.c``), 24 bytes into the dict object;
* a function holds its code, defaults and keyword defaults as pointers, 48, 56 and 64
  bytes into the function object (``Include/cpython/funcobject.h``).

:class:`Watch` records the addresses of these words once (in the zygote, before it forks)
and reads them all at once through a read-only NumPy view of the process's memory
(one gather, about 1 ms for 90,000 words, no reference count written). A dict whose tag
moved or a function whose pointer moved is reported; only those are compared through the
Python API. :func:`watch` checks the layout on the running interpreter first (a probe dict
must change its tag on each kind of write, every watched function's pointers must be the
objects Python reports) and returns None when it does not hold, so the caller compares
everything as before.

Why no library and no public API: PEP 509 kept the tag private, dict watchers
(``PyDict_AddWatcher``) exist only from Python 3.12 and are C-only, and no package reads
these words. The view can read only; code that writes memory (``ctypes``) could forge a
tag, but such code can defeat any in-process guard (the README's threat model), and the
static screen flags it.
"""

from __future__ import annotations

import bisect
import ctypes
import sys
import types

__all__ = ["Watch", "watch"]

_DICT_VERSION = 24  # offsetof(PyDictObject, ma_version_tag): ob_refcnt, ob_type, ma_used, ma_version_tag
_DICT_USED = 16  # offsetof(PyDictObject, ma_used)
_FUNCTION_POINTERS = (48, 56, 64)  # func_code, func_defaults, func_kwdefaults (after globals, builtins, name, qualname)
_CHUNK = 4096  # watched words compared per step by Watch.changed (32 KiB gathered)


class Watch:
    """The version tags of ``dicts`` and the code/defaults pointers of ``functions``,
    recorded now; :meth:`changed` says which moved since.

    Build it with :func:`watch` (which checks the layout); the objects must stay alive as
    long as the watch (the caller holds them).
    """

    def __init__(self, dicts: list[dict], functions: list[types.FunctionType]) -> None:
        import numpy

        self._numpy = numpy
        dict_words = [id(d) + _DICT_VERSION for d in dicts]
        function_words = [id(f) + offset for f in functions for offset in _FUNCTION_POINTERS]
        everything = dict_words + function_words + [id(d) + _DICT_USED for d in dicts]  # ma_used: for the layout check
        self.base = min(everything, default=0) & ~7
        self.size = size = (max(everything, default=0) - self.base) // 8 + 1
        # a read-only view from the lowest watched word to the highest: nothing in it is read
        # but the words gathered by index (the objects are alive, so their pages are mapped)
        self._memory = numpy.frombuffer((ctypes.c_uint64 * size).from_address(self.base), dtype=numpy.uint64)
        self._memory.flags.writeable = False
        # every watched word, gathered in address order: the same words, but the gather walks
        # memory forwards (about 0.4 ms of CPU instead of 1.2 for 90,000 words in a forked
        # child, measured 2026-12-01); _owner maps each back to its dict (0 .. len(dicts) - 1)
        # or function (len(dicts) + its index)
        index = numpy.array([(w - self.base) // 8 for w in dict_words + function_words], dtype=numpy.int64)
        owner = numpy.concatenate([numpy.arange(len(dicts), dtype=numpy.int64),
                                   len(dicts) + numpy.repeat(numpy.arange(len(functions), dtype=numpy.int64), len(_FUNCTION_POINTERS))])
        order = numpy.argsort(index, kind="stable")
        self._index, self._owner, self._dicts = index[order], owner[order], len(dicts)
        # the buffers changed() gathers into and compares in, one chunk at a time (made here,
        # in the zygote: a forked child writes only their few pages)
        size = min(_CHUNK, len(index))
        self._words, self._flags = numpy.empty(size, dtype=numpy.uint64), numpy.empty(size, dtype=bool)
        # everything changed() calls, bound here, before any student code runs: changed()
        # runs after it, and student code may have rebound numpy's or the builtins' names
        # (a numpy.not_equal that answers "equal", a range() that skips the chunks), which
        # lie in the very namespaces it watches; the arrays' own methods are a C type's and
        # cannot be replaced, nor can a ufunc's or a builtin's behaviour
        if type(numpy.not_equal) is not numpy.ufunc:
            raise TypeError("numpy.not_equal is not NumPy's ufunc")
        self._calls = (_CHUNK, range, numpy.not_equal, sorted, set, bisect.bisect_left)
        self.rebase()

    def read(self, address: int) -> int:
        """The 64-bit word at ``address`` (a word of a watched object, which is alive and so
        mapped), for the layout checks; ``ValueError`` outside the watched span."""
        index = (address - self.base) // 8
        if address % 8 or not 0 <= index < self.size:
            raise ValueError(f"{address:#x} is not a word of the watched span")
        return int(self._memory[index])

    def rebase(self) -> None:
        """Take the watched words as they are now as the baseline of :meth:`changed`."""
        self._baseline = self._memory[self._index]

    def changed(self) -> tuple[list[int], list[int]]:
        """Indices (into the lists given at construction) of the dicts written and of the
        functions whose code, defaults or keyword defaults were replaced since the watch
        was made (or since the last :meth:`rebase`), each in ascending order.

        Every watched word is compared, :data:`_CHUNK` at a time, in two small buffers made
        with the watch: gathering all of them at once wrote about 900 KB of fresh
        temporaries, 250 page faults (about 2 ms of CPU) in each forked child's first call
        (measured 2026-12-01). It calls nothing looked up by name at call time: what it
        calls was bound when the watch was made (see the constructor)."""
        chunk, range_, not_equal, sorted_, set_, bisect_left = self._calls
        index, baseline, memory, owner, words, flags = self._index, self._baseline, self._memory, self._owner, self._words, self._flags
        hits: list[int] = []
        size = index.size
        for start in range_(0, size, chunk):
            stop = start + chunk
            if stop > size:  # the last, shorter chunk
                words, flags, stop = words[:size - start], flags[:size - start], size
            memory.take(index[start:stop], out=words, mode="clip")  # every index is in range; "raise" would buffer
            not_equal(words, baseline[start:stop], out=flags)
            if flags.any():
                hits += owner[start:stop][flags].tolist()
        if not hits:
            return [], []
        moved = sorted_(set_(hits))
        split = bisect_left(moved, self._dicts)
        return moved[:split], [function - self._dicts for function in moved[split:]]


def watch(dicts: list[dict], functions: list[types.FunctionType]) -> Watch | None:
    """A :class:`Watch` of ``dicts`` and ``functions``, or None when this interpreter's
    layout is not the one described in the module doc (not CPython, another version's
    structures, NumPy missing): the caller then compares everything itself."""
    if sys.implementation.name != "cpython" or not (3, 11) <= sys.version_info[:2] <= (3, 13):
        return None
    try:
        probe: dict = {}
        result = Watch([probe, *dicts], list(functions))
        if not _dict_layout_holds(result, probe) or not _function_layout_holds(result, functions):
            return None
        # the probe's words are read last by the check above: drop them (the probe, dict 0,
        # may be freed; the others' numbers move down by one), then take the baseline afresh
        keep = result._owner != 0
        result._index, result._owner, result._dicts = result._index[keep], result._owner[keep] - 1, result._dicts - 1
        result.rebase()
        return result
    except (ImportError, ValueError, OverflowError, MemoryError):
        return None


def _dict_layout_holds(result: Watch, probe: dict) -> bool:
    """Whether the probe's size and tag sit where expected, and every kind of write moves the tag."""
    writes = (lambda d: d.__setitem__("a", 1), lambda d: d.__setitem__("a", 2), lambda d: d.update(b=3), lambda d: d.pop("b"),
              lambda d: d.setdefault("c", 4), lambda d: d.__delitem__("a"), lambda d: d.popitem(), lambda d: d.update(x=1),
              lambda d: d.clear())
    tags = [result.read(id(probe) + _DICT_VERSION)]
    for write in writes:
        write(probe)
        if result.read(id(probe) + _DICT_USED) != len(probe):
            return False
        tags.append(result.read(id(probe) + _DICT_VERSION))
    return len(set(tags)) == len(tags)


def _function_layout_holds(result: Watch, functions: list[types.FunctionType]) -> bool:
    """Whether every function's three words are the pointers Python reports (NULL for None).

    One NumPy comparison of the words the watch gathered against the pointers Python
    reports (about 28,000 functions: 20 ms, where reading each word in Python took 120 ms)."""
    numpy = result._numpy
    # the functions' words, in the order given: (id + offset - base) / 8, one row per function
    ids = numpy.fromiter(map(id, functions), dtype=numpy.int64, count=len(functions))
    words = ((ids[:, None] + numpy.array(_FUNCTION_POINTERS, dtype=numpy.int64) - result.base) // 8).ravel()
    expected = numpy.fromiter((id(value) if value is not None else 0 for function in functions
                               for value in (function.__code__, function.__defaults__, function.__kwdefaults__)),
                              dtype=numpy.uint64, count=len(functions) * len(_FUNCTION_POINTERS))
    return bool(numpy.array_equal(result._memory[words], expected))
