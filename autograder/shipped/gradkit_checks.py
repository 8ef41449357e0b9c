"""Student-side gradient checks: the recorder and the public (structure) checks.

This module ships to students as ``gradkit_checks.py`` beside the notebook, and into the
autograder zip; it depends on **torch and the standard library only** and never imports
the rest of gradkit. It holds no answer, reference function, seed or unseen point: the
hidden tests' value checks (the reference module beside this one in ``autograder/shipped/``,
in the autograder zip only) hold those.

Two jobs:

* **Recording answers when they are given.** A provided cell right after each answer cell
  calls :func:`record`; it snapshots what the checks need about that moment (values as
  Python floats, dtype, shape, leaf/``requires_grad``/``grad_fn``, ``.grad`` of leaf
  tensors and of a model's parameters, the optimizer's settings, and whether each gradient
  answer was read from autograd in the student's code) into the notebook's
  ``gradkit_records`` dict. Tests read the record with :func:`recorded`, never the
  mutable state as it is when they run.
* **Public checks** of structure only, on the record (and on the student's functions
  called on public points): they compare with no hidden value.

Every check raises :class:`CheckFailed` (an ``AssertionError``, so Otter's exception-based
tests count it as a failed test case) with a message that names the variable, says what
was found and the likely cause, and never prints a reference value (PrairieLearn's
``Feedback.check_*`` helpers are the model). Values are compared as plain Python floats
taken with torch's function and dispatch modes disabled (:func:`plain_floats`), so neither
a ``torch.Tensor`` subclass nor a mode left switched on can answer a comparison.
"""

from __future__ import annotations

import ast
import builtins
import collections
import contextlib
import functools
import math
import sys
from typing import Callable, Iterable, Sequence

import warnings

import torch

# otter's export cell validates the zip in a fresh kernel and turns that kernel's stderr
# into a RuntimeWarning; ipykernel 7 always logs this one line for its default TCP
# transport, which the student can do nothing about. The record cells import this module
# before the export cell runs, so the student's kernel ignores a stderr that holds only
# that line (any other kernel message still shows). Neither otter nor jupyter_client lets
# the export choose the IPC transport, so the filter is ours.
warnings.filterwarnings(
    "ignore",
    message=r"(?s)\s*\[IPKernelApp\] WARNING \| Kernel is running over TCP without encryption\.[^\n]*\n?\Z",
    category=RuntimeWarning,
)

__all__ = [
    "ATOL",
    "CUT_CAUSE",
    "PARAMETERS_CHANGED",
    "RECORDS",
    "RTOL",
    "CheckFailed",
    "allclose",
    "autograd_provenance",
    "call_linear_grads",
    "check_callable",
    "check_elementwise_function",
    "check_float_leaf",
    "check_from_autograd",
    "check_gradient_answer",
    "check_graph_output",
    "check_linear_grads_structure",
    "check_linear_layer",
    "check_optimizer",
    "describe",
    "dtype_word",
    "error_hint",
    "error_text",
    "none_gradient_message",
    "plain_floats",
    "record",
    "recorded",
    "is_plain",
    "require_defined",
    "snapshot",
    "unmodded",
    "wrong_shape_message",
]

RTOL = 1e-5
"""Relative tolerance of every value comparison (float32 answers carry ~6e-8 relative error)."""

ATOL = 1e-6
"""Absolute tolerance, for reference values at or near zero."""

RECORDS = "gradkit_records"
"""Name of the dict in the notebook's namespace that holds the records, one per key."""

_PLAIN = (torch.Tensor, torch.nn.Parameter)
_TENSOR_NAMES = frozenset(dir(torch.Tensor))


class CheckFailed(AssertionError):
    """A check did not pass; ``str(error)`` is the feedback shown to the student."""


# --------------------------------------------------------------------------- plain values


@contextlib.contextmanager
def unmodded():
    """Disable torch function modes, ``__torch_function__`` and dispatch modes inside.

    A mode a notebook left switched on (a ``TorchFunctionMode`` or ``TorchDispatchMode``,
    e.g. a ``FlopCounterMode`` subclass) could otherwise answer the checks' own tensor
    operations. Uses ``torch._C.DisableTorchFunction`` and
    ``torch.utils._python_dispatch._disable_current_modes`` (torch 2.x).
    """
    with torch._C.DisableTorchFunction():
        if not _dispatch_modes_on():  # nothing to switch off: what _disable_current_modes would do (about 15 us)
            yield
            return
        try:  # imported here, as before: through the interpreter's module dict, not the name sys.modules
            from torch.utils._python_dispatch import _disable_current_modes
        except ImportError:  # pragma: no cover - older torch
            _disable_current_modes = contextlib.nullcontext
        with _disable_current_modes():
            yield


def _dispatch_modes_on() -> bool:
    """Whether a dispatch mode is on (the Python key's or pre-dispatch stack), read through
    the same functions ``_disable_current_modes`` reads (torch 2.x; True where torch has
    neither, so the caller switches modes off as before). With both stacks empty that
    function pops and pushes nothing, so :func:`unmodded` skips it: the checks call
    :func:`unmodded` hundreds of times per submission (measured 2026-12-01).

    The two functions are bound when this module is imported (before any student code; in
    the fork engine's job server), never looked up by name when called: read through the
    name ``sys.modules``, a notebook that rebinds it to a dict whose ``get`` lies handed
    this function stand-ins that read the stacks as empty while its mode was on (red team
    atk5, ``b40``); this module's own names are snapshotted and checked after every test file."""
    if _STACK_LENGTHS is None:  # pragma: no cover - another torch: switch modes off as before
        return True
    dispatch, pre_dispatch = _STACK_LENGTHS
    return bool(dispatch() or pre_dispatch())


def _bound_stack_lengths():
    """torch's two dispatch mode stack lengths (the Python key's, torch 2.x's pre-dispatch),
    or None where this torch has other names."""
    try:
        from torch._ops import _len_torch_dispatch_stack_pre_dispatch
        from torch.utils._python_dispatch import _len_torch_dispatch_stack
    except ImportError:  # pragma: no cover - another torch
        return None
    return (_len_torch_dispatch_stack, _len_torch_dispatch_stack_pre_dispatch)


_STACK_LENGTHS = _bound_stack_lengths()
_MODULES = sys.modules  # the interpreter's module dict, bound before any student code: the name can be rebound


def is_plain(value: object) -> bool:
    """Whether ``value`` is exactly a ``torch.Tensor`` or ``nn.Parameter`` (not a subclass)
    whose own attributes shadow none of ``torch.Tensor``'s.

    Tensor methods are non-data descriptors: an instance attribute of the same name
    (``t.__dict__["detach"] = ...``) wins over the class's method, so a plain tensor could
    still answer ``t.detach()`` with anything. The checks call torch's class-level
    functions (``torch.Tensor.detach(t)``) on answers and refuse such tensors.

    Returns:
        bool: True for an ordinary tensor or parameter.
    """
    if type(value) not in _PLAIN:
        return False
    try:
        own = vars(value)
    except TypeError:
        return True
    if type(own) is dict and not own:  # almost every tensor: nothing of its own, so nothing shadowed
        return True  # (the intersection below builds a set of torch.Tensor's 751 names: about 45 us a call)
    # the dict's own keys: a dict subclass bound as __dict__ can override keys() (red team atk5),
    # while attribute lookup reads the dict's entries directly
    return not (dict.keys(own) & _TENSOR_NAMES)


def plain_floats(value: torch.Tensor) -> list[float]:
    """The elements of a plain tensor as a flat list of Python floats (row-major).

    Args:
        value: a ``torch.Tensor`` or ``nn.Parameter`` (not a subclass), any shape and
            real dtype.

    Returns:
        list[float]: ``value.numel()`` floats, computed with torch's modes disabled.

    Raises:
        TypeError: ``value`` is not exactly a tensor or a parameter, or shadows its methods
            (:func:`is_plain`).
    """
    if not is_plain(value):
        raise TypeError(f"not a plain tensor: {type(value).__name__}")
    with unmodded(), torch.no_grad():
        data = torch.Tensor.detach(value).to("cpu", torch.float64).reshape(-1).tolist()
    return [float(v) for v in data]


def allclose(got: Sequence[float], ref: Sequence[float], *, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """``|got - ref| <= atol + rtol * |ref|`` elementwise on Python floats (as ``torch.allclose``).

    Args:
        got, ref: sequences of floats of the same length.

    Returns:
        bool: False for different lengths or any non-finite ``got``.
    """
    got, ref = [float(g) for g in got], [float(r) for r in ref]
    if len(got) != len(ref):
        return False
    return all(math.isfinite(g) and abs(g - r) <= atol + rtol * abs(r) for g, r in zip(got, ref))


# --------------------------------------------------------------------------- snapshots


def describe(value: object, *, values: bool = True) -> str:
    """Describe ``value`` (an object or a :func:`snapshot`) for a feedback message.

    Returns:
        str: e.g. ``"a float32 tensor of shape (1, 3) with grad_fn=AddBackward0"``,
        ``"the float 1.0"`` or ``"None"``. Tensors with at most 6 elements show their
        values (they are the student's own values, never a reference) unless ``values``
        is false: the hidden tests describe what the student's code returned at points it
        never saw that way, since those values would let a student solve for the points.
        Without ``values`` a class made at run time (a tensor subclass's or any object's
        type not found again by its module and name) is not named either, nor a custom
        ``autograd.Function``'s ``grad_fn`` (its class is made with the Function), nor the
        methods an object's attributes replace.
    """
    if isinstance(value, dict) and "kind" in value and "describe" in value:
        return value["describe"]
    if value is None:
        return "None"
    if value is Ellipsis:
        return "`...` (the template's placeholder)"
    if isinstance(value, torch.Tensor):
        text = f"a {str(value.dtype).replace('torch.', '')} tensor of shape {tuple(value.shape)}"
        if type(value) not in _PLAIN:
            return f"a {_type_name(type(value), values)} (a subclass of torch.Tensor)"
        if not is_plain(value):
            replaced = f" ({', '.join(sorted(dict.keys(vars(value)) & _TENSOR_NAMES))})" if values else ""
            return f"a {type(value).__name__} whose own attributes replace its methods{replaced}"
        if value.grad_fn is not None:
            custom = isinstance(value.grad_fn, torch.autograd.function.BackwardCFunction)
            text += (" with the grad_fn of a custom autograd.Function" if custom and not values
                     else f" with grad_fn={type(value.grad_fn).__name__}")
        if values and torch.Tensor.numel(value) <= 6 and not torch.Tensor.is_complex(value):
            floats = plain_floats(value)
            shown = f"{floats[0]:.6g}" if torch.Tensor.dim(value) == 0 else str([round(v, 6) for v in floats])
            text += f", value {shown}"
        return text
    if isinstance(value, bool):
        return f"the bool {value}"
    if isinstance(value, (int, float)):
        return f"the {type(value).__name__} {value!r}" if values else f"a {_type_name(type(value), values)}"
    return f"an object of type {_type_name(type(value), values)}"


def _type_name(kind: type, values: bool) -> str:
    """``kind.__name__`` for a message; without ``values`` (a hidden test's unseen points),
    only the name of a class defined in a module's code (found again by its module and
    qualified name): code can make a class at run time whose name holds the points."""
    if values:
        return kind.__name__
    found = _MODULES.get(kind.__module__)
    for part in kind.__qualname__.split("."):
        found = getattr(found, part, None)
    return kind.__name__ if found is kind else "<class made at run time>"


def snapshot(value: object, *, values: bool = True) -> dict:
    """What the checks need to know about one answer, as it is now.

    Args:
        value: any object (``None`` for a name that is not defined).
        values: whether ``describe`` may show the values (see :func:`describe`).

    Returns:
        dict: ``kind`` (``"missing"``, ``"ellipsis"``, ``"tensor"``, ``"number"``,
        ``"callable"``, ``"linear"`` (an ``nn.Linear``), ``"optimizer"``, ``"other"``),
        ``describe`` (for messages), ``object`` (the object itself, for graph and identity
        checks) and, for a tensor: ``plain``, ``dtype``, ``shape``, ``floating``,
        ``is_leaf``, ``requires_grad``, ``grad_fn``, ``values`` (Python floats, ``None``
        for a subclass or a complex tensor) and ``grad`` (the snapshot of ``.grad`` of a
        leaf, or ``None``); for a number: ``values``; for an ``nn.Linear``:
        ``in_features``, ``out_features``, ``has_bias``, ``weight``, ``bias`` (tensor
        snapshots, with their ``.grad``); for an optimizer: ``class``, ``lrs``, ``params``
        (the parameter objects).
    """
    snap = {"object": value, "describe": describe(value, values=values)}
    if value is None:
        snap["kind"] = "missing"
    elif value is Ellipsis:
        snap["kind"] = "ellipsis"
    elif isinstance(value, torch.Tensor):
        plain = is_plain(value)
        snap.update(kind="tensor", plain=plain, dtype=str(value.dtype).replace("torch.", ""), shape=tuple(value.shape),
                    floating=bool(torch.Tensor.is_floating_point(value)), is_leaf=bool(value.is_leaf),
                    requires_grad=bool(value.requires_grad),
                    grad_fn=type(value.grad_fn).__name__ if value.grad_fn is not None else None,
                    values=plain_floats(value) if plain and not torch.Tensor.is_complex(value) else None, grad=None)
        if plain and value.is_leaf and value.grad is not None:
            snap["grad"] = snapshot(value.grad, values=values)
    elif type(value) in (int, float):  # exactly: a subclass could lie through __float__ or __eq__
        snap.update(kind="number", values=[float(value)], is_int=type(value) is int)
    elif isinstance(value, torch.nn.Linear):
        snap.update(kind="linear", in_features=value.in_features, out_features=value.out_features,
                    has_bias=value.bias is not None, weight=snapshot(value.weight),
                    bias=snapshot(value.bias) if value.bias is not None else None)
    elif isinstance(value, torch.optim.Optimizer):
        snap.update(kind="optimizer", cls=type(value), lrs=[g.get("lr") for g in value.param_groups],
                    params=[p for g in value.param_groups for p in g["params"]])
    elif isinstance(value, torch.nn.Module):
        snap["kind"] = "module"
    elif callable(value):
        snap["kind"] = "callable"
    else:
        snap["kind"] = "other"
    return snap


# --------------------------------------------------------------------------- provenance


_AUTOGRAD_MODULES = ("torch.autograd", "torch")


def _history(namespace: dict) -> list[str] | None:
    history = namespace.get("_ih")
    if not isinstance(history, list):
        history = namespace.get("In")
    if not isinstance(history, list) or not all(isinstance(s, str) for s in history):
        return None
    return list(history)


# node classes that are always leaves and never a name, an attribute or a binding (contexts
# and operators): left out of _child_nodes, the walks below skip them
_LEAVES = frozenset(cls for cls in vars(ast).values()
                    if isinstance(cls, type) and issubclass(cls, (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)))


def _child_nodes(node: ast.AST, kids: dict) -> list:
    """``ast.iter_child_nodes(node)`` as a list in the same order, without :data:`_LEAVES`;
    computed once per node and kept in ``kids`` (by ``id``, with the node, so the id stays
    its own while the digest runs). One cell's tree is walked four times (bindings,
    fillings, statements, each value's reads); ``ast.walk``'s generators made that half of
    a notebook's digest time (2026-12-01), hence this hand-written walk."""
    entry = kids.get(id(node))
    if entry is None:
        found = []
        for name in node._fields:
            value = getattr(node, name, None)  # as ast.iter_fields: a missing field is skipped
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST) and type(item) not in _LEAVES:
                        found.append(item)
            elif isinstance(value, ast.AST) and type(value) not in _LEAVES:
                found.append(value)
        entry = kids[id(node)] = (node, found)
    return entry[1]


def _reads(node: ast.AST, kids: dict) -> tuple[bool, frozenset[str]]:
    """What an expression reads, as the provenance needs it: ``(True, frozenset())`` when
    anything in it reads ``.grad`` (``x.grad``, ``model.weight.grad``,
    ``torch.autograd.grad(...)``), else ``(False, every name it reads)``. It uses autograd's
    result when it reads ``.grad`` or a tainted name (:func:`_uses`). ``kids``: the
    tree's :func:`_child_nodes` cache."""
    names = set()
    stack = [node]
    while stack:  # any order: the answer does not depend on it
        sub = stack.pop()
        if isinstance(sub, ast.Attribute) and sub.attr == "grad":
            return True, frozenset()
        if isinstance(sub, ast.Name):
            names.add(sub.id)
        stack += _child_nodes(sub, kids)
    return False, frozenset(names)


def _uses(reads: tuple[bool, frozenset[str]], tainted: set[str]) -> bool:
    """Whether an expression with these :func:`_reads` reads ``.grad`` or a tainted name."""
    return reads[0] or not reads[1].isdisjoint(tainted)


def _target_names(target: ast.AST) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for elt in target.elts for n in _target_names(elt)]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return []


# the node classes _bindings looks at (ast.parse makes nodes of these exact classes); every
# other node is only walked through
_BINDERS = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.Assign, ast.AnnAssign, ast.AugAssign,
                      ast.For, ast.AsyncFor, ast.comprehension, ast.withitem, ast.NamedExpr, ast.ImportFrom})


def _bindings(tree: ast.AST, *, top_level: bool, kids: dict):
    """(names, value node or None) for every binding; with ``top_level`` not inside
    functions. ``kids``: the tree's :func:`_child_nodes` cache."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if type(node) not in _BINDERS:
            stack.extend(reversed(_child_nodes(node, kids)))
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                yield node, [node.name], node
            if top_level:
                continue
        if isinstance(node, ast.Assign):
            for target in node.targets:
                yield node, _target_names(target), node.value
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None:
            yield node, _target_names(node.target), node.value
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            yield node, _target_names(node.target), node.iter
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            yield node, _target_names(node.optional_vars), node.context_expr
        elif isinstance(node, ast.NamedExpr):
            yield node, _target_names(node.target), node.value
        elif isinstance(node, ast.ImportFrom) and (node.module or "") in _AUTOGRAD_MODULES:
            for alias in node.names:
                if alias.name in ("grad", "autograd"):
                    yield node, [alias.asname or alias.name], ast.Attribute(value=ast.Name(id="_", ctx=ast.Load()), attr="grad", ctx=ast.Load())
        stack.extend(reversed(_child_nodes(node, kids)))


_FILLING_METHODS = frozenset({"append", "extend", "insert", "update", "setdefault", "add", "appendleft", "extendleft"})


def _base_name(node: ast.AST) -> str | None:
    """``grads`` for ``grads``, ``grads[k]``, ``grads.items``... (the container a target or call fills)."""
    while isinstance(node, (ast.Subscript, ast.Attribute)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


_FILLERS = frozenset({ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Call})  # the node classes _fillings looks at


def _fillings(tree: ast.AST, kids: dict):
    """(container name, value node) for every statement that fills a container in place:
    ``grads[k] = v``, ``grads.x = v``, ``grads[k] += v``, ``grads.append(v)`` and the other
    methods of :data:`_FILLING_METHODS` (a list or dict of gradients filled in a loop), in
    ``ast.walk``'s order. ``kids``: the tree's :func:`_child_nodes` cache."""
    todo = collections.deque([tree])
    while todo:
        node = todo.popleft()
        todo.extend(_child_nodes(node, kids))
        if type(node) not in _FILLERS:
            continue
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and node.value is not None:
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                if isinstance(target, (ast.Subscript, ast.Attribute)):
                    name = _base_name(target)
                    if name:
                        yield name, node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _FILLING_METHODS:
            name = _base_name(node.func.value)
            if name:
                for arg in [*node.args, *(k.value for k in node.keywords)]:
                    yield name, arg


def autograd_provenance(sources: Sequence[str], names: Iterable[str]) -> dict[str, bool | None]:
    """Whether each name was last set, in ``sources``, from autograd's result.

    A value comes from autograd when the expression that last binds the name at the top
    level of a cell (in the order of the cells and lines; bindings inside ``if``/``for``/
    ``try``/``with`` bodies count only when there is no top-level one) reads ``.grad`` of something or calls ``torch.autograd.grad``
    (in any spelling: ``autograd.grad``, ``from torch.autograd import grad``), directly or
    through other names or functions bound from such expressions, or through a container
    filled with such values in place (``grads.append(p.grad)``, ``grads[name] = t.grad``). A copy made in code
    (``.clone()``, ``.item()``, ``float(...)``) keeps it; a number typed in or a formula
    derived by hand does not.

    Args:
        sources: the notebook's cells as run so far (IPython's ``_ih``), Python syntax;
            cells that do not parse are skipped.
        names: the answer names to judge.

    Returns:
        dict: name -> True (from autograd), False (set otherwise), None (no statement in
        the cells sets it, e.g. set through ``globals()``).
    """
    digests = [_digest(source) for source in sources]
    digests = [digest for digest in digests if digest is not None]
    tainted: set[str] = set()
    for _ in range(20):  # names tainted through other names: a few rounds reach the fixpoint
        before = len(tainted)
        for bindings, fillings, _statements in digests:
            for targets, reads in bindings:
                if _uses(reads, tainted):
                    tainted.update(targets)
            for container, reads in fillings:
                if _uses(reads, tainted):
                    tainted.add(container)
        if len(tainted) == before:
            break
    wanted = set(names)

    # the last statement of the notebook's top level that binds the name decides; bindings
    # inside if/for/while/try/with bodies may not have run, so they decide only when there
    # is no top-level one (then any of them reading autograd's result is enough)
    last: dict[str, bool] = {}
    nested: dict[str, bool] = {}
    for _, _, statements in digests:
        for direct, found in statements:
            for target, reads in found:
                if target not in wanted:
                    continue
                verdict = reads is not None and _uses(reads, tainted)
                if direct:
                    last[target] = verdict
                else:
                    nested[target] = nested.get(target, False) or verdict
    for name, value in nested.items():
        last.setdefault(name, value)
    return {name: last.get(name) for name in names}


def _cell_digest(source) -> tuple | None:
    """What :func:`autograd_provenance` needs of one cell, from its syntax tree, in the
    order it reads it; ``None`` for a cell that does not parse.

    Returns:
        tuple | None: ``(bindings, fillings, statements)``, immutable all through:
        ``bindings``: ``(targets, reads)`` per binding anywhere in the cell (:func:`_bindings`),
        ``fillings``: ``(container, reads)`` per in-place filling (:func:`_fillings`),
        ``statements``: ``(direct, found)`` per top-level statement that binds a name, with
        ``direct`` for an assignment or import and ``found`` its ``(target, reads)`` in
        the order of their positions; ``reads`` is :func:`_reads` of the value, or
        ``None`` for a ``def``/``class`` (never from autograd).

    Raises:
        whatever ``ast.parse`` raises besides ``SyntaxError`` and ``ValueError``.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    kids: dict = {}  # _child_nodes of this tree
    known: dict = {}  # id(value) -> (value, _reads(value)): the statements read the bindings' values again

    def reads_of(value: ast.AST) -> tuple[bool, frozenset[str]]:
        entry = known.get(id(value))
        if entry is None:
            entry = known[id(value)] = (value, _reads(value, kids))
        return entry[1]

    bindings = tuple((tuple(targets), reads_of(value)) for _node, targets, value in _bindings(tree, top_level=False, kids=kids)
                     if value is not None)
    fillings = tuple((container, reads_of(value)) for container, value in _fillings(tree, kids))
    statements = []
    for statement in tree.body:
        direct = isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.ImportFrom))
        found = []
        for node, targets, value in _bindings(statement, top_level=True, kids=kids):
            reads = (None if value is None or isinstance(value, (ast.FunctionDef, ast.ClassDef))
                     else reads_of(value))
            for target in targets:
                found.append(((getattr(node, "lineno", 0), getattr(node, "col_offset", 0)), target, reads))
        if found:
            statements.append((direct, tuple((target, reads) for _pos, target, reads in sorted(found, key=lambda item: item[0]))))
    return bindings, fillings, tuple(statements)


# Each record (a provided cell after each answer) judges every cell run so far: without
# this cache every cell would be parsed and walked once per record after it (quadratic in
# the cells). The cache is keyed by the cell's exact text (only an exact ``str``: a
# subclass could compare equal to another text; it is digested every time), holds
# immutable digests only, and keeps them in functools.lru_cache's C-level table, which no
# Python attribute exposes (only gc's object searches, refused to student code while
# grading); filling it means computing the true digest of that exact text. _cell_digest is
# a name of this module, so the grader's snapshot covers its code like the rest.
_cached_digest = functools.lru_cache(maxsize=4096)(_cell_digest)


def _digest(source) -> tuple | None:
    """:func:`_cell_digest` of ``source``, computed once per exact text."""
    return _cached_digest(source) if type(source) is str else _cell_digest(source)


# --------------------------------------------------------------------------- records


def record(key: str, names: Sequence[str], *, gradients: Sequence[str] = ()) -> None:
    """Record answers as they are now, into the calling notebook's ``gradkit_records[key]``.

    Called by a provided cell right after an answer cell, e.g.
    ``gradkit_checks.record("q1", ["f1", "x1", "y1", "grad1"], gradients=["grad1"])``.
    Reads the caller's global namespace (the notebook's) and IPython's input history
    (``_ih``) for :func:`autograd_provenance`. Never raises for a missing answer.

    Args:
        key: the record's name (a question, or a part such as ``"model3"``).
        names: the answer names to snapshot (see :func:`snapshot`).
        gradients: the names among them that must come from autograd.
    """
    namespace = sys._getframe(1).f_globals
    records = namespace.get(RECORDS)
    if not isinstance(records, dict):
        records = namespace[RECORDS] = {}
    records[key] = _make_record(namespace, names, gradients)


def _make_record(namespace: dict, names: Sequence[str], gradients: Sequence[str]) -> dict:
    rec = {name: snapshot(namespace.get(name)) for name in names}
    history = _history(namespace)
    provenance = autograd_provenance(history, gradients) if history is not None else {n: None for n in gradients}
    rec["_provenance"] = {name: {"from_autograd": provenance[name], "history": history is not None} for name in gradients}
    return rec


def recorded(env: dict, key: str, names: Sequence[str], *, gradients: Sequence[str] = ()) -> dict:
    """The record ``key`` of a notebook namespace, or a snapshot taken now if there is none.

    A notebook from which the student deleted the provided record cell is recorded when
    the tests run (the best that is left).

    Args:
        env: the notebook's global namespace (Otter's ``env``).
        key, names, gradients: as for :func:`record`.

    Returns:
        dict: name -> :func:`snapshot`, plus ``"_provenance"``.
    """
    records = env.get(RECORDS)
    rec = records.get(key) if isinstance(records, dict) else None
    if isinstance(rec, dict) and all(isinstance(rec.get(n), dict) for n in names) \
            and all(n in rec.get("_provenance", {}) for n in gradients):
        return rec
    return _make_record(env, names, gradients)


# --------------------------------------------------------------------------- structure checks


def require_defined(snap: dict, name: str) -> None:
    """Fail unless ``name`` was defined (not missing, ``None`` or ``...``).

    Raises:
        CheckFailed: undefined, ``None`` or the placeholder ``...``.
    """
    if snap["kind"] == "ellipsis":
        raise CheckFailed(f"`{name}` is still `...`: replace the placeholder with your answer.")
    if snap["kind"] == "missing":
        raise CheckFailed(
            f"`{name}` is not defined (or is None): define it in your answer cell and run "
            "every cell from the top; a cell that raised an error stops before the lines "
            "after the error."
        )


def dtype_word(dtype: str) -> str:
    """What a dtype that is not floating point is, for a message: ``"complex"`` for
    ``complex64``/``complex128``, ``"boolean"`` for ``bool``, else ``"integer"``."""
    dtype = dtype.replace("torch.", "")
    return "complex" if dtype.startswith("complex") else "boolean" if dtype == "bool" else "integer"


def none_gradient_message(name: str) -> str:
    """Feedback for a gradient answer that is ``None`` (``.grad`` never filled in), naming ``name``."""
    return (
        f"`{name}` is None (or not defined): the gradient was never filled in. Call "
        ".backward() on the result before reading .grad, read .grad of the leaf tensor "
        "you created with requires_grad=True (a tensor computed from it, e.g. by "
        ".double() or * 1.0, is not a leaf and gets no .grad), and do not call "
        "zero_grad() before reading it. A cell that raised an error stops before the "
        "lines after the error."
    )


def _subclass_message(name: str, snap: dict, what: str = "") -> str:
    return (f"`{name}`{what} is {snap['describe']}; answer with a plain tensor (from torch.tensor, "
            ".grad or torch operations).")


def require_tensor(snap: dict, name: str, *, allow_number: bool = False) -> None:
    """Fail unless the snapshot is of a plain tensor (or a Python number, if allowed).

    Raises:
        CheckFailed: undefined, a subclass of ``torch.Tensor``, or another type.
    """
    require_defined(snap, name)
    if snap["kind"] == "tensor":
        if not snap["plain"]:
            raise CheckFailed(_subclass_message(name, snap))
        return
    if allow_number and snap["kind"] == "number":
        return
    raise CheckFailed(f"`{name}` should be a torch tensor, but it is {snap['describe']}.")


def check_callable(snap: dict, name: str) -> None:
    """Check that ``name`` is a function.

    Raises:
        CheckFailed: undefined, placeholder, or not callable.
    """
    require_defined(snap, name)
    if snap["kind"] != "callable" and not callable(snap["object"]):
        raise CheckFailed(f"`{name}` should be a function (def {name}(...):), but it is {snap['describe']}.")


def check_float_leaf(snap: dict, name: str, *, expected_value: float | None = None) -> None:
    """Check a floating-point leaf tensor that requires grad, with the prompt's value.

    Args:
        snap: the recorded snapshot of the student's tensor (any shape).
        name: its variable name.
        expected_value: a value the prompt states (public, e.g. ``2.0``); ``None`` skips it.

    Raises:
        CheckFailed: not a tensor, integer (or complex) dtype, no ``requires_grad``, not a leaf (e.g.
            ``.double()``, ``.to(dtype)`` or ``* 1.0`` after ``requires_grad=True``), or a
            value other than the prompt's.
    """
    require_tensor(snap, name)
    if not snap["floating"]:
        raise CheckFailed(
            f"`{name}` has the {dtype_word(snap['dtype'])} dtype torch.{snap['dtype']}: autograd only differentiates "
            "floating-point tensors. Write the number as a float (2.0) or pass "
            "dtype=torch.float32."
        )
    if not snap["requires_grad"]:
        raise CheckFailed(
            f"`{name}` does not require grad: create it with requires_grad=True so that "
            "autograd records the operations applied to it."
        )
    if not snap["is_leaf"]:
        raise CheckFailed(
            f"`{name}` is not a leaf tensor (it has grad_fn={snap['grad_fn']}): it "
            "was computed from another tensor after requires_grad=True, for example by "
            ".double(), .to(dtype), .float() or * 1.0. Autograd only fills .grad of leaf "
            "tensors, so its .grad stays None. Create it directly with the dtype you want "
            "and requires_grad=True."
        )
    if expected_value is not None and not (len(snap["values"]) == 1 and allclose(snap["values"], [expected_value])):
        raise CheckFailed(
            f"`{name}` should hold the value the exercise gives ({expected_value:g}), "
            f"but it is {snap['describe']}."
        )


def _graph_leaves(output: torch.Tensor) -> list[torch.Tensor]:
    """All leaf tensors that ``output``'s autograd graph accumulates gradients into."""
    leaves, seen, stack = [], set(), [output.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        variable = getattr(node, "variable", None)  # AccumulateGrad nodes hold their leaf
        if isinstance(variable, torch.Tensor):
            leaves.append(variable)
        stack.extend(fn for fn, _ in getattr(node, "next_functions", ()))
    return leaves


def check_graph_output(snap: dict, name: str, leaves: dict[str, object], *, scalar: bool = True) -> None:
    """Check that an output was computed by autograd-tracked operations from ``leaves``.

    Args:
        snap: the recorded snapshot of the result (e.g. ``y1``, ``loss3``).
        name: its variable name.
        leaves: variable name -> the leaf tensor object (or its snapshot) the graph must reach.
        scalar: require one element, as ``.backward()`` without arguments does.

    Raises:
        CheckFailed: not a tensor, no ``grad_fn`` (computed with ``math``/NumPy, ``.item()``,
            ``.detach()`` or typed in), not one element, or a leaf its graph does not reach.
    """
    require_tensor(snap, name)
    if snap["grad_fn"] is None:
        raise CheckFailed(
            f"`{name}` has no grad_fn: it was not computed from "
            f"{', '.join('`%s`' % n for n in leaves)} with torch operations that autograd "
            "records (math or NumPy functions, .item(), float(), .detach() or a typed-in "
            "number leave the graph)."
        )
    if scalar and math.prod(snap["shape"]) != 1:
        raise CheckFailed(
            f"`{name}` should be a single number (a scalar tensor) so that .backward() needs "
            f"no argument, but it is {snap['describe']}."
        )
    reached = _graph_leaves(snap["object"])
    for leaf_name, leaf in leaves.items():
        if isinstance(leaf, dict):
            leaf = leaf.get("object")
        if not any(r is leaf for r in reached):
            raise CheckFailed(
                f"the autograd graph of `{name}` does not reach `{leaf_name}`: compute "
                f"`{name}` from `{leaf_name}` itself with torch operations (a copy, a "
                "converted tensor or a Python number cuts the graph)."
            )


def check_gradient_answer(snap: dict, name: str, *, shape: Sequence[int]) -> None:
    """Check the structure of a gradient answer, not its value.

    Args:
        snap: the recorded snapshot: a float tensor of ``shape`` (a Python number is
            accepted for a one-element ``shape``, e.g. ``x.grad.item()``).
        name: its variable name.
        shape: the required shape, e.g. ``()`` or ``(1, 3)``; for ``()`` any one-element
            tensor passes.

    Raises:
        CheckFailed: ``None`` (never computed, or read from a non-leaf), not a tensor,
            integer dtype, transposed or another shape.
    """
    shape = tuple(shape)
    if snap["kind"] == "missing":
        raise CheckFailed(none_gradient_message(name))
    require_tensor(snap, name, allow_number=math.prod(shape) == 1)
    if snap["kind"] == "number":
        if snap.get("is_int"):
            raise CheckFailed(f"`{name}` is {snap['describe']}; a gradient is a float.")
        return
    if not snap["floating"]:
        raise CheckFailed(f"`{name}` has the {dtype_word(snap['dtype'])} dtype torch.{snap['dtype']}; a gradient is a float tensor.")
    if shape == () and math.prod(snap["shape"]) == 1:
        return
    if snap["shape"] != shape:
        raise CheckFailed(wrong_shape_message(name, snap["shape"], shape, snap["describe"]))


_TRANSPOSED = ("it is transposed. A parameter's gradient has the parameter's own shape "
               "(for nn.Linear(in, out), weight is (out, in)).")


def wrong_shape_message(name: str, got: tuple[int, ...], shape: tuple[int, ...], described: str) -> str:
    """The message for an answer of shape ``got`` that should have shape ``shape``.

    Args:
        name: what the message calls the answer (e.g. ``"grad1"``).
        got: its shape; shape: the required one (tuples of ints).
        described: :func:`describe` of the answer, shown when the shape is not simply
            the transpose of a 2-D ``shape``.

    Returns:
        str: says "it is transposed" (a parameter's gradient has the parameter's shape)
        when ``got`` is ``shape`` reversed and ``shape`` is 2-D, else names both.
    """
    if len(shape) == 2 and got == shape[::-1]:
        return f"`{name}` has shape {got} but should have shape {shape}: {_TRANSPOSED}"
    return f"`{name}` should have shape {shape}, but it is {described}."


def check_from_autograd(rec: dict, name: str, *, read_from: str) -> None:
    """Check that a gradient answer came from autograd (read from ``.grad`` or
    ``torch.autograd.grad``, or a copy of that made in code), per the record.

    Args:
        rec: the record holding ``name`` among its ``gradients``.
        name: the answer's name.
        read_from: where it should be read, for the message (e.g. ``"x1.grad"``).

    Raises:
        CheckFailed: a number typed in, a formula derived by hand, or set by no statement
            of the notebook (e.g. through ``globals()``). Passes when the input history was
            not available.
    """
    info = rec.get("_provenance", {}).get(name, {})
    verdict = info.get("from_autograd")
    if verdict is True or not info.get("history"):
        return
    if verdict is None:
        raise CheckFailed(
            f"`{name}` is not set by any statement of your cells (assign it with `{name} = ...`): "
            f"read it from {read_from} (or torch.autograd.grad) after the backward pass."
        )
    raise CheckFailed(
        f"`{name}` was not read from {read_from} (or torch.autograd.grad): the statement that "
        "sets it last uses neither, so it is a number typed in or a formula worked out by hand. "
        f"Let autograd compute it: call backward() and read {read_from}, or copy it "
        "(.clone(), .item())."
    )


def check_linear_layer(snap: dict, name: str, *, in_features: int, out_features: int) -> None:
    """Check a ``torch.nn.Linear(in_features, out_features)`` with a bias.

    Raises:
        CheckFailed: missing, another type, other sizes, or no bias.
    """
    require_defined(snap, name)
    if snap["kind"] != "linear":
        raise CheckFailed(
            f"`{name}` should be torch.nn.Linear({in_features}, {out_features}), but it is "
            f"{snap['describe']}."
        )
    if (snap["in_features"], snap["out_features"]) != (in_features, out_features) or not snap["has_bias"]:
        raise CheckFailed(
            f"`{name}` should be torch.nn.Linear({in_features}, {out_features}) with a bias, "
            f"but it is nn.Linear({snap['in_features']}, {snap['out_features']}"
            f"{'' if snap['has_bias'] else ', bias=False'})."
        )


def check_optimizer(snap: dict, name: str, kind: type, *, lr: float, params: Sequence[object]) -> None:
    """Check an optimizer's class, learning rate and parameters.

    Args:
        snap: the recorded snapshot of the optimizer.
        name: its variable name.
        kind: the required class, e.g. ``torch.optim.SGD``.
        lr: the required learning rate.
        params: the tensors (or their snapshots) it must optimise.

    Raises:
        CheckFailed: missing, another class, another lr, or a parameter not optimised.
    """
    require_defined(snap, name)
    if snap["kind"] != "optimizer" or not issubclass(snap["cls"], kind):
        raise CheckFailed(f"`{name}` should be a {kind.__module__}.{kind.__name__}, but it is {snap['describe']}.")
    if any(not isinstance(v, (int, float)) or not math.isclose(float(v), lr, rel_tol=1e-9) for v in snap["lrs"]):
        raise CheckFailed(f"`{name}` should use lr={lr}, but it uses lr={snap['lrs']}.")
    wanted = [p.get("object") if isinstance(p, dict) else p for p in params]
    if not all(any(p is q for q in snap["params"]) for p in wanted):
        raise CheckFailed(
            f"`{name}` does not optimise the model's parameters: pass model.parameters() "
            "of the same model object."
        )


CUT_CAUSE = (
    "part of the computation leaves the autograd graph: use torch functions (torch.log, "
    "torch.sin, torch.exp, ** or torch.pow) on the tensors themselves, not math or NumPy "
    "functions, .item(), float() or .detach()."
)
"""Likely cause of a function whose autograd derivative is missing or wrong, for messages."""


def error_hint(error: BaseException) -> str:
    """What to do about an error an elementwise function raised on tensors, for a message:
    use torch functions when the error is a tensor-to-number or NumPy conversion (the
    message mentions ``convert`` or ``numpy``), else check the code. One sentence."""
    return ("use torch functions, not math or NumPy ones." if "convert" in str(error)
            or "numpy" in str(error).lower() else "check its code.")


def _call(func, name: str, args: Sequence[torch.Tensor], where: str):
    try:
        return func(*args)
    except Exception as error:  # noqa: BLE001 - any student error becomes feedback
        raise CheckFailed(f"`{name}` raised {type(error).__name__}: {error} when called {where}. "
                          f"`{name}` must work elementwise on float tensors of any shape: {error_hint(error)}") from None


def check_elementwise_function(func_snap: dict, name: str, points: Sequence[Sequence[Sequence[float]]], *,
                               shapes: Sequence[Sequence[int]] = ((), (3,))) -> None:
    """Check the structure of an elementwise function on public points (no value compared).

    For each shape, the function gets float64 leaf tensors of that shape; its result must
    be a plain float tensor of the same shape with a ``grad_fn`` whose graph reaches every
    argument, and autograd's derivative through it must match the function's own slope
    (a central difference of the function, in float64): a part computed with ``math`` or
    NumPy is invisible to autograd and shows as a mismatch.

    Args:
        func_snap: the recorded snapshot of the student's function.
        name: its name.
        points: per argument, the public values to use (one per element of the largest
            shape; a scalar takes the first).
        shapes: the input shapes to try.

    Raises:
        CheckFailed: missing, raising, a non-tensor or other shape, no graph, or autograd's
            derivative differs from the function's slope.
    """
    check_callable(func_snap, name)
    func = func_snap["object"]
    for shape in shapes:
        n = math.prod(shape)
        args = [torch.tensor(values[:n], dtype=torch.float64).reshape(tuple(shape)) for values in points]
        leaves = [a.clone().requires_grad_(True) for a in args]
        where = f"on {len(args)} float64 tensor(s) of shape {tuple(shape)}"
        out = _call(func, name, leaves, where)
        if not isinstance(out, torch.Tensor):
            raise CheckFailed(f"`{name}` returned {describe(out)} when called {where}; it must return a "
                              "tensor computed with torch operations, so that autograd can differentiate it.")
        if not is_plain(out):
            raise CheckFailed(_subclass_message(name, snapshot(out), f" returned a value that (when called {where})"))
        if tuple(out.shape) != tuple(shape):
            raise CheckFailed(f"`{name}` returned {describe(out)} when called {where}; an elementwise "
                              f"function returns the shape of its input, {tuple(shape)}.")
        if not torch.Tensor.is_floating_point(out):
            raise CheckFailed(f"`{name}` returned {describe(out)} when called {where}; expected a float tensor.")
        if out.grad_fn is None:
            raise CheckFailed(f"`{name}` returned a tensor without grad_fn when called {where}: {CUT_CAUSE}")
        with unmodded():
            grads = torch.autograd.grad(torch.Tensor.sum(out), leaves, allow_unused=True)
        for j, (g, a) in enumerate(zip(grads, args)):
            which = f"argument {j + 1}" if len(args) > 1 else "its argument"
            h = 1e-6
            plus = [t.clone() for t in args]
            minus = [t.clone() for t in args]
            plus[j] = a + h
            minus[j] = a - h
            with torch.no_grad():
                up, down = _call(func, name, plus, where), _call(func, name, minus, where)
            if not (isinstance(up, torch.Tensor) and isinstance(down, torch.Tensor)) or not is_plain(up) \
                    or not is_plain(down) or up.shape != out.shape or down.shape != out.shape:
                raise CheckFailed(f"`{name}` returned {describe(up)} when called {where}; it must return a "
                                  "tensor of its input's shape.")
            slope = [(u - d) / (2 * h) for u, d in zip(plain_floats(up), plain_floats(down))]
            auto = plain_floats(g) if g is not None else [0.0] * n
            if not allclose(auto, slope, rtol=1e-4, atol=1e-4):
                raise CheckFailed(
                    f"autograd's derivative of `{name}` with respect to {which} does not match how "
                    f"`{name}`'s value changes (called {where}): {CUT_CAUSE}"
                )


def call_linear_grads(func: Callable, name: str, model: torch.nn.Linear, X: torch.Tensor, Y: torch.Tensor,
                      *, unseen: bool = False) -> tuple[torch.Tensor, torch.Tensor, bool]:
    """Call a student's ``linear_grads(model, X, Y)`` and watch autograd while it runs.

    Hooks on the model's weight and bias (and on the output of every forward call of the
    model or of a deep copy of it) note whether a backward pass reached the parameters
    during the call; they are removed afterwards.

    Args:
        func: the student's function.
        name: its name.
        model: an ``nn.Linear`` (out, in); X: (rows, in); Y: (rows, out), same dtype.
        unseen: the model and data are a hidden test's: messages name shapes and types
            only, never a value the student's code returned or put in an error message.

    Returns:
        tuple: ``(weight_grad, bias_grad, autograd_ran)``: detached clones of the two
        returned tensors, and whether a gradient flowed back through the parameters.

    Raises:
        CheckFailed: raised an error, did not return a pair of plain tensors, returned
            ``None`` for a gradient.
    """
    ran = []
    from torch.utils.hooks import RemovableHandle

    next_id = RemovableHandle.next_id  # a class counter: put back, so the tests change no torch state
    handles = [p.register_hook(lambda g: ran.append(True)) for p in (model.weight, model.bias)]

    def forward_hook(module, inputs, output):  # noqa: ARG001
        if isinstance(output, torch.Tensor) and output.requires_grad:
            output.register_hook(lambda g: ran.append(True))

    handles.append(model.register_forward_hook(forward_hook))
    where = (f"called on an nn.Linear({model.in_features}, {model.out_features}) with X of shape "
             f"{tuple(X.shape)} and Y of shape {tuple(Y.shape)}")
    try:
        result = func(model, X, Y)
    except Exception as error:  # noqa: BLE001 - any student error becomes feedback
        raise CheckFailed(f"`{name}` raised {error_text(error, unseen=unseen)} when {where}.") from None
    finally:
        for handle in handles:
            handle.remove()
        RemovableHandle.next_id = next_id
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CheckFailed(f"`{name}` should return a pair (weight_grad, bias_grad), but it returned "
                          f"{describe(result, values=not unseen)} when {where}.")
    parts = []
    for part, label in zip(result, ("weight_grad", "bias_grad")):
        if part is None:
            raise CheckFailed(f"`{name}` returned None as {label} when {where}: call backward() on the loss "
                              "(or use torch.autograd.grad) before reading the gradients.")
        if not isinstance(part, torch.Tensor):
            raise CheckFailed(f"`{name}` returned {describe(part, values=not unseen)} as {label} when {where}; expected a tensor.")
        if not is_plain(part):
            raise CheckFailed(_subclass_message(name, snapshot(part, values=not unseen), f"'s {label}"))
        with unmodded():
            parts.append(torch.Tensor.clone(torch.Tensor.detach(part)))  # a later call may overwrite an aliased .grad
    return parts[0], parts[1], bool(ran)


def error_text(error: BaseException, *, unseen: bool = False) -> str:
    """An exception the student's code raised, for a feedback message: ``"Type: message"``,
    or only ``"Type"`` when it was raised at a hidden test's unseen points (the message is
    the student's code's own text and could carry those points out). At unseen points a
    class that is not one of Python's built-in exceptions is not named either (code can
    make a class at run time whose name holds the points): ``"an exception of a class that
    is not built in"``."""
    kind = type(error)
    if not unseen:
        return f"{kind.__name__}: {error}"
    return kind.__name__ if getattr(builtins, kind.__name__, None) is kind else "an exception of a class that is not built in"


NO_AUTOGRAD = (
    "no backward pass reached the model's parameters while `{name}` ran, so autograd did not "
    "compute these gradients (a formula worked out by hand, under torch.no_grad() or on detached "
    "tensors, does not count). Compute the loss from model(X) and use loss.backward() or "
    "torch.autograd.grad."
)
"""Message for a ``linear_grads`` whose gradients autograd did not compute."""

PARAMETERS_CHANGED = ("`{name}` changed the model's parameters: it must only compute the "
                      "gradients (no optimizer.step(), no in-place update).")
"""Message for a ``linear_grads`` that changed the parameters it was given (``{name}``: the function's)."""


def check_linear_grads_structure(func_snap: dict, name: str, layers: Sequence[tuple[int, int, int]]) -> None:
    """Check ``linear_grads(model, X, Y)`` on public layers: structure, not values.

    For each ``(in_features, out_features, rows)`` a float32 layer and data with public,
    deterministic values are built; the function must return a pair of plain float tensors
    of the parameters' shapes, computed by autograd through the parameters, leave the
    parameters unchanged, and return the same on a second call.

    Raises:
        CheckFailed: missing, raising, wrong return structure, shape or dtype, no autograd,
            parameters changed, or a second call returning something else.
    """
    check_callable(func_snap, name)
    func = func_snap["object"]
    for n_in, n_out, rows in layers:
        model = torch.nn.Linear(n_in, n_out)
        with torch.no_grad():
            model.weight.copy_(torch.linspace(-0.5, 0.5, n_in * n_out).reshape(n_out, n_in))
            model.bias.copy_(torch.linspace(0.1, 0.3, n_out))
        X = torch.linspace(-1.0, 2.0, rows * n_in).reshape(rows, n_in)
        Y = torch.linspace(0.5, -1.5, rows * n_out).reshape(rows, n_out)
        w0, b0 = plain_floats(model.weight), plain_floats(model.bias)
        label = f"nn.Linear({n_in}, {n_out})"
        first_w, first_b, ran = call_linear_grads(func, name, model, X, Y)
        if plain_floats(model.weight) != w0 or plain_floats(model.bias) != b0:
            raise CheckFailed(PARAMETERS_CHANGED.format(name=name))
        for got, param, part in ((first_w, model.weight, "weight_grad"), (first_b, model.bias, "bias_grad")):
            shape = tuple(param.shape)
            if tuple(got.shape) != shape:
                if len(shape) == 2 and tuple(got.shape) == shape[::-1]:
                    raise CheckFailed(f"`{name}`'s {part} on {label} has shape {tuple(got.shape)} but should have "
                                      f"shape {shape}: {_TRANSPOSED}")
                raise CheckFailed(f"`{name}`'s {part} on {label} should have the shape of the parameter, "
                                  f"{shape}, but it is {describe(got)}.")
            if not got.is_floating_point():
                raise CheckFailed(f"`{name}`'s {part} has the {dtype_word(str(got.dtype))} dtype {got.dtype}; a gradient is a float tensor.")
        if not ran:
            raise CheckFailed(f"`{name}` on {label}: " + NO_AUTOGRAD.format(name=name))
        second_w, second_b, _ = call_linear_grads(func, name, model, X, Y)
        for first, second, part in ((first_w, second_w, "weight_grad"), (first_b, second_b, "bias_grad")):
            if tuple(second.shape) != tuple(first.shape) or not allclose(plain_floats(second), plain_floats(first)):
                raise CheckFailed(
                    f"calling `{name}` a second time on the same model returns another {part}: "
                    "gradients accumulate in .grad across calls. Zero them (model.zero_grad()) "
                    "before backward() or use torch.autograd.grad.")
