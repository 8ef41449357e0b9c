"""Static screening of submitted code: tampering patterns found before anything runs.

Every code cell of a submission is turned into plain Python the way IPython would run it
(magics and ``!`` shell escapes become calls), parsed with :mod:`ast`, and walked for the
patterns a submission would use to raise its own score instead of answering:

* ``patch``: assigning to (or deleting) an attribute of an imported module or of the
  ``grader`` (``torch.allclose = ...``, ``np.testing.x = ...``, ``grader.check = ...``),
  rebinding an imported module's name or ``grader``, ``setattr``/``delattr``;
* ``dunder``: reaching dunder attributes (``x.__class__``, ``f.__globals__``,
  ``__builtins__``), and defining the methods that change what comparison, truth,
  attribute lookup or torch dispatch mean (``__eq__``, ``__bool__``, ``__getattr__``,
  ``__torch_function__``...);
* ``introspection``: ``globals()``, ``locals()``, ``vars()``, ``sys.modules``,
  ``sys._getframe``, ``sys.path``, trace/audit hooks, and the modules ``gc``, ``inspect``,
  ``ctypes``, ``importlib``, ``builtins``, ``types``, ``otter`` internals and the
  grader's own check library;
* ``dynamic-code``: ``exec``, ``eval``, ``compile``, ``__import__``, ``getattr`` with a
  computed name;
* ``file``/``process``: ``open``, ``os``, ``pathlib``, ``shutil``, ``io``, ``pickle``,
  ``subprocess``, ``threading``, ``multiprocessing``, ``signal``, ``socket``, ``exit``/
  ``quit``/``sys.exit``/``SystemExit``, and the IPython magics that run shell commands or
  read and write files (``!cmd``, ``%%bash``, ``%run``, ``%writefile``...).

The list follows the issue that asked for the screen (grade integrity) and the escape
routes of in-process Python sandboxes. A pattern is a reason for an instructor to look,
not proof: a flagged submission is graded in full, marked ``needs review``, and its
questions count 0 until ``gradkit review`` clears it (:mod:`autograder.review`). The
honest solutions of the check corpus (``import math``, ``import copy``, NumPy,
``torch.autograd.grad``, ``nn.Module`` subclasses with ``super().__init__()``) raise no
finding; a test keeps it so.
"""

from __future__ import annotations

import ast
from dataclasses import asdict, dataclass

from IPython.core.inputtransformer2 import TransformerManager

__all__ = ["Finding", "screen_notebook", "screen_source"]

# modules (and the first part of dotted names) whose attributes a submission must not set
_WATCHED_ROOTS = {"torch", "numpy", "otter", "builtins", "gradkit_checks", "sys", "os", "math", "copy", "random", "IPython", "scipy"}
_INTROSPECTION_MODULES = {"gc", "inspect", "ctypes", "importlib", "builtins", "types", "_ctypes", "code", "codeop", "marshal", "dis",
                          "sysconfig", "site", "atexit", "faulthandler", "tracemalloc", "weakref", "_thread", "gradkit_checks", "otter"}
_FILE_MODULES = {"os", "posix", "pathlib", "shutil", "io", "_io", "pickle", "dill", "cloudpickle", "shelve", "tempfile", "glob", "fileinput",
                 "zipfile", "tarfile", "mmap", "linecache", "sqlite3", "json.tool"}
_PROCESS_MODULES = {"subprocess", "threading", "multiprocessing", "concurrent", "signal", "socket", "asyncio", "pty", "resource", "sched",
                    "urllib", "http", "requests", "select", "selectors", "ssl", "ftplib", "smtplib", "telnetlib"}
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
_SAFE_MAGICS = {"time", "timeit", "matplotlib", "config", "precision", "pprint", "who", "whos", "xmode", "debug", "pdb", "autoreload",
                "load_ext", "capture", "prun", "lsmagic", "magic", "pinfo", "pinfo2", "psearch", "history", "recall", "reset_selective"}
_TRANSFORMER = TransformerManager()


@dataclass(frozen=True)
class Finding:
    """One suspicious line of a submission.

    Attributes:
        cell: 1-based position of the cell in the submitted notebook (all cells counted,
            as in Jupyter's cell list).
        line: 1-based line in that cell's source as IPython runs it.
        code: that line, stripped, at most 200 characters.
        rule: ``patch``, ``dunder``, ``introspection``, ``dynamic-code``, ``file``,
            ``process`` or ``runtime`` (found while the code ran, see the fork engine).
        message: what the line does, naming the attribute or call.
    """

    cell: int
    line: int
    code: str
    rule: str
    message: str

    def text(self) -> str:
        """``cell 12, line 3: <message>: `<code>```, as shown to instructors."""
        return f"cell {self.cell}, line {self.line}: {self.message}: `{self.code}`"

    def to_dict(self) -> dict:
        """JSON-ready form (``cell``, ``line``, ``code``, ``rule``, ``message``)."""
        return asdict(self)


def screen_notebook(notebook) -> list[Finding]:
    """Screen every code cell of ``notebook`` (an ``nbformat.NotebookNode`` v4).

    Returns:
        list[Finding]: in cell and line order; empty for honest code. A cell that does not
        parse yields no finding (it cannot run either).
    """
    imported: set[str] = set()
    cells = []
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        cells.append((number, source))
        # names bound by imports anywhere: a later cell may patch what an earlier one imported
        tree = _parse(_TRANSFORMER.transform_cell(source))
        if tree is not None:
            imported |= _imported_names(tree)
    findings: list[Finding] = []
    for number, source in cells:
        findings += screen_source(source, cell=number, imported=imported)
    return findings


def screen_source(source: str, *, cell: int = 1, imported: set[str] | None = None) -> list[Finding]:
    """Screen one cell's source (IPython syntax allowed).

    Args:
        source: the cell's text.
        cell: its 1-based position, copied into the findings.
        imported: names bound by imports elsewhere in the notebook (this cell's own
            imports are added).

    Returns:
        list[Finding]: in line order.
    """
    python = _TRANSFORMER.transform_cell(source)
    tree = _parse(python)
    if tree is None:
        return []
    lines = python.splitlines()
    visitor = _Screen(cell, lines, (imported or set()) | _imported_names(tree))
    visitor.visit(tree)
    if "get_ipython" in source and not any(f.message.startswith("reaches the IPython") for f in visitor.findings):
        line = next(i for i, text in enumerate(source.splitlines(), 1) if "get_ipython" in text)
        visitor.add_line(line, source.splitlines()[line - 1], "introspection", _DANGEROUS_CALLS["get_ipython"][1])
    return sorted(set(visitor.findings), key=lambda f: (f.line, f.rule, f.message))


def _parse(python: str) -> ast.Module | None:
    try:
        return ast.parse(python)
    except (SyntaxError, ValueError):
        return None


def _imported_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add((alias.asname or alias.name).split(".")[0])
    return names


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
    def __init__(self, cell: int, lines: list[str], imported: set[str]):
        self.cell = cell
        self.lines = lines
        self.imported = imported
        self.watched = _WATCHED_ROOTS | imported | {"grader", "__builtins__"}
        self.findings: list[Finding] = []

    def add_line(self, line: int, code: str, rule: str, message: str) -> None:
        self.findings.append(Finding(self.cell, line, code.strip()[:200], rule, message))

    def add(self, node: ast.AST, rule: str, message: str) -> None:
        line = getattr(node, "lineno", 1)
        self.add_line(line, self.lines[line - 1] if 0 < line <= len(self.lines) else "", rule, message)

    # imports -------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._check_module(node, alias.name, None)
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level:
            self.add(node, "introspection", "imports from a relative package")
        for alias in node.names:
            self._check_module(node, module, alias.name)
        self.generic_visit(node)

    def _check_module(self, node: ast.AST, module: str, name: str | None) -> None:
        top = module.split(".")[0]
        full = f"{module}.{name}" if name else module
        if top == "otter" and (module != "otter" or name not in (None, "Notebook")):
            self.add(node, "introspection", f"imports otter's internals ({full})")
        elif top in _INTROSPECTION_MODULES - {"otter"}:
            self.add(node, "introspection", f"imports {full}")
        elif top in _FILE_MODULES:
            self.add(node, "file", f"imports {full} (file access)")
        elif top in _PROCESS_MODULES:
            self.add(node, "process", f"imports {full} (processes, threads or signals)")
        elif top == "sys" and name is not None and name not in _SYS_ALLOWED:
            self.add(node, "introspection", f"imports sys.{name}")
        elif top == "torch" and (name in {"testing", "_C", "_dynamo", "overrides", "library", "utils"} or ".testing" in module
                                 or "._C" in module or module.startswith("torch.utils.cpp")):
            self.add(node, "introspection", f"imports {full}")

    # assignments ---------------------------------------------------------------------
    def _check_target(self, target: ast.AST, node: ast.AST, verb: str) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._check_target(element, node, verb)
        elif isinstance(target, ast.Starred):
            self._check_target(target.value, node, verb)
        elif isinstance(target, ast.Attribute):
            root, dotted = _root(target)
            if root in self.watched:
                self.add(node, "patch", f"{verb} {dotted} (patches {'the grader' if root == 'grader' else 'a module'})")
        elif isinstance(target, ast.Subscript):
            root, dotted = _root(target.value)
            if root in self.watched:
                self.add(node, "patch", f"{verb} an item of {dotted}")
        elif isinstance(target, ast.Name) and verb != "deletes":
            if target.id == "grader" and not _is_notebook_call(getattr(node, "value", None)):
                self.add(node, "patch", "replaces the grader")
            elif target.id in self.imported and target.id in _WATCHED_ROOTS | {"np", "otter", "nn", "F"}:
                self.add(node, "patch", f"rebinds the module name {target.id}")
            elif target.id == "__builtins__":
                self.add(node, "patch", "replaces __builtins__")

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._check_target(target, node, "assigns to")
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._check_target(node.target, node, "assigns to")
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._check_target(node.target, node, "assigns to")
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._check_target(target, node, "deletes")
        self.generic_visit(node)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self._check_target(node.target, node, "assigns to")
        self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> None:
        for name in node.names:
            if name in {"grader", "__builtins__"}:
                self.add(node, "patch", f"rebinds {name} from inside a function")
        self.generic_visit(node)

    # attribute access ----------------------------------------------------------------
    def visit_Attribute(self, node: ast.Attribute) -> None:
        attr = node.attr
        if attr.startswith("__") and attr.endswith("__") and attr not in _DUNDERS_ALLOWED:
            self.add(node, "dunder", f"reaches the dunder attribute {attr}")
        root, dotted = _root(node)
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

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in _DANGEROUS_CALLS:  # called or aliased (e = eval)
            rule, message = _DANGEROUS_CALLS[node.id]
            self.add(node, rule, f"{message} ({node.id})")
        elif node.id.startswith("__") and node.id.endswith("__") and node.id not in {"__name__", "__doc__"} | set(_DANGEROUS_CALLS):
            self.add(node, "dunder", f"uses {node.id}")
        self.generic_visit(node)

    # calls ---------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id == "getattr" and len(node.args) >= 2 and not isinstance(node.args[1], ast.Constant):
            self.add(node, "dynamic-code", "reads an attribute by computed name (getattr())")
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call) and _is_name(func.value.func, "get_ipython"):
            self._check_magic(node, func.attr)
            return  # the get_ipython() inside is IPython's own rewriting of a magic
        self.generic_visit(node)

    def _check_magic(self, node: ast.Call, method: str) -> None:
        if method in {"run_line_magic", "run_cell_magic"} and node.args and isinstance(node.args[0], ast.Constant):
            magic = str(node.args[0].value)
            if magic not in _SAFE_MAGICS:
                self.add(node, "process" if magic in {"bash", "sh", "script", "system", "sx", "sc", "perl", "ruby"} else "file",
                         f"uses the magic %{magic}")
        elif method in {"system", "getoutput"}:
            self.add(node, "process", "runs a shell command (!)")
        else:
            self.add(node, "introspection", f"reaches the IPython shell (get_ipython().{method})")
        for arg in node.args[1:]:
            self.visit(arg)

    def visit_Raise(self, node: ast.Raise) -> None:
        exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        if _is_name(exc, "SystemExit") or _is_name(exc, "KeyboardInterrupt"):
            self.add(node, "process", f"raises {exc.id} (ends the run early)")
        self.generic_visit(node)

    # definitions ---------------------------------------------------------------------
    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if node.name in _OVERRIDES:
            self.add(node, "dunder", f"defines {node.name} (changes what comparison, truth or lookup mean)")
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for base in node.bases:
            root, dotted = _root(base)
            if dotted in {"torch.Tensor", "Tensor", "float", "int", "type", "dict", "str", "np.ndarray", "numpy.ndarray"}:
                self.add(node, "dunder", f"subclasses {dotted}")
        for keyword in node.keywords:
            if keyword.arg == "metaclass":
                self.add(node, "dunder", "defines a metaclass")
        self.generic_visit(node)


def _is_name(node: ast.AST | None, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _is_notebook_call(value: ast.AST | None) -> bool:
    """``otter.Notebook(...)`` or ``Notebook(...)``: how the student notebook creates ``grader``."""
    if not isinstance(value, ast.Call):
        return False
    root, dotted = _root(value.func)
    return dotted in {"otter.Notebook", "Notebook"}
