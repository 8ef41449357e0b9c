"""Unit tests of every public check and helper of the shipped check library.

``autograder/shipped/gradkit_checks.py`` (the public, structure checks and the answer
recorder; ships to students) and ``autograder/shipped/gradkit_reference.py`` (the hidden
tests' value checks; the autograder zip only). For each public name: a right answer passes,
each kind of wrong answer gives one exact message that names the variable, says what was
got and what was expected (PrairieLearn's ``Feedback.check_*`` are the model), and no
message of a value check holds a reference value the student did not type themselves.

Fast and kernel-free: real torch tensors, real backward passes, no notebook, no otter, no
mock. ``test_every_public_name_has_a_unit_test`` fails when a public name (a check added
to the library, see README "Add a check to the check library") has no test here.
"""

from __future__ import annotations

import inspect
import math
import re

import pytest
import torch

from autograder.shipped import gradkit_checks as gc
from autograder.shipped import gradkit_reference as gr
from autograder.shipped.gradkit_checks import CheckFailed

from .test_gradchecks import _lg_accumulates, _lg_closed_form

COVERED: set[str] = set()


def covers(*names: str):
    """Mark a test as the unit test of these public names (of either module)."""
    def mark(test):
        COVERED.update(names)
        return test
    return mark


def _public(module) -> set[str]:
    """``__all__`` plus every other name without a leading underscore that the module binds
    itself: functions, classes and constants (not imported modules or typing names)."""
    own = {module.__name__, gc.__name__}  # the reference module re-exports the library's CheckFailed
    public = set()
    for name, value in vars(module).items():
        if name.startswith("_") or inspect.ismodule(value) or name == "annotations":
            continue
        if (inspect.isfunction(value) or inspect.isclass(value) or hasattr(value, "__origin__")
                or type(value).__module__ == "typing") and getattr(value, "__module__", None) not in own:
            continue  # imported: typing.Callable, ...
        public.add(name)
    return set(module.__all__) | public


def test_every_public_name_has_a_unit_test():
    public = {f"gc.{n}" for n in _public(gc)} | {f"gr.{n}" for n in _public(gr)}
    missing = public - COVERED
    assert not missing, f"public names of the check library without a unit test here: {sorted(missing)}"
    assert not COVERED - public, f"tests claim names the library does not have: {sorted(COVERED - public)}"


# --------------------------------------------------------------------------- helpers


def snap(value, **kwargs):
    return gc.snapshot(value, **kwargs)


def failure(check, *args, **kwargs) -> str:
    """The message of the CheckFailed that ``check(*args, **kwargs)`` must raise."""
    with pytest.raises(CheckFailed) as caught:
        check(*args, **kwargs)
    return str(caught.value)


def _spellings(value: float) -> set[str]:
    as32 = float(torch.tensor(value, dtype=torch.float32))
    return {repr(value), f"{value:g}", f"{value:.6g}", f"{value:.4g}", f"{value:.3f}", str(round(value, 6)),
            str(round(value, 4)), repr(as32), str(round(as32, 6))}


def leaked(message: str, references, *own: dict) -> set[str]:
    """Spellings of non-integer reference values in ``message``, once the student's own
    answers (their ``describe`` text, which the student typed or computed) are taken out."""
    for answer in own:
        message = message.replace(answer["describe"], "")
    found = set()
    for reference in references:
        for value in torch.as_tensor(reference, dtype=torch.float64).reshape(-1).tolist():
            if not float(value).is_integer():
                found |= {s for s in _spellings(value) if s in message}
    return found


def test_the_leak_finder_finds_a_printed_reference():
    """``leaked`` must be able to fail: a reference in any usual spelling is found, the
    student's own described value is not counted."""
    ref = torch.tensor(12.625, dtype=torch.float64)
    assert leaked("`g` should be 12.625", [ref]) and leaked("`g` should be 12.62", [ref])
    assert leaked("expected [0.1875, 3.0]", [torch.tensor([0.1875, 3.0])]) == {"0.1875"}
    own = snap(torch.tensor(12.625))
    assert not leaked(f"`g` is {own['describe']}.", [ref], own)
    assert not leaked("`g` is 2 times too large", [torch.tensor(2.0)])  # integers are shapes and counts


def x_leaf(value=2.0, **kwargs):
    return torch.tensor(value, requires_grad=True, **kwargs)


NOT_DEFINED = ("`{name}` is not defined (or is None): define it in your answer cell and run every cell from the top; "
               "a cell that raised an error stops before the lines after the error.")
PLACEHOLDER = "`{name}` is still `...`: replace the placeholder with your answer."
NONE_GRADIENT = ("`{name}` is None (or not defined): the gradient was never filled in. Call .backward() on the result "
                 "before reading .grad, read .grad of the leaf tensor you created with requires_grad=True (a tensor "
                 "computed from it, e.g. by .double() or * 1.0, is not a leaf and gets no .grad), and do not call "
                 "zero_grad() before reading it. A cell that raised an error stops before the lines after the error.")
CUT = ("part of the computation leaves the autograd graph: use torch functions (torch.log, torch.sin, torch.exp, "
       "** or torch.pow) on the tensors themselves, not math or NumPy functions, .item(), float() or .detach().")


class _Sub(torch.Tensor):
    pass


# --------------------------------------------------------------------------- constants, errors


@covers("gc.CheckFailed", "gr.CheckFailed")
def test_check_failed_is_an_assertion_error_otter_counts_as_a_failed_case():
    assert issubclass(CheckFailed, AssertionError)
    assert gr.CheckFailed is CheckFailed  # the reference module raises the library's own class


@covers("gc.RTOL", "gc.ATOL", "gr.RTOL", "gr.ATOL", "gc.allclose")
def test_allclose_uses_the_library_tolerances_on_python_floats():
    assert (gr.RTOL, gr.ATOL) == (gc.RTOL, gc.ATOL) == (1e-5, 1e-6)
    assert gc.allclose([12.5], [12.5 * (1 + 0.9e-5)])  # float32 rounding of an honest answer
    assert not gc.allclose([12.5], [12.5 * (1 + 2e-5)])
    assert gc.allclose([0.9e-6], [0.0]) and not gc.allclose([2e-6], [0.0])  # atol near zero
    assert not gc.allclose([1.0, 2.0], [1.0])  # other length
    assert not gc.allclose([math.nan], [math.nan]) and not gc.allclose([math.inf], [math.inf])
    assert gc.allclose([1.0], [1.1], rtol=0.1)


@covers("gc.error_hint")
def test_error_hint_names_torch_functions_for_conversion_errors():
    assert gc.error_hint(TypeError("can't convert np.ndarray of type numpy.object_")) == (
        "use torch functions, not math or NumPy ones.")
    assert gc.error_hint(RuntimeError("Can't call numpy() on Tensor that requires grad")) == (
        "use torch functions, not math or NumPy ones.")
    assert gc.error_hint(ValueError("boom")) == "check its code."


@covers("gc.wrong_shape_message", "gc.PARAMETERS_CHANGED")
def test_shape_and_parameter_messages_shared_by_both_modules():
    assert gc.wrong_shape_message("g", (3, 2), (2, 3), "a float32 tensor of shape (3, 2)") == (
        "`g` has shape (3, 2) but should have shape (2, 3): it is transposed. A parameter's gradient has the "
        "parameter's own shape (for nn.Linear(in, out), weight is (out, in)).")
    assert gc.wrong_shape_message("g", (3,), (2, 3), "a float32 tensor of shape (3,)") == (
        "`g` should have shape (2, 3), but it is a float32 tensor of shape (3,).")
    assert gc.wrong_shape_message("g", (3,), (3, 1), "x").startswith("`g` should have shape (3, 1)")
    assert gc.PARAMETERS_CHANGED.format(name="lg") == (
        "`lg` changed the model's parameters: it must only compute the gradients (no optimizer.step(), no "
        "in-place update).")


@covers("gc.none_gradient_message", "gc.CUT_CAUSE", "gc.dtype_word")
def test_shared_messages_of_both_modules():
    assert gc.none_gradient_message("grad1") == NONE_GRADIENT.format(name="grad1")
    assert gc.CUT_CAUSE == CUT
    assert [gc.dtype_word(d) for d in ("int64", "torch.uint8", "complex64", "torch.complex128", "bool")] == [
        "integer", "integer", "complex", "complex", "boolean"]


@covers("gc.error_text")
def test_error_text_hides_the_message_of_an_error_raised_at_unseen_points():
    error = ValueError("x was 1.2345")
    assert gc.error_text(error) == "ValueError: x was 1.2345"
    assert gc.error_text(error, unseen=True) == "ValueError"
    made = type("E1_2345", (ValueError,), {})("x was 1.2345")  # a class named after the points at run time
    assert gc.error_text(made) == "E1_2345: x was 1.2345"
    assert gc.error_text(made, unseen=True) == "an exception of a class that is not built in"


# --------------------------------------------------------------------------- plain values


@covers("gc.is_plain")
def test_is_plain_accepts_tensors_and_parameters_only():
    assert gc.is_plain(torch.zeros(2)) and gc.is_plain(torch.nn.Parameter(torch.zeros(2)))
    assert not gc.is_plain(torch.zeros(2).as_subclass(_Sub))
    assert not gc.is_plain(2.0) and not gc.is_plain([1.0])


@covers("gc.plain_floats")
def test_plain_floats_is_row_major_python_floats_of_any_real_dtype():
    t = torch.tensor([[1, 2], [3, 4]], dtype=torch.int32)
    assert gc.plain_floats(t) == [1.0, 2.0, 3.0, 4.0] and all(type(v) is float for v in gc.plain_floats(t))
    assert gc.plain_floats(torch.tensor([[0.5], [0.25]]).T) == [0.5, 0.25]
    assert gc.plain_floats(x_leaf(2.0) * 3) == [6.0]  # no graph needed
    with pytest.raises(TypeError, match="^not a plain tensor: _Sub$"):
        gc.plain_floats(torch.zeros(1).as_subclass(_Sub))
    with pytest.raises(TypeError, match="^not a plain tensor: list$"):
        gc.plain_floats([1.0])


def _zeroing_mode(kind: str):
    """A torch function mode or a dispatch mode that answers every float result with zeros."""
    from torch.overrides import TorchFunctionMode
    from torch.utils._python_dispatch import TorchDispatchMode

    def answer(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        return torch.zeros_like(result) if isinstance(result, torch.Tensor) and result.is_floating_point() else result

    if kind == "function":
        return type("Zero", (TorchFunctionMode,), {"__torch_function__": answer})()
    return type("Zero", (TorchDispatchMode,), {"__torch_dispatch__": answer})()


@covers("gc.unmodded")
@pytest.mark.parametrize("kind", ["function", "dispatch"])
def test_unmodded_switches_off_a_torch_function_or_dispatch_mode_and_puts_it_back(kind):
    three = torch.tensor(3.0)
    with _zeroing_mode(kind):
        assert (three + 1).item() == 0.0  # the mode answers
        with gc.unmodded():
            assert (three + 1).item() == 4.0
            assert gc.plain_floats(three * 2) == [6.0]
        assert (three + 1).item() == 0.0  # and is back afterwards
    assert (three + 1).item() == 4.0


@covers("gc.unmodded")
def test_unmodded_leaves_the_dispatch_mode_stacks_alone_when_no_mode_is_on(monkeypatch):
    """With both dispatch mode stacks empty, torch's ``_disable_current_modes`` would pop and
    push nothing: :func:`unmodded` does not call it then (hundreds of calls per submission),
    and does when a mode is on."""
    import torch.utils._python_dispatch as dispatch
    from torch.utils._python_dispatch import TorchDispatchMode

    calls = []
    original = dispatch._disable_current_modes

    def counted():
        calls.append(1)
        return original()

    monkeypatch.setattr(dispatch, "_disable_current_modes", counted)
    with gc.unmodded():
        assert (torch.tensor(3.0) + 1).item() == 4.0
    assert calls == []
    with TorchDispatchMode():
        with gc.unmodded():
            pass
    assert calls == [1]


class _LyingModules(dict):
    """What a notebook can bind to the name ``sys.modules`` (red team atk5, ``b40``): a copy
    of the module dict whose ``get`` hands out ``stand_ins`` for some names."""

    def __init__(self, real: dict, stand_ins: dict) -> None:
        super().__init__(real)
        self.stand_ins = stand_ins

    def get(self, key, default=None):
        return self.stand_ins.get(key) or dict.get(self, key, default)


@covers("gc.unmodded")
def test_unmodded_switches_off_a_dispatch_mode_while_sys_modules_is_rebound_to_a_liar(monkeypatch):
    """The stacks are read through functions bound at import, not looked up through the name
    ``sys.modules``: a dict there whose ``get`` returns stand-ins reading both stacks as empty
    does not keep a mode on inside :func:`unmodded`."""
    import sys
    import types

    import torch._dynamo  # noqa: F401 - imported before the rebinding (the mode's first op imports it)
    from torch.utils._python_dispatch import TorchDispatchMode

    class Zero(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            result = func(*args, **(kwargs or {}))
            return torch.zeros_like(result) if isinstance(result, torch.Tensor) and result.is_floating_point() else result

    empty = types.SimpleNamespace(_len_torch_dispatch_stack=lambda: 0, _len_torch_dispatch_stack_pre_dispatch=lambda: 0)
    three = torch.tensor(3.0)
    with Zero():
        monkeypatch.setattr(sys, "modules", _LyingModules(sys.modules, {"torch.utils._python_dispatch": empty, "torch._ops": empty}))
        assert sys.modules.get("torch._ops") is empty
        with gc.unmodded():
            assert (three + 1).item() == 4.0
        assert gc.plain_floats(three) == [3.0]
        monkeypatch.undo()
        assert (three + 1).item() == 0.0  # the mode was on throughout


@covers("gc.describe")
def test_a_class_made_at_run_time_is_not_named_through_a_rebound_sys_modules(monkeypatch):
    """Classes are found again by module and name in the interpreter's module dict, not through
    whatever the name ``sys.modules`` holds: a lying dict cannot make a class made at run
    time (whose name could hold a hidden test's points) look like a module's."""
    import sys
    import types

    made = type("T1_25", (), {})
    made.__module__ = "gradkit_no_such_module"
    monkeypatch.setattr(sys, "modules", _LyingModules(sys.modules, {"gradkit_no_such_module": types.SimpleNamespace(T1_25=made)}))
    described = gc.describe(made(), values=False)
    monkeypatch.undo()
    assert described == "an object of type <class made at run time>"


@covers("gc.is_plain")
def test_is_plain_accepts_own_attributes_that_shadow_nothing():
    t = torch.zeros(2)
    t.label = "mine"  # an attribute of its own, not one of torch.Tensor's names
    assert gc.is_plain(t) and gc.plain_floats(t) == [0.0, 0.0]
    vars(t)["add"] = None
    assert not gc.is_plain(t)


@covers("gc.is_plain")
def test_is_plain_reads_the_own_attributes_of_a_dict_subclass_bound_as_dict():
    """Red team atk5: a tensor's ``__dict__`` can be rebound to a dict subclass whose
    ``keys()`` hides its entries, while attribute lookup still finds them (``t.detach``
    answered by the instance): is_plain reads the dict's own keys."""

    class Hiding(dict):
        def keys(self):
            return set()

        def __len__(self):
            return 0

    t = torch.zeros(2)
    t.__dict__ = Hiding(detach=lambda: "shadowed")
    assert t.detach() == "shadowed"  # the instance attribute wins over torch.Tensor.detach
    assert not gc.is_plain(t)
    assert gc.describe(t) == "a Tensor whose own attributes replace its methods (detach)"
    with pytest.raises(TypeError, match="not a plain tensor"):
        gc.plain_floats(t)


# --------------------------------------------------------------------------- describe, snapshot


@covers("gc.describe")
def test_describe_says_what_an_answer_is():
    x = x_leaf(2.0)
    assert gc.describe(None) == "None"
    assert gc.describe(...) == "`...` (the template's placeholder)"
    assert gc.describe(x) == "a float32 tensor of shape (), value 2"
    assert gc.describe(x * 3) == "a float32 tensor of shape () with grad_fn=MulBackward0, value 6"
    assert gc.describe(torch.tensor([[1.0, 2.5]])) == "a float32 tensor of shape (1, 2), value [1.0, 2.5]"
    assert gc.describe(torch.zeros(7)) == "a float32 tensor of shape (7,)"  # more than 6 elements: no values
    assert gc.describe(torch.tensor(0.123456789, dtype=torch.float64)) == "a float64 tensor of shape (), value 0.123457"
    assert gc.describe(torch.tensor(2.0), values=False) == "a float32 tensor of shape ()"
    assert gc.describe(torch.zeros(1).as_subclass(_Sub)) == "a _Sub (a subclass of torch.Tensor)"
    assert gc.describe(True) == "the bool True"
    assert gc.describe(3) == "the int 3" and gc.describe(2.5) == "the float 2.5"
    assert gc.describe(2.5, values=False) == "a float"
    # at unseen points (values=False) a class made at run time is not named: its name could hold the points
    made = "<class made at run time>"
    assert gc.describe(torch.zeros(1).as_subclass(_Sub), values=False) == "a _Sub (a subclass of torch.Tensor)"
    assert gc.describe(torch.zeros(1).as_subclass(type("T1_25", (torch.Tensor,), {})), values=False) == (
        f"a {made} (a subclass of torch.Tensor)")
    assert gc.describe(type("F1_25", (float,), {})(1.25), values=False) == f"a {made}"
    assert gc.describe(type("O1_25", (), {})(), values=False) == f"an object of type {made}"
    assert gc.describe(type("O1_25", (), {})()) == "an object of type O1_25"

    class Double(torch.autograd.Function):
        @staticmethod
        def forward(ctx, t):  # noqa: ARG004
            return t * 2

        @staticmethod
        def backward(ctx, g):  # noqa: ARG004
            return g * 2

    doubled = Double.apply(x_leaf(1.0))
    assert gc.describe(doubled, values=False) == "a float32 tensor of shape () with the grad_fn of a custom autograd.Function"
    assert gc.describe(doubled) == "a float32 tensor of shape () with grad_fn=DoubleBackward, value 2"
    assert gc.describe("12.5") == "an object of type str"
    assert gc.describe(snap(x)) == "a float32 tensor of shape (), value 2"  # a snapshot describes its object


@covers("gc.snapshot")
def test_snapshot_records_what_the_checks_need_as_it_is_now():
    x = x_leaf([1.0, 2.0])
    (x ** 2).sum().backward()
    s = snap(x)
    assert {k: s[k] for k in ("kind", "plain", "dtype", "shape", "floating", "is_leaf", "requires_grad", "grad_fn", "values")} == {
        "kind": "tensor", "plain": True, "dtype": "float32", "shape": (2,), "floating": True, "is_leaf": True,
        "requires_grad": True, "grad_fn": None, "values": [1.0, 2.0]}
    assert s["object"] is x and s["grad"]["values"] == [2.0, 4.0]
    with torch.no_grad():
        x.add_(1.0)  # later changes do not reach the snapshot
    assert s["values"] == [1.0, 2.0]
    assert snap(x * 2)["grad_fn"] == "MulBackward0" and snap(x * 2)["grad"] is None
    assert snap(torch.tensor([1 + 2j]))["values"] is None  # complex: no values to compare
    assert snap(torch.zeros(1).as_subclass(_Sub))["values"] is None
    assert snap(None)["kind"] == "missing" and snap(...)["kind"] == "ellipsis"
    assert snap(3) | {"object": None} == {"kind": "number", "values": [3.0], "is_int": True, "object": None,
                                          "describe": "the int 3"}
    assert snap(2.5)["is_int"] is False
    assert snap(True)["kind"] == "other"  # a bool is no number answer
    model = torch.nn.Linear(3, 2)
    lin = snap(model)
    assert (lin["kind"], lin["in_features"], lin["out_features"], lin["has_bias"]) == ("linear", 3, 2, True)
    assert lin["weight"]["shape"] == (2, 3) and lin["bias"]["shape"] == (2,)
    assert snap(torch.nn.Linear(3, 2, bias=False))["bias"] is None
    opt = snap(torch.optim.SGD(model.parameters(), lr=0.1))
    assert opt["kind"] == "optimizer" and opt["cls"] is torch.optim.SGD and opt["lrs"] == [0.1]
    assert opt["params"][0] is model.weight and opt["params"][1] is model.bias
    assert snap(torch.nn.ReLU())["kind"] == "module"
    assert snap(lambda x: x)["kind"] == "callable"
    assert snap("grad")["kind"] == "other"


# --------------------------------------------------------------------------- records


@covers("gc.record", "gc.RECORDS", "gc.recorded")
def test_record_snapshots_into_the_callers_namespace_and_recorded_reads_it():
    namespace = {"gc": gc, "torch": torch, "_ih": ["", "x1 = torch.tensor(2.0, requires_grad=True)\ny1 = x1 ** 2\n"
                                                      "y1.backward()\ngrad1 = x1.grad"]}
    exec(namespace["_ih"][1], namespace)
    namespace[gc.RECORDS] = "not a dict"  # replaced, not trusted
    exec("gc.record('q1', ['x1', 'grad1'], gradients=['grad1'])", namespace)
    assert gc.RECORDS == "gradkit_records"
    rec = namespace["gradkit_records"]["q1"]
    assert rec["x1"]["values"] == [2.0] and rec["grad1"]["values"] == [4.0]
    assert rec["_provenance"] == {"grad1": {"from_autograd": True, "history": True}}
    exec("with torch.no_grad():\n    grad1.add_(100.0)", namespace)  # later cells change nothing recorded
    assert gc.recorded(namespace, "q1", ["x1", "grad1"], gradients=["grad1"]) is rec
    assert rec["grad1"]["values"] == [4.0]
    # a record missing a name (or its provenance) is taken again, now
    again = gc.recorded(namespace, "q1", ["x1", "y1"], gradients=["grad1"])
    assert again is not rec and again["y1"]["grad_fn"] == "PowBackward0"
    # no record at all (the provided cell was deleted): a snapshot now; a missing name is "missing"
    fresh = gc.recorded({"x1": x_leaf()}, "q1", ["x1", "f1"], gradients=["x1"])
    assert fresh["x1"]["values"] == [2.0] and fresh["f1"]["kind"] == "missing"
    assert fresh["_provenance"] == {"x1": {"from_autograd": None, "history": False}}


@covers("gc.autograd_provenance")
def test_autograd_provenance_is_true_false_or_none_per_name():
    cells = ["x = torch.tensor(2.0, requires_grad=True)\n(x ** 2).backward()",
             "g = x.grad\ntyped = torch.tensor(4.0)\ncopied = g.clone()",
             "this cell does not parse (",
             "def read(t):\n    return t.grad\nvia_function = read(x)"]
    assert gc.autograd_provenance(cells, ["g", "typed", "copied", "via_function", "never"]) == {
        "g": True, "typed": False, "copied": True, "via_function": True, "never": None}
    assert gc.autograd_provenance([], ["g"]) == {"g": None}


# --------------------------------------------------------------------------- structure checks


@covers("gc.require_defined")
def test_require_defined():
    gc.require_defined(snap(0.0), "x1")
    gc.require_defined(snap(torch.zeros(())), "x1")
    assert failure(gc.require_defined, snap(None), "x1") == NOT_DEFINED.format(name="x1")
    assert failure(gc.require_defined, snap(...), "x1") == PLACEHOLDER.format(name="x1")


@covers("gc.require_tensor")
def test_require_tensor():
    gc.require_tensor(snap(torch.zeros(2)), "t")
    gc.require_tensor(snap(2.0), "t", allow_number=True)
    assert failure(gc.require_tensor, snap(2.0), "t") == "`t` should be a torch tensor, but it is the float 2.0."
    assert failure(gc.require_tensor, snap([1.0]), "t") == "`t` should be a torch tensor, but it is an object of type list."
    assert failure(gc.require_tensor, snap(torch.zeros(1).as_subclass(_Sub)), "t") == (
        "`t` is a _Sub (a subclass of torch.Tensor); answer with a plain tensor (from torch.tensor, .grad or torch "
        "operations).")
    assert failure(gc.require_tensor, snap(None), "t") == NOT_DEFINED.format(name="t")


@covers("gc.check_callable")
def test_check_callable():
    gc.check_callable(snap(lambda x: x), "f1")
    gc.check_callable(snap(torch.sin), "f1")
    assert failure(gc.check_callable, snap(3.0), "f1") == "`f1` should be a function (def f1(...):), but it is the float 3.0."
    assert failure(gc.check_callable, snap(...), "f1") == PLACEHOLDER.format(name="f1")


@covers("gc.check_float_leaf")
def test_check_float_leaf():
    gc.check_float_leaf(snap(x_leaf(2.0)), "x1", expected_value=2.0)
    gc.check_float_leaf(snap(x_leaf([1.0, 5.0])), "w", expected_value=None)  # any value, any shape
    assert failure(gc.check_float_leaf, snap(torch.tensor(2)), "x1") == (
        "`x1` has the integer dtype torch.int64: autograd only differentiates floating-point tensors. Write the "
        "number as a float (2.0) or pass dtype=torch.float32.")
    assert failure(gc.check_float_leaf, snap(torch.tensor(2 + 0j, requires_grad=True)), "x1") == (
        "`x1` has the complex dtype torch.complex64: autograd only differentiates floating-point tensors. Write the "
        "number as a float (2.0) or pass dtype=torch.float32.")
    assert failure(gc.check_float_leaf, snap(torch.tensor(2.0)), "x1") == (
        "`x1` does not require grad: create it with requires_grad=True so that autograd records the operations "
        "applied to it.")
    assert failure(gc.check_float_leaf, snap(x_leaf(2.0) * 1.0), "x1") == (
        "`x1` is not a leaf tensor (it has grad_fn=MulBackward0): it was computed from another tensor after "
        "requires_grad=True, for example by .double(), .to(dtype), .float() or * 1.0. Autograd only fills .grad of "
        "leaf tensors, so its .grad stays None. Create it directly with the dtype you want and requires_grad=True.")
    assert failure(gc.check_float_leaf, snap(x_leaf([2.0, 2.0])), "x1", expected_value=2.0) == (
        "`x1` should hold the value the exercise gives (2), but it is a float32 tensor of shape (2,), value [2.0, 2.0].")
    assert failure(gc.check_float_leaf, snap(2.0), "x1") == "`x1` should be a torch tensor, but it is the float 2.0."


@covers("gc.check_graph_output")
def test_check_graph_output():
    x, y = x_leaf(2.0), x_leaf(3.0)
    out = x * y
    gc.check_graph_output(snap(out), "z", {"x": snap(x), "y": y})  # leaves as snapshots or tensors
    gc.check_graph_output(snap(torch.stack([x, y])), "v", {"x": x}, scalar=False)
    assert failure(gc.check_graph_output, snap(out.detach()), "z", {"x": x, "y": y}) == (
        "`z` has no grad_fn: it was not computed from `x`, `y` with torch operations that autograd records (math or "
        "NumPy functions, .item(), float(), .detach() or a typed-in number leave the graph).")
    assert failure(gc.check_graph_output, snap(x * 2), "z", {"x": x, "y": y}) == (
        "the autograd graph of `z` does not reach `y`: compute `z` from `y` itself with torch operations (a copy, a "
        "converted tensor or a Python number cuts the graph).")
    assert failure(gc.check_graph_output, snap(torch.stack([x, y])), "z", {"x": x}) == (
        "`z` should be a single number (a scalar tensor) so that .backward() needs no argument, but it is a float32 "
        "tensor of shape (2,) with grad_fn=StackBackward0, value [2.0, 3.0].")
    assert failure(gc.check_graph_output, snap(6.0), "z", {"x": x}) == "`z` should be a torch tensor, but it is the float 6.0."


@covers("gc.check_gradient_answer")
def test_check_gradient_answer():
    x = x_leaf([[1.0, 2.0, 3.0]])
    (x ** 2).sum().backward()
    gc.check_gradient_answer(snap(x.grad), "weight_grad", shape=(1, 3))
    gc.check_gradient_answer(snap(torch.tensor([4.0])), "grad1", shape=())  # one element counts as a scalar
    gc.check_gradient_answer(snap(4.0), "grad1", shape=())  # x.grad.item()
    assert failure(gc.check_gradient_answer, snap(None), "grad1", shape=()) == NONE_GRADIENT.format(name="grad1")
    assert failure(gc.check_gradient_answer, snap(4), "grad1", shape=()) == "`grad1` is the int 4; a gradient is a float."
    assert failure(gc.check_gradient_answer, snap(4.0), "weight_grad", shape=(1, 3)) == (
        "`weight_grad` should be a torch tensor, but it is the float 4.0.")
    assert failure(gc.check_gradient_answer, snap(torch.zeros(3, 1)), "weight_grad", shape=(1, 3)) == (
        "`weight_grad` has shape (3, 1) but should have shape (1, 3): it is transposed. A parameter's gradient has "
        "the parameter's own shape (for nn.Linear(in, out), weight is (out, in)).")
    assert failure(gc.check_gradient_answer, snap(torch.zeros(3)), "weight_grad", shape=(1, 3)) == (
        "`weight_grad` should have shape (1, 3), but it is a float32 tensor of shape (3,), value [0.0, 0.0, 0.0].")
    assert failure(gc.check_gradient_answer, snap(torch.zeros(1, 3, dtype=torch.int64)), "weight_grad", shape=(1, 3)) == (
        "`weight_grad` has the integer dtype torch.int64; a gradient is a float tensor.")
    assert failure(gc.check_gradient_answer, snap(torch.tensor(True)), "grad1", shape=()) == (
        "`grad1` has the boolean dtype torch.bool; a gradient is a float tensor.")


def _records(cells: list[str], names: list[str]) -> dict:
    namespace = {"torch": torch, "_ih": [""] + cells}
    for cell in cells:
        exec(cell, namespace)
    return gc.recorded(namespace, "q1", names, gradients=names)  # no record yet: taken now


@covers("gc.check_from_autograd")
def test_check_from_autograd():
    setup = "x1 = torch.tensor(2.0, requires_grad=True)\n(x1 ** 3).backward()\n"
    gc.check_from_autograd(_records([setup + "grad1 = x1.grad.item()"], ["grad1"]), "grad1", read_from="x1.grad")
    assert failure(gc.check_from_autograd, _records([setup + "grad1 = 12.0"], ["grad1"]), "grad1", read_from="x1.grad") == (
        "`grad1` was not read from x1.grad (or torch.autograd.grad): the statement that sets it last uses neither, so it "
        "is a number typed in or a formula worked out by hand. Let autograd compute it: call backward() and read "
        "x1.grad, or copy it (.clone(), .item()).")
    assert failure(gc.check_from_autograd, _records([setup + "globals()['grad1'] = x1.grad"], ["grad1"]), "grad1",
                   read_from="x1.grad") == (
        "`grad1` is not set by any statement of your cells (assign it with `grad1 = ...`): read it from x1.grad (or "
        "torch.autograd.grad) after the backward pass.")
    gc.check_from_autograd(gc.recorded({"grad1": 12.0}, "q1", ["grad1"], gradients=["grad1"]), "grad1",
                           read_from="x1.grad")  # no input history: nothing to judge
    gc.check_from_autograd({}, "grad1", read_from="x1.grad")  # not among the record's gradients: nothing to judge


@covers("gc.check_linear_layer")
def test_check_linear_layer():
    gc.check_linear_layer(snap(torch.nn.Linear(3, 1)), "model3", in_features=3, out_features=1)
    assert failure(gc.check_linear_layer, snap(torch.nn.Linear(3, 1, bias=False)), "model3", in_features=3,
                   out_features=1) == "`model3` should be torch.nn.Linear(3, 1) with a bias, but it is nn.Linear(3, 1, bias=False)."
    assert failure(gc.check_linear_layer, snap(torch.nn.Linear(3, 2)), "model3", in_features=3, out_features=1) == (
        "`model3` should be torch.nn.Linear(3, 1) with a bias, but it is nn.Linear(3, 2).")
    assert failure(gc.check_linear_layer, snap(torch.nn.ReLU()), "model3", in_features=3, out_features=1) == (
        "`model3` should be torch.nn.Linear(3, 1), but it is an object of type ReLU.")
    assert failure(gc.check_linear_layer, snap(None), "model3", in_features=3, out_features=1) == NOT_DEFINED.format(name="model3")


@covers("gc.check_optimizer")
def test_check_optimizer():
    model = torch.nn.Linear(3, 1)
    params = [snap(model.weight), model.bias]  # snapshots or tensors
    gc.check_optimizer(snap(torch.optim.SGD(model.parameters(), lr=0.1)), "opt", torch.optim.SGD, lr=0.1, params=params)
    assert failure(gc.check_optimizer, snap(torch.optim.Adam(model.parameters(), lr=0.1)), "opt", torch.optim.SGD,
                   lr=0.1, params=params) == "`opt` should be a torch.optim.sgd.SGD, but it is an object of type Adam."
    assert failure(gc.check_optimizer, snap(torch.optim.SGD(model.parameters(), lr=1)), "opt", torch.optim.SGD,
                   lr=0.1, params=params) == "`opt` should use lr=0.1, but it uses lr=[1]."
    assert failure(gc.check_optimizer, snap(torch.optim.SGD([model.weight], lr=0.1)), "opt", torch.optim.SGD,
                   lr=0.1, params=params) == ("`opt` does not optimise the model's parameters: pass model.parameters() "
                                              "of the same model object.")
    assert failure(gc.check_optimizer, snap(...), "opt", torch.optim.SGD, lr=0.1, params=params) == PLACEHOLDER.format(name="opt")


@covers("gc.check_elementwise_function")
def test_check_elementwise_function():
    points = [[1.5, 0.5, 2.5], [0.25, 1.0, 2.0]]
    gc.check_elementwise_function(snap(lambda x, y: x * torch.sin(y)), "f2", points)
    where = "called on 2 float64 tensor(s) of shape ()"
    assert failure(gc.check_elementwise_function, snap(lambda x, y: x * math.sin(y)), "f2", points) == (
        f"autograd's derivative of `f2` with respect to argument 2 does not match how `f2`'s value changes ({where}): {CUT}")
    assert failure(gc.check_elementwise_function, snap(lambda x, y: (x * y).detach()), "f2", points) == (
        f"`f2` returned a tensor without grad_fn when {where}: {CUT}")
    assert failure(gc.check_elementwise_function, snap(lambda x, y: (x * y).long()), "f2", points) == (
        f"`f2` returned a int64 tensor of shape (), value 0 when {where}; expected a float tensor.")
    assert failure(gc.check_elementwise_function, snap(lambda x, y: float(x * y)), "f2", points) == (
        f"`f2` returned the float 0.375 when {where}; it must return a tensor computed with torch operations, so "
        "that autograd can differentiate it.")
    assert failure(gc.check_elementwise_function, snap(lambda x, y: (x * y).as_subclass(_Sub)), "f2", points) == (
        f"`f2` returned a value that (when {where}) is a _Sub (a subclass of torch.Tensor); answer with a plain tensor "
        "(from torch.tensor, .grad or torch operations).")
    assert failure(gc.check_elementwise_function, snap(lambda x, y: x.reshape(2, 2)), "f2", points) == (
        f"`f2` raised RuntimeError: shape '[2, 2]' is invalid for input of size 1 when {where}. `f2` must work "
        "elementwise on float tensors of any shape: check its code.")
    assert failure(gc.check_elementwise_function, snap(None), "f2", points) == NOT_DEFINED.format(name="f2")


def _lg(model, X, Y):
    loss = torch.nn.MSELoss()(model(X), Y)
    return torch.autograd.grad(loss, [model.weight, model.bias])


LAYERS = [(3, 1, 4), (2, 3, 5)]
WHERE = "called on an nn.Linear(3, 1) with X of shape (4, 3) and Y of shape (4, 1)"


@covers("gc.call_linear_grads")
def test_call_linear_grads():
    model = torch.nn.Linear(3, 1)
    X, Y = torch.ones(4, 3), torch.zeros(4, 1)
    w, b, ran = gc.call_linear_grads(_lg, "lg", model, X, Y)
    assert ran and w.shape == (1, 3) and b.shape == (1,) and w.grad_fn is None
    assert gc.call_linear_grads(lambda m, X, Y: (torch.zeros(1, 3), torch.zeros(1)), "lg", model, X, Y)[2] is False

    def raises(m, X, Y):
        raise ValueError(f"X[0] is {X[0].tolist()}")

    assert failure(gc.call_linear_grads, raises, "lg", model, X, Y) == f"`lg` raised ValueError: X[0] is [1.0, 1.0, 1.0] when {WHERE}."
    assert failure(gc.call_linear_grads, raises, "lg", model, X, Y, unseen=True) == f"`lg` raised ValueError when {WHERE}."
    assert failure(gc.call_linear_grads, lambda m, X, Y: torch.zeros(1, 3), "lg", model, X, Y) == (
        f"`lg` should return a pair (weight_grad, bias_grad), but it returned a float32 tensor of shape (1, 3), value "
        f"[0.0, 0.0, 0.0] when {WHERE}.")
    assert failure(gc.call_linear_grads, lambda m, X, Y: X.sum(), "lg", model, X, Y, unseen=True) == (
        f"`lg` should return a pair (weight_grad, bias_grad), but it returned a float32 tensor of shape () when {WHERE}.")
    assert failure(gc.call_linear_grads, lambda m, X, Y: (m.weight.grad, m.bias.grad), "lg", model, X, Y) == (
        f"`lg` returned None as weight_grad when {WHERE}: call backward() on the loss (or use torch.autograd.grad) "
        "before reading the gradients.")
    assert failure(gc.call_linear_grads, lambda m, X, Y: (torch.zeros(1, 3), X[0, 0].item()), "lg", model, X, Y,
                   unseen=True) == f"`lg` returned a float as bias_grad when {WHERE}; expected a tensor."
    assert failure(gc.call_linear_grads, lambda m, X, Y: (torch.zeros(1, 3).as_subclass(_Sub), torch.zeros(1)), "lg",
                   model, X, Y) == ("`lg`'s weight_grad is a _Sub (a subclass of torch.Tensor); answer with a plain "
                                    "tensor (from torch.tensor, .grad or torch operations).")


@covers("gc.check_linear_grads_structure", "gc.NO_AUTOGRAD")
def test_check_linear_grads_structure():
    gc.check_linear_grads_structure(snap(_lg), "lg", LAYERS)

    def steps(m, X, Y):
        w, b = _lg(m, X, Y)
        with torch.no_grad():
            m.weight -= 0.1 * w
        return w, b

    assert failure(gc.check_linear_grads_structure, snap(steps), "lg", LAYERS) == (
        "`lg` changed the model's parameters: it must only compute the gradients (no optimizer.step(), no in-place "
        "update).")
    assert failure(gc.check_linear_grads_structure, snap(lambda m, X, Y: (_lg(m, X, Y)[0].T, _lg(m, X, Y)[1])), "lg",
                   LAYERS) == ("`lg`'s weight_grad on nn.Linear(3, 1) has shape (3, 1) but should have shape (1, 3): it "
                               "is transposed. A parameter's gradient has the parameter's own shape (for nn.Linear(in, "
                               "out), weight is (out, in)).")
    assert failure(gc.check_linear_grads_structure, snap(lambda m, X, Y: (_lg(m, X, Y)[0], _lg(m, X, Y)[1].sum())),
                   "lg", LAYERS).startswith("`lg`'s bias_grad on nn.Linear(3, 1) should have the shape of the "
                                            "parameter, (1,), but it is a float32 tensor of shape (), value ")
    assert failure(gc.check_linear_grads_structure, snap(lambda m, X, Y: tuple(g.long() for g in _lg(m, X, Y))),
                   "lg", LAYERS) == "`lg`'s weight_grad has the integer dtype torch.int64; a gradient is a float tensor."
    assert failure(gc.check_linear_grads_structure, snap(lambda m, X, Y: (torch.zeros(1, 3), torch.zeros(1))), "lg",
                   LAYERS) == "`lg` on nn.Linear(3, 1): " + gc.NO_AUTOGRAD.format(name="lg")
    assert "`lg` ran, so autograd did not compute these gradients" in gc.NO_AUTOGRAD.format(name="lg")

    assert failure(gc.check_linear_grads_structure, snap(_lg_accumulates), "lg", LAYERS) == (
        "calling `lg` a second time on the same model returns another weight_grad: gradients accumulate in .grad "
        "across calls. Zero them (model.zero_grad()) before backward() or use torch.autograd.grad.")
    assert failure(gc.check_linear_grads_structure, snap(2), "lg", LAYERS) == (
        "`lg` should be a function (def lg(...):), but it is the int 2.")


# --------------------------------------------------------------------------- value checks (hidden tests)


REF = torch.tensor(12.625, dtype=torch.float64)  # a reference no message may print


@covers("gr.check_close")
def test_check_close_never_prints_the_reference():
    gr.check_close(snap(torch.tensor(12.625)), REF, "y1")
    gr.check_close(snap(12.625), REF, "y1")
    gr.check_close(snap(torch.tensor([12.625])), REF, "y1")  # one element: any shape
    cases = {
        torch.tensor(11.0): "`y1` has the wrong value: it is a float32 tensor of shape (), value 11. check the sign",
        torch.tensor([12.625, 1.0]): "`y1` should have shape (), but it is a float32 tensor of shape (2,), value [12.625, 1.0].",
        torch.tensor(12): "`y1` has the integer dtype torch.int64; expected a float tensor.",
        torch.tensor(math.nan): "`y1` holds NaN or infinity: it is a float32 tensor of shape (), value nan.",
        torch.tensor(1 + 1j): "`y1` has the complex dtype torch.complex64; expected a float tensor.",
        None: NOT_DEFINED.format(name="y1"),
        "12.625": "`y1` should be a torch tensor, but it is an object of type str.",
    }
    for value, expected in cases.items():
        answer = snap(value)
        message = failure(gr.check_close, answer, REF, "y1", cause="check the sign")
        assert message == expected
        assert not leaked(message, [REF], answer), message
    ref23 = torch.tensor([[0.1875, -3.0625, 7.4375], [1.0, 2.0, 3.0]], dtype=torch.float64)
    message = failure(gr.check_close, snap(torch.zeros(3)), ref23, "out")
    assert message == "`out` should have shape (2, 3), but it is a float32 tensor of shape (3,), value [0.0, 0.0, 0.0]."
    assert not leaked(message, [ref23])


@covers("gr.check_gradient")
def test_check_gradient_diagnoses_without_printing_the_reference():
    gr.check_gradient(snap(torch.tensor(12.625)), REF, "grad1")
    gr.check_gradient(snap(12.625), REF, "grad1")
    summed = REF * 16
    cases = [
        (torch.tensor(37.875), "`grad1` is 3 times too large: gradients accumulate in .grad, so calling backward() 3 "
                               "times (or re-running the cell) adds them up. Zero the gradient (x.grad = None or "
                               "optimizer.zero_grad()) before each backward(), or call it once."),
        (torch.tensor(-12.625), "`grad1` has the wrong sign: it is a float32 tensor of shape (), value -12.625."),
        (torch.tensor(11.5), "`grad1` has the wrong value: it is a float32 tensor of shape (), value 11.5."),
        (summed.float(), "`grad1` has the wrong value (a float32 tensor of shape (), value 202): it looks like the sum."),
        (None, NONE_GRADIENT.format(name="grad1")),
        (torch.tensor(12), "`grad1` has the integer dtype torch.int64; a gradient is a float tensor. Read it from .grad "
                           "of a float leaf tensor."),
        (torch.tensor(math.inf), "`grad1` holds NaN or infinity: it is a float32 tensor of shape (), value inf."),
    ]
    for value, expected in cases:
        answer = snap(value)
        message = failure(gr.check_gradient, answer, REF, "grad1", known_mistakes=[(summed, "it looks like the sum.")])
        assert message == expected
        assert not leaked(message, [REF], answer), message
    ref13 = torch.tensor([[0.1875, -3.0625, 7.4375]], dtype=torch.float64)
    message = failure(gr.check_gradient, snap(ref13.T.float()), ref13, "weight_grad")
    assert message.startswith("`weight_grad` has shape (3, 1) but should have shape (1, 3): it is transposed.")
    assert not leaked(message, [ref13])


@covers("gr.linear_mse_reference")
def test_linear_mse_reference_is_autograd_of_mse_loss():
    gen = torch.Generator().manual_seed(1)
    model = torch.nn.Linear(4, 2).double()
    X, Y = torch.randn(7, 4, generator=gen, dtype=torch.float64), torch.randn(7, 2, generator=gen, dtype=torch.float64)
    want = torch.autograd.grad(torch.nn.MSELoss()(model(X), Y), [model.weight, model.bias])
    got = gr.linear_mse_reference(model.weight, model.bias, X, Y)
    flat = gr.linear_mse_reference(model.weight.reshape(-1).tolist(), model.bias.tolist(), X.float(), Y.float())
    for w, g, f in zip(want, got, flat):
        assert g.dtype == torch.float64 and g.shape == w.shape and torch.allclose(g, w) and torch.allclose(f, w, rtol=1e-5)


@covers("gr.linear_mistakes", "gr.SUMMED_LOSS", "gr.BROADCAST")
def test_linear_mistakes_name_the_summed_loss_and_broadcast_targets():
    gen = torch.Generator().manual_seed(2)
    model = torch.nn.Linear(3, 1).double()
    X, Y = torch.randn(6, 3, generator=gen, dtype=torch.float64), torch.randn(6, 1, generator=gen, dtype=torch.float64)
    summed = torch.autograd.grad(torch.nn.MSELoss(reduction="sum")(model(X), Y), [model.weight, model.bias])
    broadcast = torch.autograd.grad(torch.nn.MSELoss()(model(X), Y.squeeze()), [model.weight, model.bias])
    mistakes_w, mistakes_b = gr.linear_mistakes(model.weight, model.bias, X, Y)
    for mistakes, sum_grad, broad_grad in ((mistakes_w, summed[0], broadcast[0]), (mistakes_b, summed[1], broadcast[1])):
        (s, s_message), (b, b_message) = mistakes
        assert s_message == gr.SUMMED_LOSS and torch.allclose(s, sum_grad) and torch.allclose(b, broad_grad)
        assert b_message == gr.BROADCAST.format(pred="(6, 1)", target="(6,)", full="(6, 6)")
    two_out = gr.linear_mistakes([0.0] * 6, [0.0, 0.0], torch.ones(4, 3), torch.ones(4, 2))
    assert [len(m) for m in two_out] == [1, 1]  # no broadcast mistake with two outputs
    message = failure(gr.check_gradient, snap(summed[0].float()), gr.linear_mse_reference(model.weight, model.bias, X, Y)[0],
                      "weight_grad3", known_mistakes=mistakes_w)
    assert message.startswith("`weight_grad3` has the wrong value (a float32 tensor of shape (1, 3), value [")
    assert message.endswith("): " + gr.SUMMED_LOSS)


def _fresh_and_trained(times=1, lr=0.1):
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(16, 3, generator=gen)
    Y = X @ torch.tensor([[1.5], [-2.0], [0.5]]) + 0.3
    model = torch.nn.Linear(3, 1)
    start = snap(model)
    loss = torch.nn.MSELoss()(model(X), Y)
    loss.backward()
    weight_grad = snap(model.weight.grad.clone())
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(times):
        optimizer.step()
    return X, Y, model, start, snap(model), weight_grad


@covers("gr.initial_parameters", "gr.check_initial_parameters")
def test_initial_parameters_come_from_the_first_record_of_one_fresh_layer():
    X, Y, model, start, now, _ = _fresh_and_trained()
    w0, b0 = gr.initial_parameters(start, now, "model3", in_features=3, out_features=1)
    assert (w0, b0) == (start["weight"]["values"], start["bias"]["values"]) and w0 != now["weight"]["values"]
    gr.check_initial_parameters(start["weight"], start["bias"], in_features=3)
    assert failure(gr.initial_parameters, start, snap(torch.nn.Linear(3, 1)), "model3", in_features=3, out_features=1) == (
        "`model3` was created again after the provided cell recorded its initial parameters: create it once, in its "
        "own cell, and run the provided cell right after it.")
    assert failure(gr.initial_parameters, snap(torch.nn.Linear(2, 1)), now, "model3", in_features=3, out_features=1) == (
        "`model3` should be torch.nn.Linear(3, 1) with a bias, but it is nn.Linear(2, 1).")
    assert failure(gr.check_initial_parameters, snap(torch.full((1, 3), 0.9)), start["bias"], in_features=3) == (
        "the recorded initial `model3.weight` is not the initial value of a fresh nn.Linear: create `model3` and run "
        "the provided cell right after it, before any training step.")
    assert failure(gr.check_initial_parameters, start["weight"], snap(None), in_features=3, name="net") == (
        "the initial `net.bias` was not recorded: run the provided cell right after the cell that creates `net`.")


@covers("gr.own_gradients")
def test_own_gradients_are_the_answer_the_recorded_grad_and_the_reference():
    X, Y, model, start, now, weight_grad = _fresh_and_trained()
    ref = torch.tensor([[0.25, -1.5, 3.125]], dtype=torch.float64)
    got = gr.own_gradients(weight_grad, now["weight"], ref)
    assert got == [weight_grad["values"], now["weight"]["grad"]["values"], [0.25, -1.5, 3.125]]
    # an integer answer, a zero answer and a missing .grad are left out
    assert gr.own_gradients(snap(torch.tensor([[1, 2, 3]])), snap(torch.zeros(1, 3)), ref) == [[0.25, -1.5, 3.125]]
    assert gr.own_gradients(snap(torch.zeros(1, 3)), None, torch.zeros(1, 3)) == []


@covers("gr.check_sgd_step")
def test_check_sgd_step_carries_the_students_own_gradient_forward():
    X, Y, model, start, now, weight_grad = _fresh_and_trained()
    ref_w, _ = gr.linear_mse_reference(start["weight"]["values"], start["bias"]["values"], X, Y)
    wrong_gradient = [[v * 3 for v in weight_grad["values"]]]
    # a step taken with the student's (even wrong) gradient passes
    gr.check_sgd_step(now["weight"], "model3.weight", initial=start["weight"],
                      gradients=gr.own_gradients(weight_grad, now["weight"], ref_w), lr=0.1)
    stepped = [a - 0.1 * g for a, g in zip(start["weight"]["values"], wrong_gradient[0])]
    gr.check_sgd_step(snap(torch.tensor([stepped])), "model3.weight", initial=start["weight"], gradients=wrong_gradient, lr=0.1)
    grads = gr.own_gradients(weight_grad, now["weight"], ref_w)
    assert failure(gr.check_sgd_step, start["weight"], "model3.weight", initial=start["weight"], gradients=grads, lr=0.1) == (
        "`model3.weight` still has its initial value: call optimizer.step() once after backward() (or the gradient "
        "was zeroed before the step).")
    _, _, _, start2, twice, wg2 = _fresh_and_trained(times=2)
    assert failure(gr.check_sgd_step, twice["weight"], "model3.weight", initial=start2["weight"],
                   gradients=[wg2["values"]], lr=0.1) == (
        "`model3.weight` moved 2 times as far as one SGD step: call optimizer.step() once, and zero the gradients "
        "before each backward().")
    _, _, _, start3, small, wg3 = _fresh_and_trained(lr=0.01)
    message = failure(gr.check_sgd_step, small["weight"], "model3.weight", initial=start3["weight"],
                      gradients=[wg3["values"]], lr=0.1)
    assert message == ("`model3.weight` is not the result of one SGD step from its initial value with your gradient: "
                       "take one step after backward(), with the optimizer's lr (0.1), without zero_grad() in between.")
    assert failure(gr.check_sgd_step, now["weight"], "model3.weight", initial=start["weight"], gradients=grads,
                   lr=0.03).endswith("with the optimizer's lr (0.03), without zero_grad() in between.")  # the lr asked for
    assert not leaked(message, [torch.tensor(wg3["values"])])
    assert failure(gr.check_sgd_step, snap(None), "model3.weight", initial=start["weight"], gradients=grads, lr=0.1) == (
        "`model3.weight` was not recorded as a plain tensor: run every cell from the top.")


@covers("gr.check_layer_gradient")
def test_check_layer_gradient_also_names_gradients_read_too_late():
    X, Y, model, start, now, weight_grad = _fresh_and_trained()
    ref_w, _ = gr.linear_mse_reference(start["weight"]["values"], start["bias"]["values"], X, Y)
    gr.check_layer_gradient(weight_grad, ref_w, "weight_grad3")
    moved_w, _ = gr.linear_mse_reference(now["weight"]["values"], now["bias"]["values"], X, Y)
    late = snap(moved_w.float())
    message = failure(gr.check_layer_gradient, late, ref_w, "weight_grad3", moved_reference=moved_w)
    assert message == ("`weight_grad3` was computed after the parameters had moved (after optimizer.step()): it must be "
                       "the gradient at the initial parameters, read right after the first backward().")
    assert not leaked(message, [ref_w, moved_w])
    assert failure(gr.check_layer_gradient, snap(torch.zeros(1, 3)), ref_w, "weight_grad3") == (
        "`weight_grad3` is all zeros: zero_grad() ran before the gradient was read. Read (clone) the gradient right "
        "after backward().")
    other = snap(torch.tensor([[0.5, 0.5, 0.5]]))
    message = failure(gr.check_layer_gradient, other, ref_w, "weight_grad3", moved_reference=moved_w)
    assert message == "`weight_grad3` has the wrong value: it is a float32 tensor of shape (1, 3), value [0.5, 0.5, 0.5]."
    assert not leaked(message, [ref_w, moved_w], other)


@covers("gr.check_provenance")
def test_check_provenance_is_the_public_check_from_autograd():
    setup = "x1 = torch.tensor(2.0, requires_grad=True)\n(x1 ** 3).backward()\n"
    gr.check_provenance(_records([setup + "grad1 = x1.grad"], ["grad1"]), "grad1", read_from="x1.grad")
    assert failure(gr.check_provenance, _records([setup + "grad1 = torch.tensor(12.0)"], ["grad1"]), "grad1",
                   read_from="x1.grad") == (
        "`grad1` was not read from x1.grad (or torch.autograd.grad): the statement that sets it last uses neither, "
        "so it is a number typed in or a formula worked out by hand. Let autograd compute it: call backward() and "
        "read x1.grad, or copy it (.clone(), .item()).")


@covers("gr.seeded_points")
def test_seeded_points_are_reproducible_in_range_and_leave_the_global_generator_alone():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    a = gr.seeded_points(7, (2, 3), low=0.5, high=3.0, count=2)
    assert torch.equal(torch.random.get_rng_state(), before)
    b = gr.seeded_points(7, (2, 3), low=0.5, high=3.0, count=2)
    assert len(a) == 2 and all(torch.equal(x, y) for x, y in zip(a, b)) and not torch.equal(a[0], a[1])
    assert all(t.dtype == torch.float64 and t.shape == (2, 3) and not t.requires_grad for t in a)
    assert all(0.5 <= v < 3.0 for t in a for v in t.reshape(-1).tolist())
    assert not torch.equal(gr.seeded_points(8, (2, 3), low=0.5, high=3.0)[0], a[0])


F1 = lambda x: torch.log(x) + x ** 3  # noqa: E731
D1 = lambda x: (1 / x + 3 * x ** 2,)  # noqa: E731
UNSEEN = dict(n_inputs=1, seed=3, low=0.5, high=3.0)


@covers("gr.check_function_gradient")
def test_check_function_gradient_at_unseen_points_prints_no_point_or_value():
    gr.check_function_gradient(snap(F1), "f1", F1, D1, **UNSEEN)
    gr.check_function_gradient(snap(lambda x: torch.log(x) + x.pow(3)), "f1", F1, D1, **UNSEEN)
    # raises in float64 only: graded again in float32
    gr.check_function_gradient(snap(lambda x: F1(x) if x.dtype == torch.float32 else x.numpy()), "f1", F1, D1, **UNSEEN)
    where = "on 1 float64 tensor(s) of shape ()"
    cases = {
        (lambda x: torch.log(x) + x ** 2): f"`f1` returns wrong values at points it had not seen before ({where}): check the formula.",
        (lambda x: (torch.log(x) + x ** 3).detach()): f"`f1` returns the right values but no grad_fn: {CUT}",
        (lambda x: torch.log(x.detach()) + x ** 3): f"`f1` returns the right values but autograd's gradient through it "
                                                   f"with respect to its argument is wrong: {CUT}",
        (lambda x: float(F1(x))): f"`f1` returned a float when called {where}; it must return a tensor computed with torch "
                                  "operations, so that autograd can differentiate it.",
        (lambda x: F1(x).as_subclass(_Sub)): f"`f1` returned a _Sub (a subclass of torch.Tensor) when called {where}; "
                                             "answer with plain tensors.",
        (lambda x: F1(x).reshape(1, -1)): f"`f1` returned a float64 tensor of shape (1, 1) with grad_fn=ViewBackward0 "
                                          f"when called {where}; an elementwise function returns the shape of its input, ().",
        (lambda x: (_ for _ in ()).throw(ValueError(f"at {x.item()}"))): "`f1` raised ValueError when called on 1 "
            "float32 tensor(s) of shape () at points it had not seen before. `f1` must work elementwise on float tensors "
            "of any shape: check its code.",
    }
    points = gr.seeded_points(3, (), low=0.5, high=3.0)
    for func, expected in cases.items():
        message = failure(gr.check_function_gradient, snap(func), "f1", F1, D1, **UNSEEN)
        assert message == expected
        assert not leaked(message, points + [F1(points[0]), D1(points[0])[0]]), message
    assert failure(gr.check_function_gradient, snap(None), "f1", F1, D1, **UNSEEN) == NOT_DEFINED.format(name="f1")


def _summed(model, X, Y):
    return torch.autograd.grad(torch.nn.MSELoss(reduction="sum")(model(X), Y), [model.weight, model.bias])


@covers("gr.check_linear_grads_function", "gr.LAYERS")
def test_check_linear_grads_function_on_unseen_layers_prints_no_value():
    assert {(n_in, n_out) for n_in, n_out, _, _ in gr.LAYERS} >= {(3, 1), (4, 2), (1, 1)}
    gr.check_linear_grads_function(snap(_lg), "lg", seed=11)

    def steps(model, X, Y):
        w, b = _lg(model, X, Y)
        with torch.no_grad():
            model.bias += 1
        return w, b

    label = "nn.Linear(3, 1) with 16 rows"
    cases = {
        _lg_closed_form: f"`lg` on {label}: " + gc.NO_AUTOGRAD.format(name="lg"),
        _lg_accumulates: "calling `lg` a second time on the same model returns 2 times the weight_grad: gradients "
                     "accumulate in .grad across calls. Zero them (model.zero_grad()) before backward() or use "
                     "torch.autograd.grad.",
        steps: "`lg` changed the model's parameters: it must only compute the gradients (no optimizer.step(), no "
               "in-place update).",
        _summed: f"`lg(...)'s weight_grad on {label}` has the wrong value (a float64 tensor of shape (1, 3)): " + gr.SUMMED_LOSS,
        (lambda m, X, Y: (_lg(m, X, Y)[0] + 0.5, _lg(m, X, Y)[1])):
            f"`lg(...)'s weight_grad on {label}` has the wrong value: it is a float64 tensor of shape (1, 3).",
        (lambda m, X, Y: (X[0, 0], X[0, 1])): f"`lg(...)'s weight_grad on {label}` should have shape (1, 3), but it is "
                                               "a float64 tensor of shape ().",
    }
    for func, expected in cases.items():
        message = failure(gr.check_linear_grads_function, snap(func), "lg", seed=11)
        assert message == expected
        assert not re.search(r"\d\.\d", message.replace("nn.Linear", "")), message  # no value of any unseen layer
    assert failure(gr.check_linear_grads_function, snap(None), "lg", seed=11) == NOT_DEFINED.format(name="lg")
