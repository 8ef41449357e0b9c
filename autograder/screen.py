"""Static screening of submitted code: tampering patterns found before anything runs.

Every code cell of a submission is turned into plain Python the way IPython would run it
(magics and ``!`` shell escapes become calls), parsed with :mod:`ast`, and walked for the
patterns a submission would use to raise its own score instead of answering:

* ``patch``: assigning to (or deleting) an attribute of an imported module, of a name
  bound to one (``lib = torch.nn.functional``) or of the ``grader`` (``torch.allclose =
  ...``, ``np.testing.x = ...``, ``grader.check = ...``), assigning anywhere to a name
  the grading code relies on (``m.allclose = ...``, ``gc.check_gradient = ...``) or to
  an attribute of ``type(...)``, rebinding an imported module's name or ``grader``
  (``=``, ``def``, ``class``, ``for``, ``with``, ``import ... as``), ``setattr``/
  ``delattr``, using a module or ``grader`` as a value (``lib = torch``, ``f(torch)``),
  ``grader.check`` with an environment of its own;
* ``dunder``: reaching dunder attributes (``x.__class__``, ``f.__globals__``,
  ``__builtins__``) or naming them in strings, defining the methods that change what
  comparison, truth, attribute lookup or torch dispatch mean (``__eq__``, ``__bool__``,
  ``__getattr__``, ``__torch_function__``...), and building classes with
  ``type(name, bases, namespace)``;
* ``introspection``: ``globals()``, ``locals()``, ``vars()``, ``sys.modules``,
  ``sys._getframe``, ``sys.path``, trace/audit hooks, stack frames (``f_globals``,
  ``f_back``...), private attributes of modules (``torch._C``), torch's dispatch
  overrides (``torch.library``, ``torch.overrides``), modules reached through other
  modules (``torch.os``, ``from torch import os``), the modules ``gc``, ``inspect``,
  ``ctypes``, ``importlib``, ``builtins``, ``types``, ``traceback``, ``unittest`` (mock),
  private modules, IPython and Jupyter internals, ``otter`` internals (imported or
  reached from ``otter``, and its result objects' ``update_score``,
  ``test_case_results``...) and the grader's own check library;
* ``dynamic-code``: ``exec``, ``eval``, ``compile``, ``__import__``, ``getattr`` with a
  computed name;
* ``file``/``process``: ``open``, ``os``, ``pathlib``, ``shutil``, ``io``, ``pickle``,
  ``codecs``, ``gzip``, NumPy/pandas file I/O (``tofile``, ``loadtxt``, ``read_csv``...),
  ``subprocess``, ``threading``, ``multiprocessing``, ``signal``, ``socket``, ``exit``/
  ``quit``/``sys.exit``/``SystemExit``, and the IPython magics that run shell commands or
  read and write files (``!cmd``, ``%%bash``, ``%run``, ``%writefile``...).

The list follows the issue that asked for the screen (grade integrity) and the escape
routes of in-process Python sandboxes. A pattern is a reason for an instructor to look,
not proof: a flagged submission is graded in full, marked ``needs review``, and its
questions count 0 until ``gradkit review`` clears it (:mod:`autograder.review`). The
honest solutions of the check corpus (``import math``, ``import copy``, NumPy,
``torch.autograd.grad``, ``nn.Module`` subclasses with ``super().__init__()``) raise no
finding, nor do the settings students copy in (``torch.backends.cudnn.deterministic =
True``, ``plt.rcParams[...] = ...``, ``pd.options...``); tests keep it so, and the
anti-cheat corpus (``tests/anticheat``) keeps every tampering sample flagged.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import replace

from IPython.core.inputtransformer2 import TransformerManager

from .findings import CODE_MAX, Finding
from .notebook_reader import code_cells
from .shipped import CHECKS, REFERENCE

__all__ = ["Finding", "clear_cache", "screen_notebook", "screen_source"]

# modules (and the first part of dotted names) whose attributes a submission must not set
_WATCHED_ROOTS = {"torch", "numpy", "otter", "builtins", CHECKS, REFERENCE, "sys", "os", "math", "copy", "random", "IPython", "scipy"}
_INTROSPECTION_MODULES = {"gc", "inspect", "ctypes", "importlib", "builtins", "types", "_ctypes", "code", "codeop", "marshal", "dis",
                          "sysconfig", "site", "atexit", "faulthandler", "tracemalloc", "weakref", "_thread", CHECKS,
                          REFERENCE, "otter",
                          "traceback", "pdb", "bdb", "trace", "cProfile", "profile", "unittest", "pytest", "copyreg", "pkgutil", "imp",
                          "zipimport", "runpy", "pydoc", "cffi", "sitecustomize", "usercustomize", "ipykernel", "jupyter_client",
                          "jupyter_core", "nbclient", "nbconvert", "nbformat", "tornado", "zmq", "wrapt"}
_FILE_MODULES = {"os", "posix", "pathlib", "shutil", "io", "_io", "pickle", "dill", "cloudpickle", "shelve", "tempfile", "glob", "fileinput",
                 "zipfile", "tarfile", "mmap", "linecache", "sqlite3", "json.tool", "codecs", "gzip", "bz2", "lzma", "tokenize", "dbm"}
_PROCESS_MODULES = {"subprocess", "threading", "multiprocessing", "concurrent", "signal", "socket", "asyncio", "pty", "resource", "sched",
                    "urllib", "http", "requests", "select", "selectors", "ssl", "ftplib", "smtplib", "telnetlib", "socketserver",
                    "xmlrpc", "webbrowser", "joblib", "psutil", "pexpect"}
# attributes that are modules: `torch.os`, `torch.nn.functional.torch`, `from torch import os`
# (less the names that are also functions or submodules of torch and NumPy: torch.select, np.select, torch.signal, torch.jit.trace)
_MODULE_ATTRS = ((_INTROSPECTION_MODULES | _FILE_MODULES | _PROCESS_MODULES | {"sys", "torch", "numpy"})
                 - {"code", "trace", "profile", "select", "signal"})
_TORCH_MACHINERY = {"library", "overrides", "ops"}
# submodules of torch, NumPy and otter a submission may use but has no reason to hand around as values
_SUBMODULES = {"nn", "functional", "autograd", "optim", "linalg", "testing", "utils", "backends", "func", "init", "random", "modules",
               "module", "fft", "special", "distributions", "jit", "serialization", "execute", "test_files", "check"}
# names otter keeps its grading state and results under; a notebook has no business with them
_OTTER_INTERNALS = {"update_score", "test_case_results", "_test_files", "get_results", "check_if_not_already_checked", "enable_tracking",
                    "disable_tracking", "clear_results", "init_grading_mode", "_grading_mode", "_tests_dir_override", "_track_results",
                    "test_cases", "test_func", "call_func", "_score", "_catastrophic_error", "to_gradescope_dict", "hide_everything",
                    "set_output", "clear_results", "_shelve", "results_path"}
# names the grading code relies on: assigning to them on any object is a patch
_GRADING_NAMES = {"allclose", "isclose", "equal", "eq", "ne", "assert_close", "assert_allclose", "assert_array_equal",
                  "assert_array_almost_equal", "assert_equal", "assert_almost_equal", "isfinite", "isnan", "isinf", "RTOL", "ATOL",
                  "CheckFailed", "describe", "require_defined", "seeded_points", "linear_mse_reference", "summed_loss_mistakes", "check",
                  "check_all", "run", "score"}
_FRAME_ATTRS = {"f_globals", "f_locals", "f_back", "f_builtins", "f_code", "f_trace", "f_lineno", "tb_frame", "tb_next", "gi_frame",
                "gi_code", "cr_frame", "cr_code", "ag_frame", "co_code", "co_consts", "co_filename", "co_names"}
_IO_CALLS = {"tofile", "fromfile", "loadtxt", "savetxt", "genfromtxt", "fromregex", "memmap", "DataSource", "read_csv", "read_table",
             "read_fwf", "read_json", "read_pickle", "to_pickle", "to_csv", "to_json", "read_text", "write_text", "read_bytes",
             "write_bytes", "from_file", "urlopen", "urlretrieve", "FileHandler", "RotatingFileHandler", "TimedRotatingFileHandler",
             "WatchedFileHandler"}
_IPYTHON_ALLOWED = {"IPython.display", "IPython.core.display"}
# unpickling runs code: `torch.load(f, weights_only=False)` of a hand-made file object, pickle.loads...
_UNPICKLE_CALLS = {"loads", "Unpickler", "add_safe_globals", "safe_globals"}
_UNPICKLE_KEYWORDS = {("weights_only", False), ("allow_pickle", True)}
_DANGEROUS_CALLS = {
    "exec": ("dynamic-code", "runs code built at run time"),
    "eval": ("dynamic-code", "runs code built at run time"),
    "compile": ("dynamic-code", "builds code at run time"),
    "__import__": ("dynamic-code", "imports a module by computed name"),
    "globals": ("introspection", "reads the notebook's global namespace"),
    "locals": ("introspection", "reads a namespace"),
    "vars": ("introspection", "reads an object's namespace"),
    "setattr": ("patch", "sets an attribute by name"),
    "delattr": ("patch", "deletes an attribute by name"),
    "open": ("file", "opens a file"),
    "exit": ("process", "ends the grading process"),
    "quit": ("process", "ends the grading process"),
    "breakpoint": ("process", "starts a debugger"),
    "get_ipython": ("introspection", "reaches the IPython shell that runs the notebook"),
}
_SYS_ALLOWED = {"version", "version_info", "platform", "float_info", "int_info", "maxsize", "stdout", "stderr", "byteorder", "float_repr_style"}
_OVERRIDES = {"__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__bool__", "__hash__", "__getattr__", "__getattribute__",
              "__setattr__", "__delattr__", "__instancecheck__", "__subclasscheck__", "__torch_function__", "__torch_dispatch__",
              "__array__", "__array_ufunc__", "__array_function__", "__float__", "__int__", "__index__", "__complex__", "__del__",
              "__reduce__", "__reduce_ex__", "__init_subclass__", "__set_name__", "__get__", "__set__", "__delete__", "__abs__",
              "__sub__", "__rsub__", "__isub__", "__truediv__", "__rtruediv__", "__round__"}
_DUNDERS_ALLOWED = {"__init__", "__name__", "__qualname__", "__doc__", "__version__", "__repr__", "__str__", "__len__",
                    "__getitem__", "__iter__", "__next__", "__call__", "__enter__", "__exit__", "__contains__"}
_MODULE_NAMES_REBOUND = _WATCHED_ROOTS | {"np", "otter", "nn", "F"}
# settings students copy in from tutorials: assigning them patches nothing the grader uses
_SETTINGS_PREFIXES = ("torch.backends.", "pd.options.", "pandas.options.")
_SETTINGS_ITEMS = ("rcParams",)
_SAFE_MAGICS = {"time", "timeit", "matplotlib", "config", "precision", "pprint", "who", "whos", "xmode", "debug", "pdb", "autoreload",
                "load_ext", "capture", "prun", "lsmagic", "magic", "pinfo", "pinfo2", "psearch", "recall", "reset_selective"}
# safe magics that run Python they are given: `%time stmt`, `%%timeit setup` + cell, `%%capture` cell,
# and %config, which IPython runs as `exec("cfg." + line, user namespace)`; that code is screened too
_CODE_MAGICS = {"time", "timeit", "capture", "prun", "debug", "config"}
# torch classes a notebook subclasses honestly (layers, autograd functions, data sets, optimizers)
_TORCH_BASES = ("torch.nn.", "torch.autograd.Function", "torch.autograd.function.Function", "torch.utils.data.", "torch.optim.",
                "torch.distributions.")
# calls that enter a context and leave it open after the cell: its mode or setting stays on
_OPEN_CONTEXT_CALLS = {"__enter__", "__aenter__", "__exit__", "__aexit__", "enter_context", "enter_async_context"}
# attribute-access helpers that take the attribute's name as data (operator's in C; the
# format-field ones follow `{0.name}`): with a computed or sensitive name they reach what
# `x.__class__` or `tb.tb_frame` written out would
_NAME_GETTERS = {"attrgetter", "methodcaller"}
_FIELD_GETTERS = {"get_field", "vformat", "format_field", "get_value", "convert_field"}
# built-ins that read or write attributes by name or build classes: as values (aliased,
# handed to reduce/map) they hide the name they act on
_NAME_BUILTINS = {"getattr", "setattr", "delattr", "vars", "type", "hasattr"}
# what a string names when it is a sensitive attribute: dunder cores, frames, otter's
# results, the grading channel and the comparisons the tests rely on
_SENSITIVE = ({name.strip("_") for name in _OVERRIDES} | _FRAME_ATTRS | _OTTER_INTERNALS
              | {"class", "dict", "globals", "builtins", "code", "closure", "traceback", "subclasses", "mro", "bases", "func",
                 "self", "enter", "exit", "import", "loader", "spec", "getframe", "f_locals", "allclose", "isclose", "assert_close",
                 "torch_function", "torch_dispatch", "library", "Library", "overrides", "send", "_exit", "socket", "modules",
                 "settrace", "setprofile", "get_objects", "get_referrers", "signal", "getsignal", "is_tensor"})


def _fold(node: ast.AST, env: dict[str, str], depth: int = 0) -> str | None:
    """The string an expression of constants evaluates to (``"_" * 2 + "kcab"[::-1]``,
    ``"".join([...])``, f-strings of constants, names bound once to such a value), or None."""
    if depth > 20:
        return None
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.Name):
        return env.get(node.id)
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Add):
            left, right = _fold(node.left, env, depth + 1), _fold(node.right, env, depth + 1)
            return left + right if left is not None and right is not None else None
        if isinstance(node.op, ast.Mult):
            for text, count in ((node.left, node.right), (node.right, node.left)):
                folded = _fold(text, env, depth + 1)
                if folded is not None and isinstance(count, ast.Constant) and type(count.value) is int and 0 <= count.value <= 64:
                    return folded * count.value
        return None
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
        text = _fold(node.value, env, depth + 1)
        parts = [node.slice.lower, node.slice.upper, node.slice.step]
        if text is None or not all(p is None or (isinstance(p, ast.Constant) and type(p.value) is int)
                                   or (isinstance(p, ast.UnaryOp) and isinstance(p.operand, ast.Constant)) for p in parts):
            return None
        try:
            return text[slice(*(None if p is None else ast.literal_eval(p) for p in parts))]
        except (ValueError, TypeError):
            return None
    if isinstance(node, ast.JoinedStr):
        pieces = [_fold(v.value if isinstance(v, ast.FormattedValue) else v, env, depth + 1) for v in node.values]
        return "".join(pieces) if all(p is not None for p in pieces) else None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join" and len(node.args) == 1:
        sep = _fold(node.func.value, env, depth + 1)
        arg = node.args[0]
        if isinstance(arg, ast.Call) and _is_name(arg.func, "reversed") and len(arg.args) == 1:
            inner = _fold(arg.args[0], env, depth + 1)
            return sep.join(reversed(inner)) if sep is not None and inner is not None else None
        if isinstance(arg, (ast.List, ast.Tuple)):
            items = [_fold(e, env, depth + 1) for e in arg.elts]
            return sep.join(items) if sep is not None and all(i is not None for i in items) else None
        inner = _fold(arg, env, depth + 1)
        return sep.join(inner) if sep is not None and inner is not None else None
    return None


def _constants(trees: list[ast.AST]) -> dict[str, str]:
    """Names bound exactly once, at any level, to a string :func:`_fold` can evaluate."""
    bound: dict[str, list[ast.AST]] = {}
    for tree in trees:
        for target, value in _tree_bindings(tree):
            for name in (n.id for n in ast.walk(target) if isinstance(n, ast.Name)):
                bound.setdefault(name, []).append(value if isinstance(target, ast.Name) else None)
    env: dict[str, str] = {}
    for _ in range(5):
        for name, values in bound.items():
            if len(values) == 1 and values[0] is not None and name not in env:
                folded = _fold(values[0], env)
                if folded is not None:
                    env[name] = folded
    return env


def _sensitive(text: str, plain: bool = True) -> str | None:
    """The sensitive attribute a string names, plainly (a dunder, ``a.__class__.b``,
    ``tb_frame``; only when ``plain``) or reversed (``"emarf_bt"``); None for ordinary text."""
    for candidate in ((text, text[::-1]) if plain else (text[::-1],)):
        for part in candidate.split("."):
            core = part.strip("_") if part.startswith("__") and part.endswith("__") and len(part) > 4 else part
            if candidate is text and part.startswith("__") and part.endswith("__") and len(part) > 4 and part not in _DUNDERS_ALLOWED | {"__main__"}:
                return part
            if len(part) >= 4 and (part in _SENSITIVE or (candidate is not text and core in _SENSITIVE)):
                return part
    return None


_TRANSFORMER = TransformerManager()


def screen_notebook(notebook) -> list[Finding]:
    """Screen every code cell of ``notebook`` (an ``nbformat.NotebookNode`` v4).

    Returns:
        list[Finding]: in cell and line order; empty for honest code. A cell that does not
        parse yields no finding (it cannot run either).
    """
    imported: set[str] = set()
    modules: set[str] = set()
    cells, trees = [], []
    for number, _, source in code_cells(notebook):
        python, tree = _python(source)
        cells.append((number, source, python, tree))  # transformed and parsed once, screened below
        # names bound by imports anywhere: a later cell may patch what an earlier one imported
        if tree is not None:
            imported |= _imported_names(tree)
            modules |= _module_names(tree)
            trees.append(tree)
    aliases = _aliases(trees, _WATCHED_ROOTS | imported | {"grader"})
    modules |= _module_aliases(trees, modules, _WATCHED_ROOTS | imported)
    origins = _origins(trees)
    constants = _constants(trees)
    # frozen sets cache their hash: the cache's key costs the same for a cell of a notebook of 10 or 10,000 names
    context = (frozenset(imported), frozenset(modules), frozenset(aliases), frozenset(origins.items()),
               frozenset(constants.items()))
    findings: list[Finding] = []
    for number, source, _, _ in cells:
        findings += _screen_in_context(source, number, context)
    return findings


def clear_cache() -> None:
    """Forget the screened cells and parsed sources kept between notebooks (for timing the
    screen from cold, as ``benchmarks/throughput.py`` does); results never depend on them."""
    _screen_in_context.cache_clear()
    _python.cache_clear()


@functools.lru_cache(maxsize=8192)
def _screen_in_context(source: str, cell: int, context: tuple) -> tuple[Finding, ...]:
    """:func:`_screen_tree` of one cell in a notebook's context (imported names, modules,
    aliases, origins, constants, as frozen sets and sorted pairs), kept for the last 8192
    cells: a class's notebooks share the template's cells, and honest notebooks share
    their context too, so most cells of a class are screened once. A pure function of its
    arguments: the screen keeps no state between cells."""
    imported, modules, aliases, origins, constants, watched = _thawed(context)
    python, tree = _python(source)
    return tuple(_screen_tree(source, python, tree, cell=cell, imported=imported, modules=modules, aliases=aliases,
                              origins=origins, constants=constants, watched=watched))


@functools.lru_cache(maxsize=4)
def _thawed(context: tuple) -> tuple:
    """A notebook's context (see :func:`_screen_in_context`) as the sets and dicts the screen
    reads, and its watched names: made once per notebook, not per cell (copies per cell made
    a notebook of n one-line cells cost n squared: 4,000 cells took 3.9 s, red team atk6).
    Shared by the notebook's cells, so never changed."""
    imported, modules, aliases, origins, constants = context
    return (set(imported), set(modules), set(aliases), dict(origins), dict(constants), _watched_names(imported, aliases))


def _watched_names(imported, aliases) -> set[str]:
    """The names whose attributes the screen watches: the watched roots, what the notebook
    imports and binds to them, the grader and ``__builtins__`` (sets of str in, a new set
    out)."""
    return _WATCHED_ROOTS | imported | aliases | {"grader", "__builtins__"}


def screen_source(source: str, *, cell: int = 1, imported: set[str] | None = None, modules: set[str] | None = None,
                  aliases: set[str] | None = None, origins: dict[str, str] | None = None,
                  constants: dict[str, str] | None = None) -> list[Finding]:
    """Screen one cell's source (IPython syntax allowed).

    Args:
        source: the cell's text.
        cell: its 1-based position, copied into the findings.
        imported: names bound by imports elsewhere in the notebook (this cell's own
            imports are added).
        modules: names bound to modules: by plain ``import`` statements, or to a module
            or one of its submodules (``m = torch.nn.functional``); this cell's are added.
        aliases: names bound elsewhere to a watched module or to something reached from
            one (``lib = torch.nn.functional``); this cell's are added.
        origins: name -> the dotted path it was imported or assigned from elsewhere
            (``F`` -> ``torch.utils.flop_counter.FlopCounterMode``); this cell's are added.
        constants: names bound once in the notebook to a string built from constants
            (``_u = "_" * 2``); this cell's when not given.

    Returns:
        list[Finding]: in line order.
    """
    python, tree = _python(source)
    return _screen_tree(source, python, tree, cell=cell, imported=imported, modules=modules, aliases=aliases,
                        origins=origins, constants=constants)


def _screen_tree(source: str, python: str, tree: ast.Module | None, *, cell: int, imported: set[str] | None,
                 modules: set[str] | None, aliases: set[str] | None, origins: dict[str, str] | None,
                 constants: dict[str, str] | None, watched: set[str] | None = None) -> list[Finding]:
    """:func:`screen_source` of a cell already turned into Python (``python``) and parsed
    (``tree``, None when it does not parse): :func:`screen_notebook` does both once per cell.
    With ``watched`` (:func:`_thawed`), the sets are the whole notebook's, which already hold
    what this cell imports and binds (the searches are closed over every cell's bindings), so
    they are used as given and not changed."""
    if tree is None:
        return []
    lines = python.splitlines()
    if watched is None:
        imported = (imported or set()) | _imported_names(tree)
        aliases = (aliases or set()) | _aliases([tree], _WATCHED_ROOTS | imported | {"grader"} | (aliases or set()))
        modules = (modules or set()) | _module_names(tree)
        modules |= _module_aliases([tree], modules, _WATCHED_ROOTS | imported)
    origins = _origins([tree]) if origins is None else origins  # screen_notebook passes the whole notebook's
    constants = _constants([tree]) if constants is None else constants
    visitor = _Screen(cell, lines, imported, modules, aliases, origins, constants, watched)
    visitor.visit(tree)
    if "get_ipython" in source and not any(f.message.startswith("reaches the IPython") for f in visitor.findings):
        line = next(i for i, text in enumerate(source.splitlines(), 1) if "get_ipython" in text)
        visitor.add_line(line, source.splitlines()[line - 1], "introspection", _DANGEROUS_CALLS["get_ipython"][1])
    typed = source.splitlines()  # once per cell, not per finding (a finding on each of 8,000 lines took seconds)
    return sorted({_as_typed(f, typed, lines) for f in visitor.findings}, key=lambda f: (f.line, f.rule, f.message))


def _as_typed(finding: Finding, typed: list[str], ran: list[str]) -> Finding:
    """The finding with its ``code`` as the student typed the line (``!ls``), not as
    IPython rewrote it (``get_ipython().system('ls')``), where the rewrite kept the lines
    (``typed``: the cell's lines as typed; ``ran``: as IPython rewrote them)."""
    if len(typed) != len(ran) or not 1 <= finding.line <= len(typed):
        return finding
    line = typed[finding.line - 1].strip()[:CODE_MAX]
    return finding if line == finding.code or not line else replace(finding, code=line)


@functools.lru_cache(maxsize=4096)
def _python(source: str) -> tuple[str, ast.Module | None]:
    """A cell's source as IPython runs it, and its parsed tree (None: it does not parse).

    Kept for the last 4096 distinct sources: most code cells of a class's submissions are
    the template's own (imports, worked examples, ``grader.check`` cells), alike in every
    notebook, and IPython's transformation and the parse were a third of the screen's
    time. The trees are shared between notebooks and never changed."""
    python = _TRANSFORMER.transform_cell(source)
    return python, _parse(python)


def _walk(tree: ast.AST) -> list[ast.AST]:
    """Every node of ``tree`` in :func:`ast.walk`'s order, listed once per tree and kept on
    it: the screen walks each cell's tree about ten times (imports, aliases until nothing
    changes, origins, constants), which was most of its cost. The trees are never changed."""
    nodes = tree.__dict__.get("_screen_nodes")
    if nodes is None:
        nodes = tree._screen_nodes = list(ast.walk(tree))
    return nodes


def _tree_bindings(tree: ast.AST) -> list[tuple[ast.AST, ast.AST]]:
    """:func:`_bindings` of every node of ``tree``, in walk order, listed once per tree."""
    found = tree.__dict__.get("_screen_bindings")
    if found is None:
        found = tree._screen_bindings = [binding for node in _walk(tree) for binding in _bindings(node)]
    return found


def _parse(python: str) -> ast.Module | None:
    try:
        return ast.parse(python)
    except (SyntaxError, ValueError):
        return None


def _imported_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in _walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add((alias.asname or alias.name).split(".")[0])
    return names


def _module_names(tree: ast.AST) -> set[str]:
    """Names bound by plain ``import`` statements (``import torch``, ``import numpy as np``)."""
    return {(alias.asname or alias.name).split(".")[0] for node in _walk(tree) if isinstance(node, ast.Import)
            for alias in node.names}


def _aliases(trees: list[ast.AST], watched: set[str]) -> set[str]:
    """Names bound (``=``, ``:=``, ``for``, ``with ... as``) to a watched name or to an
    attribute chain from one, directly or in a tuple or list, and so on through names bound
    to those (every name a target holds, ``x`` and ``i`` of ``x[i] = torch``).

    A search from the watched names over the bindings, each binding looked at once: passes
    over every binding until nothing changed took one pass per link of a chain
    (``a1 = a2`` ... ``a2000 = torch``, in that order: 108 s of the grading process's CPU
    for 2,000 lines, red team atk6)."""
    edges: dict[str, list[set[str]]] = {}
    for tree in trees:
        for target, value in _tree_bindings(tree):
            roots = _value_roots(value)
            if roots:
                names = {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
                for root in roots:
                    edges.setdefault(root, []).append(names)
    aliases: set[str] = set()
    todo = [name for name in watched if name in edges]
    while todo:
        for names in edges.get(todo.pop(), ()):
            for name in names:
                if name not in watched and name not in aliases:
                    aliases.add(name)
                    todo.append(name)
    return aliases


def _origins(trees: list[ast.AST], known: dict[str, str] | None = None) -> dict[str, str]:
    """Name -> the dotted path it stands for: from imports (``from torch.utils.flop_counter
    import FlopCounterMode as F``, ``import torch.nn as nn``) and plain assignments of a
    dotted name (``M = F``, ``Base = torch.overrides.TorchFunctionMode``), until nothing changes."""
    origins: dict[str, str] = dict(known or {})
    simple = []  # `name = dotted.name` bindings, in walk order (imports bind nothing _bindings lists)
    for tree in trees:
        for node in _walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    origins[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    origins[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        simple += [(target.id, value) for target, value in _tree_bindings(tree) if isinstance(target, ast.Name)
                   and isinstance(value, (ast.Name, ast.Attribute)) and _root(value)[0] != target.id]
    for _ in range(10):  # chains of aliases, without looping on `x = x.y`
        changed = False
        for name, value in simple:
            resolved = _resolve(value, origins)
            if resolved and origins.get(name) != resolved and name != resolved.split(".")[0]:
                origins[name] = resolved
                changed = True
        if not changed:
            break
    return origins


def _resolve(node: ast.AST, origins: dict[str, str]) -> str:
    """The dotted path ``a.b.c`` stands for, its root replaced by the root's origin ("" if not a dotted name)."""
    root, dotted = _root(node)
    if root is None:
        return ""
    origin = origins.get(root)
    return origin + dotted[len(root):] if origin else dotted


def _module_aliases(trees: list[ast.AST], modules: set[str], watched: set[str]) -> set[str]:
    """Names bound to a module (``m = torch``) or to a submodule reached from a watched name
    (``m = torch.nn.functional``), and so on through names bound to those. A search over
    the bindings, each looked at once (see :func:`_aliases`)."""
    by_name: dict[str, list[str]] = {}  # m -> names bound to m (`x = m`)
    by_attribute: dict[str, list[str]] = {}  # m -> names bound to a submodule of m (`x = m.nn`)
    for tree in trees:
        for target, value in _tree_bindings(tree):
            if not isinstance(target, ast.Name) or target.id in modules:
                continue
            if isinstance(value, ast.Name):
                by_name.setdefault(value.id, []).append(target.id)
            elif isinstance(value, ast.Attribute) and value.attr in _SUBMODULES:
                root = _root(value)[0]
                if root is not None:
                    by_attribute.setdefault(root, []).append(target.id)
    found: set[str] = set()
    todo = [t for m in modules for t in by_name.get(m, ())] + [t for w in watched for t in by_attribute.get(w, ())]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        todo += by_name.get(name, []) + by_attribute.get(name, [])
    return found


def _bindings(node: ast.AST) -> list[tuple[ast.AST, ast.AST]]:
    if isinstance(node, ast.Assign):
        return [(target, node.value) for target in node.targets]
    if isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
        return [(node.target, node.value)]
    if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
        return [(node.target, node.iter)]
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return [(item.optional_vars, item.context_expr) for item in node.items if item.optional_vars is not None]
    return []


def _value_roots(value: ast.AST) -> set[str]:
    """The root names of a binding's value that make its targets aliases when watched: of a
    name or attribute chain (``torch`` of ``torch.nn``), and of those in a tuple, list, set
    or starred element; none for anything else (a call, a subscript, a constant)."""
    if isinstance(value, (ast.Tuple, ast.List, ast.Set)):
        return set().union(*map(_value_roots, value.elts))
    if isinstance(value, ast.Starred):
        return _value_roots(value.value)
    if isinstance(value, (ast.Name, ast.Attribute)):
        root, _ = _root(value)
        return {root} if root is not None else set()
    return set()


def _root(node: ast.AST) -> tuple[str | None, str]:
    """The root name of ``a.b.c`` (``"a"``) and the dotted text, or (None, "")."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return node.id, ".".join(reversed(parts))
    return None, ""


class _Screen(ast.NodeVisitor):
    def __init__(self, cell: int, lines: list[str], imported: set[str], modules: set[str], aliases: set[str],
                 origins: dict[str, str] | None = None, constants: dict[str, str] | None = None,
                 watched: set[str] | None = None):
        self.cell = cell
        self.constants = constants or {}
        self._called: set[int] = set()  # ids of nodes that are the function of a call
        self.origins = origins or {}
        self.lines = lines
        self.imported = imported
        self.modules = modules
        self.aliases = aliases
        self.watched = _watched_names(imported, aliases) if watched is None else watched
        self.findings: list[Finding] = []
        self._bases: set[int] = set()  # ids of Name nodes that are the `x` of an `x.attr`

    def add_line(self, line: int, code: str, rule: str, message: str) -> None:
        self.findings.append(Finding(self.cell, line, code.strip()[:CODE_MAX], rule, message))

    def add(self, node: ast.AST, rule: str, message: str) -> None:
        line = getattr(node, "lineno", 1)
        self.add_line(line, self.lines[line - 1] if 0 < line <= len(self.lines) else "", rule, message)

    # imports -------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            # the notebook's provided record cells run `import gradkit_checks` (CHECKS) and
            # call its record(); setting its attributes stays flagged (_WATCHED_ROOTS)
            if not (alias.name == CHECKS and alias.asname is None):
                self._check_module(node, alias.name, None)
            self._check_import_binding(node, alias.asname or alias.name.split(".")[0])
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level:
            self.add(node, "introspection", "imports from a relative package")
        for alias in node.names:
            self._check_module(node, module, alias.name)
            self._check_import_binding(node, alias.asname or alias.name)
        self.generic_visit(node)

    def _check_import_binding(self, node: ast.AST, bound: str) -> None:
        if bound == "grader":
            self.add(node, "patch", "replaces the grader (import ... as grader)")

    def _check_module(self, node: ast.AST, module: str, name: str | None) -> None:
        top = module.split(".")[0]
        full = f"{module}.{name}" if name else module
        if top == "otter" and (module != "otter" or name not in (None, "Notebook")):
            self.add(node, "introspection", f"imports otter's internals ({full})")
        elif top.startswith("_") and top != "__future__":
            self.add(node, "introspection", f"imports the private module {full}")
        elif top == "IPython" and module != "IPython" and module not in _IPYTHON_ALLOWED:
            self.add(node, "introspection", f"imports IPython's internals ({full})")
        elif top == "IPython" and name is not None and name not in {"display", "get_ipython"} and module == "IPython":
            self.add(node, "introspection", f"imports IPython's internals ({full})")
        elif (full.rsplit(".", 1)[-1] in _MODULE_ATTRS and "." in full
              and top not in _INTROSPECTION_MODULES | _FILE_MODULES | _PROCESS_MODULES | {"sys"}):
            parent, last = full.rsplit(".", 1)
            self.add(node, self._module_rule(last), f"imports the module {last} through {parent} ({full})")
        elif top in _INTROSPECTION_MODULES - {"otter"}:
            self.add(node, "introspection", f"imports {full}")
        elif top in _FILE_MODULES:
            self.add(node, "file", f"imports {full} (file access)")
        elif top in _PROCESS_MODULES:
            self.add(node, "process", f"imports {full} (processes, threads or signals)")
        elif top == "sys" and name is not None and name not in _SYS_ALLOWED:
            self.add(node, "introspection", f"imports sys.{name}")
        elif top == "torch" and (name in {"_C", "_dynamo", "overrides", "library", "utils"} or "._C" in module
                                 or module.startswith("torch.utils.cpp")):
            self.add(node, "introspection", f"imports {full}")
        elif top in {"torch", "numpy"} and (any(part.startswith("_") for part in module.split(".")) or (name or "").startswith("_")
                                            or module.split(".")[-1] in _TORCH_MACHINERY or name in _TORCH_MACHINERY):
            self.add(node, "introspection", f"imports {full}")

    @staticmethod
    def _module_rule(name: str) -> str:
        top = name.split(".")[0]
        if top in _PROCESS_MODULES:
            return "process"
        return "file" if top in _FILE_MODULES else "introspection"

    # assignments ---------------------------------------------------------------------
    def _check_target(self, target: ast.AST, node: ast.AST, verb: str) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._check_target(element, node, verb)
        elif isinstance(target, ast.Starred):
            self._check_target(target.value, node, verb)
        elif isinstance(target, ast.Attribute):
            root, dotted = _root(target)
            base = target
            while isinstance(base, ast.Attribute):
                base = base.value
            inner = base
            while isinstance(inner, (ast.Attribute, ast.Subscript, ast.Call, ast.NamedExpr)):  # mods[0].x, getattr(torch, "nn").x
                if isinstance(inner, ast.Call):
                    inner = inner.args[0] if _is_name(inner.func, "getattr") and inner.args else inner.func
                else:
                    inner = inner.value
            if root is None and isinstance(inner, ast.Name) and inner.id in self.watched and inner.id != "grader":
                root, dotted = inner.id, ast.unparse(target)
            if root in self.watched and not dotted.startswith(_SETTINGS_PREFIXES):
                self.add(node, "patch", f"{verb} {dotted} (patches {'the grader' if root == 'grader' else 'a module'})")
            elif (target.attr in _GRADING_NAMES or target.attr.startswith("check_")) and root != "self":
                self.add(node, "patch", f"{verb} .{target.attr}, a name the grading code relies on")
            elif isinstance(base, ast.Call) and _is_name(base.func, "type"):
                self.add(node, "patch", f"{verb} an attribute of type(...) (patches a class)")
            elif target.attr.startswith("_") and not target.attr.startswith("__") and root not in {"self", "cls"}:
                self.add(node, "patch", f"{verb} the private attribute .{target.attr} of an object it did not define here")
        elif isinstance(target, ast.Subscript):
            root, dotted = _root(target.value)
            if root in self.watched and not dotted.endswith(_SETTINGS_ITEMS) and not dotted.startswith(_SETTINGS_PREFIXES):
                self.add(node, "patch", f"{verb} an item of {dotted}")
        elif isinstance(target, ast.Name) and verb != "deletes":
            if target.id == "grader" and not _is_notebook_call(getattr(node, "value", None)):
                self.add(node, "patch", "replaces the grader")
            elif target.id in self.imported and target.id in _MODULE_NAMES_REBOUND:
                self.add(node, "patch", f"rebinds the module name {target.id}")
            elif target.id == "__builtins__":
                self.add(node, "patch", "replaces __builtins__")

    def _visit_binding(self, node: ast.AST) -> None:
        """Every statement that binds or deletes targets: ``=``, ``+=``, annotated, ``:=``,
        ``for``, ``del``."""
        targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
        for target in targets:
            self._check_target(target, node, "deletes" if isinstance(node, ast.Delete) else "assigns to")
        self.generic_visit(node)

    visit_Assign = visit_AugAssign = visit_AnnAssign = visit_Delete = visit_NamedExpr = _visit_binding
    visit_For = visit_AsyncFor = _visit_binding

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self._check_target(node.target, node.iter, "assigns to")
        self.generic_visit(node)

    def visit_With(self, node: ast.With) -> None:
        for item in node.items:
            if item.optional_vars is not None:
                self._check_target(item.optional_vars, node, "assigns to")
        suspended = next((n for n in _same_function(node.body) if isinstance(n, (ast.Yield, ast.YieldFrom, ast.Await))), None)
        if suspended is not None:
            self.add(suspended, "introspection", "suspends inside a with block (yield/await): a generator that is not "
                                                 "resumed leaves the context on")
        self.generic_visit(node)

    visit_AsyncWith = visit_With

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name is not None:
            self._check_target(ast.Name(id=node.name, ctx=ast.Store()), node, "assigns to")
        self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> None:
        for name in node.names:
            if name in {"grader", "__builtins__"}:
                self.add(node, "patch", f"rebinds {name} from inside a function")
        self.generic_visit(node)

    # attribute access ----------------------------------------------------------------
    def visit_Attribute(self, node: ast.Attribute) -> None:
        attr = node.attr
        self._bases.add(id(node.value))
        if attr.startswith("__") and attr.endswith("__") and attr not in _DUNDERS_ALLOWED:
            self.add(node, "dunder", f"reaches the dunder attribute {attr}")
        elif attr in _FRAME_ATTRS:
            self.add(node, "introspection", f"reaches a stack frame or code object (.{attr})")
        elif attr in _OTTER_INTERNALS:
            self.add(node, "introspection", f"reaches otter's grading internals (.{attr})")
        root, dotted = _root(node)
        if root in self.watched and root != "grader":
            self._check_module_attribute(node, root, dotted)
        if root == "sys" and dotted.count(".") >= 1:
            member = dotted.split(".")[1]
            if member not in _SYS_ALLOWED:
                rule = "process" if member == "exit" else "introspection"
                self.add(node, rule, f"uses {'.'.join(dotted.split('.')[:2])}")
        elif root in {"os", "posix", "shutil", "pathlib", "subprocess", "signal", "threading", "multiprocessing", "socket", "io"}:
            self.add(node, "process" if root in _PROCESS_MODULES or dotted.startswith(("os.system", "os.fork", "os.kill", "os._exit", "os.exec", "os.spawn", "os.popen")) else "file",
                     f"uses {dotted}")
        elif root == "grader" and attr not in {"check", "check_all", "export", "to_pdf"}:
            self.add(node, "patch", f"reaches into the grader ({dotted})")
        self.generic_visit(node)

    def _check_module_attribute(self, node: ast.Attribute, root: str, dotted: str) -> None:
        """``x.attr`` where ``x`` is a module (or reached from one): private attributes, other
        modules, torch's dispatch overrides, otter and IPython internals."""
        attr, parent = node.attr, dotted.rsplit(".", 1)[0]
        if root in {"otter", "IPython"} and isinstance(node.value, ast.Name):
            if attr not in ({"Notebook"} if root == "otter" else {"display"}):
                self.add(node, "introspection", f"reaches {root}'s internals ({dotted})")
        elif dotted.startswith("otter.Notebook."):
            if dotted.count(".") == 2:
                self.add(node, "introspection", f"reaches otter's internals ({dotted})")
        elif attr.startswith("_") and not attr.startswith("__") and root not in {"sys", "os"}:
            self.add(node, "introspection", f"reaches the private attribute {dotted}")
        elif attr in _MODULE_ATTRS:
            self.add(node, self._module_rule(attr), f"reaches the module {attr} through {parent} ({dotted})")
        elif attr in _TORCH_MACHINERY and (root in self.imported or root == "torch") and dotted.count(".") == 1:
            self.add(node, "introspection", f"reaches torch's dispatch overrides ({dotted})")

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load) and id(node) not in self._called and node.id in _NAME_BUILTINS | _NAME_GETTERS:
            self.add(node, "dynamic-code", f"uses {node.id} as a value (aliased or handed on, it acts on names the screen cannot see)")
        if node.id in _DANGEROUS_CALLS:  # called or aliased (e = eval)
            rule, message = _DANGEROUS_CALLS[node.id]
            self.add(node, rule, f"{message} ({node.id})")
        elif node.id.startswith("__") and node.id.endswith("__") and node.id not in {"__name__", "__doc__"} | set(_DANGEROUS_CALLS):
            self.add(node, "dunder", f"uses {node.id}")
        elif isinstance(node.ctx, ast.Load) and id(node) not in self._bases and (node.id in self.modules or node.id == "grader"):
            what = "the grader" if node.id == "grader" else f"the module {node.id}"
            self.add(node, "patch", f"uses {what} as a value (aliases it or hands it on)")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if (isinstance(value, str) and len(value) > 4 and value.startswith("__") and value.endswith("__")
                and value[2:-2].isidentifier() and value not in _DUNDERS_ALLOWED | {"__main__"}):
            self.add(node, "dunder", f"names the dunder {value} in a string")
        elif isinstance(value, str) and value in _OPEN_CONTEXT_CALLS:  # getattr(mode, "__enter__")(), methodcaller(...)
            self.add(node, "introspection", f"names {value} in a string (enters or leaves a context by hand)")
        elif isinstance(value, str) and 4 <= len(value) <= 200 and _sensitive(value, plain=False):
            self.add(node, "dunder", f"names {_sensitive(value, plain=False)!r} reversed in a string ({value!r})")

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if isinstance(node.op, (ast.Add, ast.Mult)):
            folded = _fold(node, self.constants)
            if folded and (_sensitive(folded) or "").startswith("__") or folded and _sensitive(folded) in _FRAME_ATTRS | _OTTER_INTERNALS:
                self.add(node, "dunder", f"builds the name {_sensitive(folded)!r} from pieces")
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if isinstance(node.slice, ast.Slice):
            folded = _fold(node, self.constants)
            if folded and _sensitive(folded):
                self.add(node, "dunder", f"builds the name {_sensitive(folded)!r} by slicing a string")
        self.generic_visit(node)

    def _name_argument(self, node: ast.Call, what: str) -> None:
        """``attrgetter(name)``, ``methodcaller(name)``: flagged unless every name is a
        constant naming nothing sensitive."""
        for arg in node.args[:1] if what == "methodcaller" else node.args:
            folded = _fold(arg, self.constants)
            if folded is None:
                self.add(node, "dynamic-code", f"reads an attribute by computed name ({what})")
                return
            if _sensitive(folded):
                self.add(node, "dunder", f"reads the attribute {_sensitive(folded)!r} by name ({what})")
                return

    # calls ---------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        self._called.add(id(func))
        self._check_name_access(node, func, name)
        if isinstance(func, ast.Name) and func.id == "getattr" and len(node.args) >= 2 and not isinstance(node.args[1], ast.Constant):
            self.add(node, "dynamic-code", "reads an attribute by computed name (getattr())")
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call) and _is_name(func.value.func, "get_ipython"):
            self._check_magic(node, func.attr)
            return  # the get_ipython() inside is IPython's own rewriting of a magic
        elif isinstance(func, ast.Name) and func.id == "type" and len(node.args) == 3:
            self.add(node, "dunder", "builds a class at run time (type(name, bases, namespace))")
        elif name in _IO_CALLS or (name == "basicConfig" and any(k.arg == "filename" for k in node.keywords)):
            self.add(node, "file", f"reads or writes a file ({name})")
        elif name in _UNPICKLE_CALLS or any((k.arg, getattr(k.value, "value", None)) in _UNPICKLE_KEYWORDS for k in node.keywords):
            self.add(node, "file", f"unpickles data, which runs code ({name})")
        elif isinstance(func, ast.Attribute) and func.attr in _OPEN_CONTEXT_CALLS:
            self.add(node, "introspection", f"enters or leaves a context by hand ({func.attr}): what it switches on can stay on")
        elif name is not None and name.startswith("register_module_"):
            self.add(node, "introspection", f"installs a hook on every torch module ({name})")
        elif _root(func)[1] == "grader.check" and (len(node.args) > 1 or node.keywords):
            self.add(node, "patch", "runs a check against an environment of its own (grader.check(..., env))")
        for arg in node.args + [keyword.value for keyword in node.keywords]:
            root, dotted = _root(arg)
            if isinstance(arg, ast.Attribute) and arg.attr in _SUBMODULES and root in self.watched and root != "grader":
                self.add(node, "patch", f"hands the module {dotted} to a function")
        self.generic_visit(node)

    def _check_name_access(self, node: ast.Call, func: ast.AST, name: str | None) -> None:
        """Attribute access by a name given as data, and classes built by calling a metaclass."""
        resolved = _resolve(func, self.origins).rsplit(".", 1)[-1] if isinstance(func, (ast.Name, ast.Attribute)) else ""
        if name in _NAME_GETTERS or resolved in _NAME_GETTERS:
            self._name_argument(node, name if name in _NAME_GETTERS else resolved)
        elif name in _FIELD_GETTERS and isinstance(func, ast.Attribute):
            self.add(node, "dynamic-code", f"reads an attribute through a format field (Formatter.{name})")
        elif name in {"format", "format_map"} and isinstance(func, ast.Attribute):
            text = _fold(func.value, self.constants)
            if text is None and not isinstance(func.value, ast.Name):
                self.add(node, "dynamic-code", f"formats with a format string built at run time (.{name}), whose fields can read attributes")
            elif text is not None:
                for field in _format_fields(text):
                    found = _sensitive(field)
                    if found:
                        self.add(node, "dunder", f"reads the attribute {found!r} in a format field ({{{field}}})")
        if name == "Formatter" or resolved == "Formatter":
            self.add(node, "dynamic-code", "makes a string.Formatter (its get_field reads attributes by name)")
        # name, bases, namespace: a class made by calling a metaclass, whatever the spelling
        if (len(node.args) == 3 and isinstance(node.args[1], ast.Tuple) and (isinstance(node.args[2], ast.Dict)
                or (isinstance(node.args[2], ast.Call) and _is_name(node.args[2].func, "dict")))
                and not (isinstance(func, ast.Name) and func.id == "type")):
            self.add(node, "dunder", f"builds a class at run time by calling a metaclass ({ast.unparse(func)[:60]}(name, bases, namespace))")

    def _check_magic(self, node: ast.Call, method: str) -> None:
        if method in {"run_line_magic", "run_cell_magic"} and node.args and isinstance(node.args[0], ast.Constant):
            magic = str(node.args[0].value)
            if magic not in _SAFE_MAGICS:
                self.add(node, "process" if magic in {"bash", "sh", "script", "system", "sx", "sc", "perl", "ruby"} else "file",
                         f"uses the magic %{magic}")
            elif magic in _CODE_MAGICS:
                self._screen_magic_code(node, magic, method == "run_cell_magic")
        elif method in {"system", "getoutput"}:
            self.add(node, "process", "runs a shell command (!)")
        else:
            self.add(node, "introspection", f"reaches the IPython shell (get_ipython().{method})")
        for arg in node.args[1:]:
            self.visit(arg)

    def _screen_magic_code(self, node: ast.Call, magic: str, cell_magic: bool) -> None:
        """Screen the Python a code-running magic is given, reporting the lines of the cell."""
        texts = [arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else "" for arg in node.args[1:3]]
        line, body = texts[0], texts[1] if cell_magic and len(texts) > 1 else ""
        if magic == "prun" and any(option in line.split() for option in ("-D", "-T")):
            self.add(node, "file", "writes a file (%prun -D/-T)")
        codes = [("cfg." + line if magic == "config" else line, 0)]
        if cell_magic:
            codes.append((body, 1))  # the body starts on the cell's second line
        for code, offset in codes:
            python = _magic_python(code)
            tree = _parse(python) if python is not None else None
            if tree is None:
                continue
            inner = _Screen(self.cell, python.splitlines(), self.imported | _imported_names(tree), self.modules | _module_names(tree),
                            self.aliases)
            inner.visit(tree)
            for finding in inner.findings:
                line_number = node.lineno + (finding.line - 1 + offset if offset else 0)
                self.findings.append(Finding(self.cell, line_number, finding.code, finding.rule, f"{finding.message} (inside %{magic})"))

    def visit_Raise(self, node: ast.Raise) -> None:
        exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        if _is_name(exc, "SystemExit") or _is_name(exc, "KeyboardInterrupt"):
            self.add(node, "process", f"raises {exc.id} (ends the run early)")
        self.generic_visit(node)

    # definitions ---------------------------------------------------------------------
    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if node.name in _OVERRIDES:
            self.add(node, "dunder", f"defines {node.name} (changes what comparison, truth or lookup mean)")
        self._check_definition(node)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def _check_definition(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        if node.name == "grader":
            self.add(node, "patch", "replaces the grader (def/class grader)")
        elif node.name in self.imported and node.name in _MODULE_NAMES_REBOUND:
            self.add(node, "patch", f"rebinds the module name {node.name}")

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._check_definition(node)
        for base in node.bases:
            root, dotted = _root(base)
            resolved = _resolve(base, self.origins)
            if dotted in {"torch.Tensor", "Tensor", "float", "int", "type", "dict", "str", "np.ndarray", "numpy.ndarray"} or resolved == "torch.Tensor":
                self.add(node, "dunder", f"subclasses {dotted}")
            elif root is None:
                self.add(node, "dunder", f"subclasses a class computed at run time ({ast.unparse(base)[:80]})")
            elif resolved.split(".")[0] == "torch" and "Mode" in resolved.rsplit(".", 1)[-1]:
                self.add(node, "introspection", f"subclasses torch's mode class {resolved} (while on, it sees every torch operation)")
            elif resolved.split(".")[0] == "torch" and not resolved.startswith(_TORCH_BASES):
                self.add(node, "introspection", f"subclasses torch's internal class {resolved}")
        for keyword in node.keywords:
            if keyword.arg == "metaclass":
                self.add(node, "dunder", "defines a metaclass")
        self.generic_visit(node)


def _format_fields(text: str) -> list[str]:
    """The field names of a ``str.format`` string (``"{0.x} {y[1]}"`` -> ``["0.x", "y[1]"]``)."""
    import string

    try:
        return [field for _, field, _, _ in string.Formatter().parse(text) if field]
    except ValueError:
        return []


def _magic_python(code: str) -> str | None:
    """``code`` as IPython runs it, without the leading options (``-n 1 -r 1 stmt``) a magic
    takes before its statement; None if no suffix of it parses."""
    for _ in range(12):
        if not code.strip():
            return None
        python = _TRANSFORMER.transform_cell(code)
        if _parse(python) is not None:
            return python
        parts = code.strip().split(None, 1)
        code = parts[1] if len(parts) > 1 else ""
    return None


def _same_function(body: list[ast.stmt]):
    """Every node of ``body`` that runs in the same function (not in nested defs, lambdas or classes)."""
    stack = list(body)
    while stack:
        node = stack.pop()
        yield node
        stack += [child for child in ast.iter_child_nodes(node)
                  if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef))]


def _is_name(node: ast.AST | None, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _is_notebook_call(value: ast.AST | None) -> bool:
    """``otter.Notebook(...)`` or ``Notebook(...)``: how the student notebook creates ``grader``."""
    if not isinstance(value, ast.Call):
        return False
    root, dotted = _root(value.func)
    return dotted in {"otter.Notebook", "Notebook"}
