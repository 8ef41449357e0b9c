"""Run-time guards of the fork engine's child: find and undo what student code changed.

Student code and the tests share one Python process (the tests must call the student's
functions), so the child protects the tests in three ways, all set up by gradkit's code
before the first student cell:

* :class:`StateSnapshot`, taken in the zygote before the fork: every module of the
  libraries the tests rely on (torch, NumPy, otter, the check library, the standard
  library modules they use, ``builtins``), every class defined in them and every Python
  function's code. After the last cell :meth:`StateSnapshot.restore` puts every changed
  attribute back and reports it, so a patched ``torch.allclose``, a replaced otter
  method or a rewritten ``__code__`` is undone before any test runs, and the submission
  is flagged. It compares only the namespaces and functions that
  :mod:`autograder.memory_watch` saw written since the snapshot: reading every value would
  copy most of the zygote's memory into each child.
* :func:`install_audit_hook` (PEP 578): refuses ``sys.addaudithook``; refuses every route
  to a stack frame (``sys._getframe``, ``tb_frame``/``gi_frame``..., trace and profile
  hooks) and ``gc``'s object searches to the notebook's own code, since from any frame
  ``f_back`` leads to the test runner's; records process and ``ctypes`` events the
  notebook's own code asks for (not those of libraries it calls, such as matplotlib
  running ``fc-list``). :func:`guard_frame_callbacks` covers what no audit event does:
  ``signal.signal`` and torch's frame-evaluation callbacks.
* :func:`foreign_threads` and :func:`kill_strays`: threads or processes the student code
  left running would act while the tests run; they are reported (and processes killed)
  before the tests are sent.

These are the limits of in-process Python: code that writes memory directly (``ctypes``)
can defeat any in-process guard. That is why the static screen flags ``ctypes`` and file
access, and why the kernel (Landlock, :mod:`autograder.engines.sandbox`) keeps the hidden tests
out of reach instead of Python.
"""

from __future__ import annotations

import operator
import os
import sys
import threading
import types
from itertools import repeat

from .engines.process import kill
from .shipped import CHECKS

__all__ = ["PROTECTED", "AuditControl", "Guards", "StateSnapshot", "guard_frame_callbacks", "foreign_threads", "install_audit_hook", "kill_strays"]

PROTECTED = ("autograder", "signal", "socket", "resource", "torch", "numpy", "otter", CHECKS, "builtins", "inspect", "functools", "types", "traceback", "linecache",
             "re", "json", "copy", "math", "random", "operator", "typing", "collections", "abc", "textwrap", "contextlib",
             "dataclasses", "enum", "warnings", "pickle", "io", "os", "posixpath", "IPython", "nbformat", "traitlets", "scipy",
             "doctest",  # doctest: otter's OK-format tests run with it
             "marshal", "base64", "binascii")  # the fork engine's child loads the tests' compiled code with them
"""Top-level packages whose modules, classes and functions are snapshotted and restored."""

# attributes libraries legitimately set while running (lazy caches, counters); restored, not reported.
# RemovableHandle.next_id counts every hook ever registered (a tensor hook of an honest notebook too)
_QUIET = {("torch.autograd.profiler", "_cupti_monitor_module"), ("torch.autograd.profiler", "_cupti_monitor_checked"),
          ("torch.utils.hooks.RemovableHandle", "next_id")}

_AUDITED = {
    "os.system": "ran a shell command", "subprocess.Popen": "started a process", "os.fork": "forked the process",
    "os.forkpty": "forked the process", "os.posix_spawn": "started a process", "os.exec": "replaced the process",
    "os.spawn": "started a process", "os.kill": "sent a signal", "os.killpg": "sent a signal", "socket.connect": "opened a network connection",
    "gc.get_objects": "searched the interpreter's objects (gc)", "gc.get_referrers": "searched the interpreter's objects (gc)",
    "gc.get_referents": "searched the interpreter's objects (gc)", "ctypes.dlopen": "loaded a native library (ctypes)",
    "ctypes.dlsym": "looked up a native symbol (ctypes)", "ctypes.string_at": "read raw memory (ctypes)",
    "ctypes.cdata": "made an object from a raw address (ctypes)", "ctypes.addressof": "took a raw address (ctypes)",
    "sys.setprofile": "installed a profile hook", "sys.settrace": "installed a trace hook", "sys._current_frames": "read other threads' frames",
    "cpython.PyInterpreterState_Clear": "touched the interpreter state", "code.__new__": "built a code object",
    "function.__new__": "built a function from a code object",
}
_STDLIB = os.path.dirname(os.__file__) + os.sep


_MISSING = object()


def _unchanged(current, keys: tuple, values: tuple) -> bool:
    """Whether mapping ``current`` holds exactly ``keys`` -> ``values`` (by identity);
    evaluated in C (``map``/``all``), since it runs over every protected name for every
    submission."""
    return len(current) == len(keys) and all(map(operator.is_, map(current.get, keys, repeat(_MISSING)), values))


def _protected(name: str) -> bool:
    return name.split(".", 1)[0] in PROTECTED


class StateSnapshot:
    """The protected modules' namespaces, class namespaces and function code, by identity.

    Take it in the zygote (once; every forked child inherits it for free); call
    :meth:`restore` in the child after the student's last cell. Modules imported later
    (lazily, by the student) are not covered; the tests import what they use through
    modules that are.
    """

    def __init__(self) -> None:
        self.modules: list[tuple[str, types.ModuleType, dict]] = []
        self.classes: list[tuple[type, dict]] = []
        self.functions: list[tuple[types.FunctionType, types.CodeType, tuple | None, dict | None]] = []
        self.sys_modules: dict[str, types.ModuleType] = {}
        self.meta_path: list = []
        self.path_hooks: list = []
        self._frozen_cache: dict[int, tuple[tuple, tuple]] = {}
        self._functions_frozen: tuple = ()  # (functions, codes, defaults, kwdefaults) of the first len(...) functions
        self._watch = None  # a memory_watch.Watch over the zygote's modules, classes and functions (freeze)
        self._watched = (0, 0, 0)  # how many modules, classes, functions the watch covers
        self._stale_dicts: set[int] = set()  # watched dicts / functions already unlike the snapshot at freeze
        self._stale_functions: set[int] = set()
        self._seen_cls: set[int] = set()
        self._seen_fn: set[int] = set()
        self._retired: list = []  # the path importer caches emptied by restore (see _empty_importer_cache)
        self._modules_watch = None  # a memory_watch.Watch of sys.modules' version tag (add_modules)
        self._modules_dict: dict | None = None  # the sys.modules it watches
        self._sys_modules_dict = sys.modules  # the interpreter's module dict (the name sys.modules can be rebound)
        for name, module in list(sys.modules.items()):
            if isinstance(module, types.ModuleType) and _protected(name):
                self._take(name, module)
        self.meta_path = list(sys.meta_path)
        self.path_hooks = list(sys.path_hooks)
        self.sys_path = list(sys.path)

    def _frozen(self, mapping: dict) -> tuple[tuple, tuple]:
        """(keys, values) of a snapshotted mapping, built once (in the zygote by :meth:`freeze`)."""
        frozen = self._frozen_cache.get(id(mapping))
        if frozen is None:
            frozen = self._frozen_cache[id(mapping)] = (tuple(mapping), tuple(mapping.values()))
        return frozen

    def freeze(self) -> None:
        """Precompute what :meth:`restore` compares against (call in the zygote, before
        forking): the tuples of every namespace, and a :class:`autograder.memory_watch.Watch`
        of the live namespaces and functions, so that :meth:`restore` compares only those
        written since (none, for most submissions) instead of reading every value, which
        in a forked child copies the zygote's pages (see :mod:`autograder.memory_watch`)."""
        import gc

        from .memory_watch import watch

        for _, _, namespace in self.modules:
            self._frozen(namespace)
        for _, attrs in self.classes:
            self._frozen(attrs)
        self._functions_frozen = tuple(zip(*self.functions)) or ((), (), (), ())
        # a class's namespace: the dict behind its mappingproxy (its only referent)
        class_dicts = [gc.get_referents(vars(cls)) for cls, _ in self.classes]
        if not all(len(found) == 1 and isinstance(found[0], dict) for found in class_dicts):
            return  # not CPython's mappingproxy: compare everything
        dicts = [vars(module) for _, module, _ in self.modules] + [found[0] for found in class_dicts]
        self._watch = watch(dicts, [fn for fn, *_ in self.functions])
        if self._watch is None:
            return
        self._watched = (len(self.modules), len(self.classes), len(self.functions))
        # anything that already differs from the snapshot (changed between the snapshot and
        # now) is compared every time, as without the watch
        for index, (_, module, namespace) in enumerate(self.modules):
            if not _unchanged(vars(module), *self._frozen(namespace)):
                self._stale_dicts.add(index)
        for index, (cls, attrs) in enumerate(self.classes):
            if not _unchanged(vars(cls), *self._frozen(attrs)):
                self._stale_dicts.add(len(self.modules) + index)
        for index, (fn, code, defaults, kwdefaults) in enumerate(self.functions):
            if fn.__code__ is not code or fn.__defaults__ is not defaults or fn.__kwdefaults__ is not kwdefaults:
                self._stale_functions.add(index)

    def add_modules(self, names: list[str]) -> None:
        """Snapshot modules imported after the snapshot was taken (the support files,
        imported in the child before the student code), with their classes and functions.

        Call it once the grader's own imports are done, before any student code: from here
        on ``sys.modules`` is watched too (its version tag, when :meth:`freeze` found the
        layout), and :meth:`restore` compares its entries with the snapshot's only when it
        was written (or rebound) since: comparing them writes the reference counts of about
        1,400 modules and names, in a forked child about 1,300 copied pages and 5 ms of
        CPU (measured 2026-12-01)."""
        for name in names:
            module = sys.modules.get(name)
            if isinstance(module, types.ModuleType):
                self._take(name, module)  # after the frozen and watched entries: always compared
        if self._watch is not None:
            from .memory_watch import watch

            self._modules_dict = sys.modules
            self._modules_watch = watch([sys.modules], [])

    def _modules_unwritten(self) -> bool:
        """Whether ``sys.modules`` is the dict :meth:`add_modules` watched and no entry of it
        was added, replaced or removed since (nor since the last :meth:`restore` put entries
        back); False without a watch."""
        return self._modules_watch is not None and sys.modules is self._modules_dict and not self._modules_watch.changed()[0]

    def _take(self, name: str, module: types.ModuleType) -> None:
        """Snapshot one module, the protected classes it holds and their functions."""
        namespace = dict(vars(module))
        self.modules.append((name, module, namespace))
        self.sys_modules[name] = module
        for value in namespace.values():
            if isinstance(value, type) and id(value) not in self._seen_cls and _protected(getattr(value, "__module__", "") or ""):
                self._seen_cls.add(id(value))
                attrs = dict(vars(value))
                self.classes.append((value, attrs))
                for attr in attrs.values():
                    self._function(attr, self._seen_fn)
            else:
                self._function(value, self._seen_fn)

    def _function(self, value, seen: set[int]) -> None:
        if type(value) in (staticmethod, classmethod):
            value = value.__func__
        if type(value) is types.FunctionType and id(value) not in seen:  # not proxies that claim to be functions
            seen.add(id(value))
            self.functions.append((value, value.__code__, value.__defaults__, value.__kwdefaults__))

    def _to_compare(self) -> tuple[list, list, list]:
        """The modules, classes and functions :meth:`restore` must compare (in snapshot
        order): with the watch, those it saw written, those stale at :meth:`freeze` and
        those added since; without it, every module and class, and every function when
        any of them changed (one C-level pass over the frozen tuples decides)."""
        if self._watch is not None:
            dicts, fns = self._watch.changed()
            watched_modules, watched_classes, watched_functions = self._watched
            dicts = sorted(self._stale_dicts.union(dicts))
            modules = [self.modules[i] for i in dicts if i < watched_modules] + self.modules[watched_modules:]
            classes = [self.classes[i - watched_modules] for i in dicts if i >= watched_modules] + self.classes[watched_classes:]
            functions = [self.functions[i] for i in sorted(self._stale_functions.union(fns))] + self.functions[watched_functions:]
            return modules, classes, functions
        if not self._functions_frozen:
            self._functions_frozen = tuple(zip(*self.functions)) or ((), (), (), ())
        fns, codes, defaults_, kwdefaults_ = self._functions_frozen
        if (all(map(operator.is_, map(operator.attrgetter("__code__"), fns), codes))
                and all(map(operator.is_, map(operator.attrgetter("__defaults__"), fns), defaults_))
                and all(map(operator.is_, map(operator.attrgetter("__kwdefaults__"), fns), kwdefaults_))):
            return self.modules, self.classes, self.functions[len(fns):]
        return self.modules, self.classes, self.functions

    def _empty_importer_cache(self) -> None:
        """Leave ``sys.path_importer_cache`` empty, so that every later import finds its
        module through finders made afresh from ``sys.path_hooks`` (none the student code
        made, planted or changed): a new empty dict is bound, and the old one is kept
        alive here. Clearing the old dict in place would free the zygote's finders (about
        400, holding about 6,000 cached file names): in a forked child that writes, and so
        copies, about 3,200 of the zygote's pages, 12 ms of CPU a submission (measured
        2026-12-01). Python's import machinery (importlib's ``PathFinder`` and CPython's
        ``PyImport_GetImporter``) reads the cache from ``sys`` by name at every use, so the
        new dict is the one used."""
        current = sys.path_importer_cache
        if type(current) is dict and not current:
            return
        self._retired.append(current)  # never used again, never freed: the process ends soon
        sys.path_importer_cache = {}

    def restore(self) -> list[str]:
        """Undo every change to the snapshotted state; describe the changes.

        Returns:
            list[str]: one line per changed module attribute, class attribute, function or
            import-system entry (``"torch.allclose was replaced"``), empty when nothing
            changed. Lazy caches libraries set themselves are restored silently.
        """
        changes: list[str] = []
        missing = object()
        if sys.modules is not self._sys_modules_dict and type(sys.modules) is not dict:
            # a mapping whose lookups code can override (a dict subclass's get): it can hand
            # whoever reads the name sys.modules (importlib, a library) a stand-in while
            # showing this comparison the snapshot's modules; the real dict is bound back
            changes.append(f"sys.modules was rebound to a {type(sys.modules).__name__}")
            sys.modules = self._sys_modules_dict
        if not self._modules_unwritten():
            for name, module in self.sys_modules.items():
                if dict.get(sys.modules, name) is not module:  # the dict's own lookup, whatever the type
                    sys.modules[name] = module
                    changes.append(f"sys.modules[{name!r}] was replaced")
            if self._modules_watch is not None and sys.modules is self._modules_dict:
                self._modules_watch.rebase()  # every snapshotted entry is the snapshot's again
        if sys.modules is not self._sys_modules_dict:  # a plain dict: its entries compared above, the real one bound back
            sys.modules = self._sys_modules_dict
        modules, classes, functions = self._to_compare()
        for name, module, namespace in modules:
            current = vars(module)
            if _unchanged(current, *self._frozen(namespace)):
                continue
            for key, value in namespace.items():
                if current.get(key, missing) is not value:
                    current[key] = value
                    if (name, key) not in _QUIET:
                        changes.append(f"{name}.{key} was replaced")
            for key in [k for k in current if k not in namespace]:
                if isinstance(current[key], types.ModuleType) or key.startswith("__"):
                    continue  # a submodule imported since, or an interpreter-managed name
                if not key.startswith("_"):
                    changes.append(f"{name}.{key} was added")
                    del current[key]
        for cls, attrs in classes:
            current = vars(cls)
            if _unchanged(current, *self._frozen(attrs)):
                continue
            for key, value in attrs.items():
                if current.get(key, missing) is not value:
                    try:
                        setattr(cls, key, value)
                    except (TypeError, AttributeError):
                        pass
                    if (f"{cls.__module__}.{cls.__qualname__}", key) not in _QUIET:
                        changes.append(f"{cls.__module__}.{cls.__qualname__}.{key} was replaced")
            for key in [k for k in current if k not in attrs and not (k.startswith("__") or k.startswith("_abc"))]:
                try:
                    delattr(cls, key)
                except (TypeError, AttributeError):
                    pass
                changes.append(f"{cls.__module__}.{cls.__qualname__}.{key} was added")
        for fn, code, defaults, kwdefaults in functions:
            if fn.__code__ is not code or fn.__defaults__ is not defaults or fn.__kwdefaults__ is not kwdefaults:
                fn.__code__, fn.__defaults__, fn.__kwdefaults__ = code, defaults, kwdefaults
                changes.append(f"the code of {fn.__module__}.{fn.__qualname__} was replaced")
        if sys.meta_path != self.meta_path or sys.path_hooks != self.path_hooks:
            sys.meta_path[:] = self.meta_path
            sys.path_hooks[:] = self.path_hooks
            self._empty_importer_cache()
            changes.append("the import system (sys.meta_path / sys.path_hooks) was changed")
        # the tests import from the installation only: not from the submission's folder,
        # where the student could have written a module named like one they import
        sys.path[:] = self.sys_path
        self._empty_importer_cache()
        if sys.gettrace() is not None or sys.getprofile() is not None:
            changes.append("a trace or profile hook was left installed")
        sys.settrace(None)
        sys.setprofile(None)
        threading.settrace(None)
        threading.setprofile(None)
        import gc
        if gc.callbacks:
            changes.append("a garbage-collector callback was installed")
            gc.callbacks.clear()
        return changes


# events that hand a stack frame (and through ``f_back`` every frame above it: the test
# runner's, with the hidden tests, the results and the grading channel) or the interpreter's
# objects to whoever asked; refused to the notebook's own code
_REFUSED_EVENTS = {
    "sys._getframe": "read a stack frame (sys._getframe)",
    "sys._current_frames": "read the threads' stack frames (sys._current_frames)",
    "sys._current_exceptions": "read the threads' exceptions (sys._current_exceptions)",
    "sys.settrace": "installed a trace hook (sys.settrace)",
    "sys.setprofile": "installed a profile hook (sys.setprofile)",
    "gc.get_objects": "searched the interpreter's objects (gc.get_objects)",
    "gc.get_referrers": "searched the interpreter's objects (gc.get_referrers)",
    "gc.get_referents": "searched the interpreter's objects (gc.get_referents)",
}
# attributes that are stack frames (CPython audits reading them as object.__getattr__)
_FRAME_ATTRIBUTES = {"tb_frame", "gi_frame", "cr_frame", "ag_frame"}
# code that hands frames (or what is in them) back to its caller: when it asks, the caller
# asked. (path inside the installation, function name or None for the whole file)
_TRANSPARENT = (
    ("inspect.py", None), ("traceback.py", None), ("asyncio" + os.sep, None), ("asyncore.py", None), ("bdb.py", None),
    ("pdb.py", None), ("dis.py", None), ("doctest.py", None), ("cgitb.py", None), ("pydoc.py", None), ("code.py", None),
    ("types.py", None),
    ("logging" + os.sep + "__init__.py", "<lambda>"),  # logging.currentframe; logging.findCaller asks for itself
    ("IPython" + os.sep + "core" + os.sep + "ultratb.py", None), ("IPython" + os.sep + "utils" + os.sep + "frame.py", None),
    ("IPython" + os.sep + "core" + os.sep + "debugger.py", None), ("stack_data" + os.sep, None), ("executing" + os.sep, None),
    ("pure_eval" + os.sep, None), ("_pytest" + os.sep, None),
)
_SITE = os.sep + "site-packages" + os.sep


def _transparent(code: types.CodeType) -> bool:
    """Whether ``code`` belongs to a helper of ``_TRANSPARENT`` (in the installation only)."""
    filename = code.co_filename
    if filename.startswith(_STDLIB):
        rest = filename[len(_STDLIB):]
    elif _SITE in filename:
        rest = filename.rsplit(_SITE, 1)[1]
    else:
        return False
    return any((rest == part or (part.endswith(os.sep) and rest.startswith(part))) and (function is None or code.co_name == function)
               for part, function in _TRANSPARENT)


class AuditControl:
    """What :func:`install_audit_hook` returns: ``control(on)`` turns recording on (student
    code runs) or off; :meth:`student_files` says which files hold the notebook's own code.

    Student code is code compiled from a string (a cell: ``<ipython-input-...>``;
    ``exec``/``compile`` of a string: ``<string>``, or any file name such code gave to
    ``compile``) or a file in the submission's folder other than the support files.
    """

    def __init__(self) -> None:
        self.on = False
        self.busy = False
        self.folder: str | None = None
        self.trusted: frozenset[str] = frozenset()
        self.compiled: set[str] = set()

    def __call__(self, on: bool) -> None:
        self.on = bool(on)

    def student_files(self, folder: str, trusted: list[str]) -> None:
        """Files under ``folder`` are student code, except the absolute paths in ``trusted``."""
        self.folder = os.path.join(os.path.abspath(folder), "")
        self.trusted = frozenset(os.path.abspath(t) for t in trusted)

    def is_student(self, code: types.CodeType) -> bool:
        """Whether ``code`` (a code object) is the notebook's own: compiled from a string
        (not a frozen module), compiled under a name student code gave, or from a file in
        :meth:`student_files`' folder other than the trusted ones."""
        filename = code.co_filename
        if filename.startswith("<"):
            return not filename.startswith("<frozen ")
        if filename in self.compiled:
            return True
        return self.folder is not None and filename.startswith(self.folder) and filename not in self.trusted

    def from_student(self) -> bool:
        """Whether the audited operation was asked for by the notebook's own code: the first
        caller outside the standard library is student code, not a library such as
        matplotlib starting ``fc-list``. Called from the hook only."""
        self.busy = True
        try:
            frame = sys._getframe(2)
            while frame is not None and frame.f_code.co_filename.startswith(_STDLIB):
                frame = frame.f_back
            return frame is not None and self.is_student(frame.f_code)
        finally:
            self.busy = False

    def asker(self, frame, stdlib: bool) -> types.CodeType | None:
        """The code that asked for what ``frame`` (the frame that raised the event) does:
        the first frame up the stack that is not a helper handing frames back, nor, when
        ``stdlib`` is true, any standard library code (``string.Formatter.get_field``
        reads an attribute for its caller, as ``operator.attrgetter`` does in C)."""
        while frame is not None and (_transparent(frame.f_code) or (stdlib and frame.f_code.co_filename.startswith(_STDLIB))):
            frame = frame.f_back
        return frame.f_code if frame is not None else None


def install_audit_hook(events: list[str]) -> AuditControl:
    """Install gradkit's audit hook for this process (it cannot be removed).

    While recording is on (the notebook's cells and the tests run), the hook

    * refuses (raises ``RuntimeError``) and records, when the notebook's own code asks
      (directly or through ``inspect``, ``traceback`` and other helpers that hand frames
      back, see ``_TRANSPARENT``): ``sys._getframe``, ``sys._current_frames``, reading a
      traceback's, generator's or coroutine's frame (``tb_frame``, ``gi_frame``,
      ``cr_frame``, ``ag_frame``), ``sys.settrace``/``sys.setprofile`` (their callbacks
      get every frame) and ``gc.get_objects``/``get_referrers``/``get_referents``. From
      a frame, ``f_back`` leads to the test runner's frames: the hidden tests, the
      results and the grading channel. Libraries that ask for themselves
      (``collections.namedtuple``, ``typing``, ``enum``, ``logging``, torch, IPython
      showing a traceback) are not refused;
    * refuses ``sys.addaudithook`` to anyone;
    * records process, ``ctypes`` and code-building events the notebook's own code asks
      for (not those of libraries it calls, such as matplotlib running ``fc-list``).

    Args:
        events: list the hook appends descriptions to while recording is on.

    Returns:
        AuditControl: ``control(on)`` turns recording on or off.
    """
    control = AuditControl()

    def hook(event: str, args: tuple) -> None:
        if not control.on or control.busy:
            return
        if event == "sys.addaudithook":
            events.append("tried to install an audit hook (refused)")
            raise RuntimeError("audit hooks are not allowed while grading")
        refused = _REFUSED_EVENTS.get(event)
        if refused is None and event == "object.__getattr__" and len(args) > 1 and args[1] in _FRAME_ATTRIBUTES:
            refused = f"read a stack frame (.{args[1]})"
        if refused is not None:
            control.busy = True  # sys._getframe below raises an event of its own
            try:
                # sys._getframe: the standard library's own uses (namedtuple, typing, enum,
                # warnings, logging) name their caller's module; they are theirs, not the caller's
                asker = control.asker(sys._getframe(1), stdlib=event != "sys._getframe")
                student = asker is not None and control.is_student(asker)
            finally:
                control.busy = False
            if student:
                if len(events) < 50:
                    events.append(f"{refused}: refused")
                raise RuntimeError(f"{refused.split(' (')[0]} is not allowed while grading")
            return
        if event == "compile" and len(args) > 1 and isinstance(args[1], str) and not args[1].startswith("<"):
            if control.from_student():
                control.compiled.add(args[1])  # code the notebook compiled under a file's name is still its own
            return
        if event == "open" and args and isinstance(args[0], int):
            if control.from_student():
                events.append(f"opened file descriptor {args[0]} directly")
            return
        description = _AUDITED.get(event)
        if description and len(events) < 50 and control.from_student():
            events.append(f"{description} ({event})")

    sys.addaudithook(hook)
    return control


# torch's C functions that install a callback which is handed frames (the Python frame
# evaluation hook of torch.compile, its bytecode debugger, its guard hooks); no audit event
# covers them: (module, attribute) pairs of every binding found at start-up
_FRAME_CALLBACK_SETTERS = ("set_eval_frame", "set_bytecode_debugger_callback", "set_guard_error_hook", "set_guard_complete_hook")


class Guards:
    """The original callback setters replaced by :func:`guard_frame_callbacks`. Bind it to a
    local named ``_gradkit_guards`` of a function that stays on the stack while student
    code runs (the fork zygote's ``serve``): it is reachable only through that frame."""

    def __init__(self, control: AuditControl, events: list[str], originals: dict) -> None:
        self.control, self.events, self.originals = control, events, originals


def guard_frame_callbacks(control: AuditControl, events: list[str]) -> Guards:
    """Replace every module-level binding of the functions that install a callback which is
    handed frames and raise no audit event: torch's frame-callback setters
    (``torch._C._dynamo.eval_frame.set_eval_frame``...) and ``signal.signal`` (a handler
    gets the interrupted frame). While recording is on, the replacement refuses (and
    records) a callback that is not torch's own (for torch's setters) or that is the
    notebook's own code or a built-in such as ``list.append`` (for signal handlers),
    whoever passes it on; otherwise it calls the original.

    Returns:
        Guards: keep it in a local named ``_gradkit_guards`` of a frame below the student
        code; the replacements find the originals there, never through anything student
        code can reach without a frame.
    """
    import _signal

    originals: dict[str, object] = {"signal": _signal.signal}
    try:
        from torch._C._dynamo import eval_frame
    except ImportError:  # torch without dynamo
        eval_frame = None
    originals.update({name: getattr(eval_frame, name) for name in _FRAME_CALLBACK_SETTERS if hasattr(eval_frame, name)})
    dispatch = _dispatch_module_class()
    methods = {}
    if dispatch is not None:
        for attr in _DISPATCH_METHODS:
            if attr in vars(dispatch):
                originals[f"_DispatchModule.{attr}"] = vars(dispatch)[attr]
                methods[attr] = _kernel_wrapper(f"_DispatchModule.{attr}")
        for attr, wrapper in methods.items():
            setattr(dispatch, attr, wrapper)
    by_id = {id(original): name for name, original in originals.items() if not name.startswith("_DispatchModule.")}
    for module in list(sys.modules.values()):
        if not isinstance(module, types.ModuleType):
            continue
        namespace = vars(module)
        for key, value in list(namespace.items()):
            name = by_id.get(id(value))
            if name is not None and value is originals[name]:
                namespace[key] = _WRAPPERS[name]
    return Guards(control, events, originals)


def _torch_owned(callback) -> bool:
    """Whether a callback handed to a frame-callback setter is torch's own (``None``, a
    flag, or code that lives in torch's package, as ``torch.compile``'s are): a student's
    function, a bound ``list.append`` or an instance of a class the notebook defined is not."""
    import functools

    import torch

    home = os.path.dirname(torch.__file__) + os.sep
    for _ in range(10):
        if callback is None or type(callback) is bool:
            return True
        if type(callback) is functools.partial:
            callback = callback.func
        elif type(callback) is types.MethodType:
            callback = callback.__func__
        elif type(callback) is types.FunctionType:
            return callback.__code__.co_filename.startswith(home)
        else:
            cls = type(callback)
            call = getattr(cls, "__call__", None)
            return (cls.__module__ or "").startswith("torch.") and type(call) is types.FunctionType and call.__code__.co_filename.startswith(home)
    return False


def _guarded(name: str, args: tuple, kwargs: dict):
    frame = sys._getframe(2)
    guards = None
    while frame is not None:
        if "_gradkit_guards" in frame.f_code.co_varnames:
            guards = frame.f_locals.get("_gradkit_guards")
            if type(guards) is Guards and guards.originals:
                break
        frame = frame.f_back
    if frame is None:
        raise RuntimeError(f"{name} is not available while grading")
    control = guards.control
    if control.on and name.startswith("_DispatchModule."):
        # a kernel, schema or fallback registered for torch's dispatcher (torch.library):
        # refused when the notebook's own code asks (torch's own lazy registrations, made
        # while a module is imported, are torch's)
        asker = _asker_outside_torch(sys._getframe(2))
        if asker is not None and control.is_student(asker):
            if len(guards.events) < 50:
                guards.events.append(f"registered a torch operator kernel ({name.split('.', 1)[1]}, torch.library): refused")
            raise RuntimeError("registering torch operator kernels is not allowed while grading")
        self, rest = args[0], args[1:]
        return guards.originals[name].__get__(self, type(self))(*rest, **kwargs)
    if control.on:
        if name == "signal":  # signal.signal(signalnum, handler)
            handlers = list(args[1:2]) + [v for k, v in kwargs.items() if k == "handler"]
            allowed = all(_library_handler(handler, control) for handler in handlers)
        else:  # a callback that is not torch's own would be handed every frame the tests run
            allowed = all(_torch_owned(callback) for callback in list(args) + list(kwargs.values()))
        if not allowed:
            if len(guards.events) < 50:
                guards.events.append(f"installed a frame callback ({name}): refused")
            raise RuntimeError(f"{name} is not allowed while grading")
        if name == "signal":
            args = tuple(_without_frame(arg) if index == 1 else arg for index, arg in enumerate(args))
            kwargs = {key: _without_frame(value) if key == "handler" else value for key, value in kwargs.items()}
    return guards.originals[name](*args, **kwargs)


# the methods of torch's dispatcher registration object (torch.library.Library.m) that add
# or replace what an operator does
_DISPATCH_METHODS = ("impl", "impl_t_t", "impl_with_aoti_compile", "def_", "def_legacy", "def_name_t_t", "def_schema_t_t", "define",
                     "fallback", "fallback_fallthrough", "register_ad_inplace_or_view_fallback")


def _dispatch_module_class():
    try:
        import torch
    except ImportError:
        return None
    return getattr(torch._C, "_DispatchModule", None)


def _kernel_wrapper(name: str):
    """A method standing in for one of ``_DispatchModule``'s (it holds only the name)."""
    def method(self, *args, **kwargs):
        return _guarded(name, (self, *args), kwargs)
    method.__name__ = method.__qualname__ = name.split(".", 1)[1]
    return method


def _asker_outside_torch(frame):
    """The first frame up the stack outside torch's package and the standard library."""
    import torch

    home = os.path.dirname(torch.__file__) + os.sep
    while frame is not None and (frame.f_code.co_filename.startswith(home) or frame.f_code.co_filename.startswith(_STDLIB)):
        frame = frame.f_back
    return frame.f_code if frame is not None else None


def _library_handler(handler, control: AuditControl) -> bool:
    """A signal handler that is the default, ignored, or a library's Python function."""
    import signal

    if handler in (signal.SIG_DFL, signal.SIG_IGN) or handler is None or type(handler) is int:
        return True
    if type(handler) is types.MethodType:
        handler = handler.__func__
    return type(handler) is types.FunctionType and not control.is_student(handler.__code__)


_GRADKIT_HOME = os.path.dirname(os.path.abspath(__file__)) + os.sep
# the code whose handlers keep the frame: the engines' own (the tests' timeout handler
# finds its run in it) and this module's wrapper; not the rest of the package, whose
# shipped check library (autograder/shipped/) is the notebook's to call
_FRAME_KEEPERS = (os.path.join(_GRADKIT_HOME, "engines") + os.sep, os.path.abspath(__file__))


def _without_frame(handler):
    """A signal handler accepted while recording (:func:`_library_handler`), as it is
    installed: a library's handler is called with ``None`` for the interrupted frame.
    Which library code runs is the notebook's choice, and some keep their second argument
    where the notebook reads it back (``logging.addLevelName`` as the handler, then
    ``logging.getLevelName(signum)``; a library object's method, ``UserDict().setdefault``):
    that frame's ``f_back`` leads to the tests' runner. Returned as given: the default and
    ignore settings, the engines' own handler functions (the cells' and the tests'
    timeouts; the tests' finds its run in the frame), which keep nothing, and this
    wrapper (a handler read back with ``signal.getsignal`` and installed again). The
    rest of gradkit's package is wrapped too: its shipped check library is the
    notebook's to call, and a function that keeps an argument would keep the frame."""
    import signal

    if handler in (signal.SIG_DFL, signal.SIG_IGN) or handler is None or type(handler) is int:
        return handler
    if type(handler) is types.FunctionType and (handler.__code__.co_filename.startswith(_FRAME_KEEPERS[0])
                                                or handler.__code__.co_filename == _FRAME_KEEPERS[1]):
        return handler

    def library_handler(signum, frame):  # noqa: ARG001 - the frame is what is withheld
        return handler(signum, None)

    return library_handler


def _set_eval_frame(*args, **kwargs):
    return _guarded("set_eval_frame", args, kwargs)


def _set_bytecode_debugger_callback(*args, **kwargs):
    return _guarded("set_bytecode_debugger_callback", args, kwargs)


def _set_guard_error_hook(*args, **kwargs):
    return _guarded("set_guard_error_hook", args, kwargs)


def _set_guard_complete_hook(*args, **kwargs):
    return _guarded("set_guard_complete_hook", args, kwargs)


def _signal(*args, **kwargs):
    return _guarded("signal", args, kwargs)


_WRAPPERS = {"signal": _signal, "set_eval_frame": _set_eval_frame, "set_bytecode_debugger_callback": _set_bytecode_debugger_callback,
             "set_guard_error_hook": _set_guard_error_hook, "set_guard_complete_hook": _set_guard_complete_hook}


def foreign_threads() -> list[str]:
    """Names of Python threads other than the main one, and the OS thread count if higher."""
    names = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    try:
        tasks = len(os.listdir("/proc/self/task"))
    except OSError:
        tasks = 1
    if tasks > 1 + len(names):
        names.append(f"{tasks - 1 - len(names)} native thread(s)")
    return names


def kill_strays(owner_pids: set[int]) -> list[int]:
    """SIGKILL every process whose parent is in ``owner_pids`` or this process, or that
    shares this process's session when it leads one; return their pids."""
    me, session = os.getpid(), os.getsid(0)
    if session != me:  # not a session leader: the session is someone else's (a terminal's)
        session = -1
    killed = []
    for _ in range(20):  # a process that keeps forking is killed generation by generation
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == me:
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            ppid, sid = int(fields[1]), int(fields[3])
            if ppid in owner_pids | {me} or sid == session:
                found.append(int(entry))
        if not found:
            break
        for pid in found:
            if kill(pid):
                killed.append(pid)
    return sorted(set(killed))
