"""Gradient checks for autograd exercises, called by an assignment's public and hidden tests.

This module is the one piece of gradkit that runs wherever tests run: in the student's
kernel (``grader.check``), under ``gradkit grade`` and inside the Gradescope autograder
zip. It therefore depends on **torch and the standard library only** and never imports
the rest of gradkit. ``gradkit build`` ships a copy of this file as ``gradkit_checks.py``
beside the student notebook and inside the autograder zip (Otter Assign ``files``).

Every check raises :class:`CheckFailed` (an ``AssertionError``, so Otter's exception-based
tests count it as a failed test case) with a message that

* names the variable the student wrote,
* says what was found (type, dtype, shape, ``grad_fn``, the student's own value), and
* gives the likely cause of the mistake,

and never prints a reference value: the same checks serve hidden tests, whose expected
values must stay hidden (PrairieLearn's ``Feedback.check_*`` helpers are the model).

Numbers are compared in float64 against float64 references with a relative tolerance
near 1e-5 (``RTOL``), so float32 and float64 answers both pass; shapes are compared
before values because ``torch.allclose`` broadcasts a transposed answer silently.
"""

from __future__ import annotations

import math
from typing import Callable, Iterable, Sequence

import torch

__all__ = [
    "ATOL",
    "RTOL",
    "CheckFailed",
    "check_callable",
    "check_close",
    "check_float_leaf",
    "check_function_gradient",
    "check_gradient",
    "check_gradient_answer",
    "check_graph_output",
    "check_layer_gradient",
    "check_linear_layer",
    "check_linear_grads_function",
    "check_optimizer",
    "check_read_from_grad",
    "check_sgd_step",
    "describe",
    "linear_mse_reference",
    "require_defined",
    "seeded_points",
    "summed_loss_mistakes",
]

RTOL = 1e-5
"""Relative tolerance of every value comparison (float32 answers carry ~6e-8 relative error)."""

ATOL = 1e-6
"""Absolute tolerance, for reference values at or near zero."""


class CheckFailed(AssertionError):
    """A check did not pass; ``str(error)`` is the feedback shown to the student."""


# --------------------------------------------------------------------------- helpers


def describe(value: object) -> str:
    """Describe ``value`` for a feedback message without dumping large data.

    Args:
        value: any object the student defined.

    Returns:
        str: e.g. ``"a float32 tensor of shape (1, 3) with grad_fn=AddBackward0"``,
        ``"the float 12.5"`` or ``"None"``. Tensors with at most 6 elements show their
        values (they are the student's own values, never a reference).
    """
    if value is None:
        return "None"
    if value is Ellipsis:
        return "`...` (the template's placeholder)"
    if isinstance(value, torch.Tensor):
        text = f"a {str(value.dtype).replace('torch.', '')} tensor of shape {tuple(value.shape)}"
        if value.grad_fn is not None:
            text += f" with grad_fn={type(value.grad_fn).__name__}"
        if value.numel() <= 6:
            text += f", value {_fmt(value)}"
        return text
    if isinstance(value, bool):
        return f"the bool {value}"
    if isinstance(value, (int, float)):
        return f"the {type(value).__name__} {value!r}"
    return f"an object of type {type(value).__name__}"


def _fmt(t: torch.Tensor) -> str:
    data = t.detach().to("cpu").double()
    if data.dim() == 0:
        return f"{data.item():.6g}"
    return str([round(v, 6) for v in data.flatten().tolist()])


def require_defined(value: object, name: str) -> None:
    """Fail unless the student defined ``name`` (not missing, ``None`` or ``...``).

    Otter passes ``None`` for a name the submission never defined.

    Args:
        value: the object bound to ``name`` in the submission.
        name: the variable's name, as the notebook's prompt states it.

    Raises:
        CheckFailed: ``name`` is undefined, ``None`` or still the placeholder ``...``.
    """
    if value is Ellipsis:
        raise CheckFailed(f"`{name}` is still `...`: replace the placeholder with your answer.")
    if value is None:
        raise CheckFailed(
            f"`{name}` is not defined (or is None): define it in your answer cell and run "
            "every cell from the top; a cell that raised an error stops before the lines "
            "after the error."
        )


def _none_gradient_message(name: str) -> str:
    return (
        f"`{name}` is None (or not defined): the gradient was never filled in. Call "
        ".backward() on the result before reading .grad, read .grad of the leaf tensor "
        "you created with requires_grad=True (a tensor computed from it, e.g. by "
        ".double() or * 1.0, is not a leaf and gets no .grad), and do not call "
        "zero_grad() before reading it. A cell that raised an error stops before the "
        "lines after the error."
    )


def _require_plain(value: torch.Tensor, name: str, what: str = "") -> None:
    """Fail for a ``torch.Tensor`` subclass: its ``__torch_function__`` could answer the
    checks' own comparisons (``torch.allclose`` ...), so only plain tensors and
    ``nn.Parameter`` are graded."""
    if type(value) not in (torch.Tensor, torch.nn.Parameter):
        raise CheckFailed(f"`{name}`{what} is a {type(value).__name__}, a subclass of torch.Tensor; "
                          "answer with a plain tensor (from torch.tensor, .grad or torch operations).")


def _as_tensor(value: object, name: str, *, allow_number: bool = False) -> torch.Tensor:
    require_defined(value, name)
    if isinstance(value, torch.Tensor):
        _require_plain(value, name)
        return value
    if allow_number and isinstance(value, (int, float)) and not isinstance(value, bool):
        return torch.tensor(float(value), dtype=torch.float64)
    raise CheckFailed(f"`{name}` should be a torch tensor, but it is {describe(value)}.")


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


def _integer_multiple(got: torch.Tensor, ref: torch.Tensor) -> int | None:
    """The integer 2 <= k <= 10 with got == k * ref (elementwise, within tolerance), if any.

    Larger factors are not accumulation but another mistake (a summed loss, say)."""
    mask = ref.abs() > 1e-8
    if not bool(mask.any()):
        return None
    ratios = got[mask] / ref[mask]
    k = round(float(ratios.mean()))
    if k < 2 or k > 10:
        return None
    if torch.allclose(got, k * ref, rtol=RTOL, atol=ATOL):
        return k
    return None


# --------------------------------------------------------------------------- checks


def check_callable(value: object, name: str) -> None:
    """Check that the student defined ``name`` as a function.

    Args:
        value: the object bound to ``name``.
        name: the function's name.

    Raises:
        CheckFailed: undefined, placeholder, or not callable.
    """
    require_defined(value, name)
    if not callable(value):
        raise CheckFailed(f"`{name}` should be a function (def {name}(...):), but it is {describe(value)}.")


def check_gradient_answer(value: object, name: str, *, shape: Sequence[int]) -> torch.Tensor:
    """Check the structure of a gradient answer without looking at its value (public tests).

    Args:
        value: the student's gradient: a float tensor of ``shape`` (a Python number is
            accepted for ``shape == ()``, e.g. ``x.grad.item()``).
        name: its variable name.
        shape: the required shape, e.g. ``()`` or ``(1, 3)``.

    Returns:
        torch.Tensor: ``value`` as a tensor.

    Raises:
        CheckFailed: ``None`` (never computed, or read from a non-leaf), not a tensor,
            integer dtype, transposed or other wrong shape.
    """
    if value is None:
        raise CheckFailed(_none_gradient_message(name))
    t = _as_tensor(value, name, allow_number=tuple(shape) == ())
    if not t.is_floating_point():
        raise CheckFailed(f"`{name}` has the integer dtype {t.dtype}; a gradient is a float tensor.")
    if tuple(shape) == () and t.numel() == 1:
        return t
    if tuple(t.shape) != tuple(shape):
        if len(shape) == 2 and tuple(t.shape) == tuple(shape)[::-1]:
            raise CheckFailed(
                f"`{name}` has shape {tuple(t.shape)} but should have shape {tuple(shape)}: "
                "it is transposed. A parameter's gradient has the parameter's own shape "
                "(for nn.Linear(in, out), weight is (out, in))."
            )
        raise CheckFailed(f"`{name}` should have shape {tuple(shape)}, but it is {describe(t)}.")
    return t


def check_linear_layer(value: object, name: str, *, in_features: int, out_features: int) -> torch.nn.Linear:
    """Check that ``value`` is a ``torch.nn.Linear(in_features, out_features)`` with a bias.

    Args:
        value: the student's model.
        name: its variable name.
        in_features, out_features: the required sizes.

    Returns:
        torch.nn.Linear: ``value``.

    Raises:
        CheckFailed: missing, another type, other sizes, or no bias.
    """
    require_defined(value, name)
    if not isinstance(value, torch.nn.Linear):
        raise CheckFailed(
            f"`{name}` should be torch.nn.Linear({in_features}, {out_features}), but it is "
            f"{describe(value)}."
        )
    if (value.in_features, value.out_features) != (in_features, out_features) or value.bias is None:
        raise CheckFailed(
            f"`{name}` should be torch.nn.Linear({in_features}, {out_features}) with a bias, "
            f"but it is {value!r}."
        )
    return value


def check_optimizer(
    value: object,
    name: str,
    kind: type,
    *,
    lr: float,
    params: Sequence[torch.Tensor],
) -> None:
    """Check an optimizer's class, learning rate and parameters.

    Args:
        value: the student's optimizer.
        name: its variable name.
        kind: the required class, e.g. ``torch.optim.SGD``.
        lr: the required learning rate.
        params: the tensors it must optimise (e.g. the model's weight and bias).

    Raises:
        CheckFailed: missing, another class, another lr, or a parameter not optimised.
    """
    require_defined(value, name)
    if not isinstance(value, kind):
        raise CheckFailed(f"`{name}` should be a {kind.__module__}.{kind.__name__}, but it is {describe(value)}.")
    groups = value.param_groups
    if any(not math.isclose(float(g["lr"]), lr, rel_tol=1e-9) for g in groups):
        raise CheckFailed(f"`{name}` should use lr={lr}, but it uses lr={[g['lr'] for g in groups]}.")
    optimised = [p for g in groups for p in g["params"]]
    if not all(any(p is q for q in optimised) for p in params):
        raise CheckFailed(
            f"`{name}` does not optimise the model's parameters: pass model.parameters() "
            "of the same model object."
        )


def check_layer_gradient(
    got: object,
    reference: torch.Tensor,
    name: str,
    *,
    moved_reference: torch.Tensor | None = None,
    known_mistakes: Sequence[tuple[torch.Tensor, str]] = (),
) -> torch.Tensor:
    """:func:`check_gradient` for a layer parameter, also diagnosing gradients read late.

    Args:
        got: the student's gradient copy (shape of the parameter).
        reference: float64 gradient at the initial parameters.
        name: its variable name.
        moved_reference: float64 gradient at the parameters as they are now (after the
            student's optimiser step); a match means the gradient was computed after the
            parameters had moved.
        known_mistakes: passed to :func:`check_gradient`.

    Returns:
        torch.Tensor: ``got`` as float64.

    Raises:
        CheckFailed: see :func:`check_gradient`; also all-zero gradients (``zero_grad()``
            before reading) and gradients taken after the step.
    """
    try:
        return check_gradient(got, reference, name, known_mistakes=known_mistakes)
    except CheckFailed:
        if isinstance(got, torch.Tensor) and tuple(got.shape) == tuple(reference.shape):
            value = got.detach().double()
            if bool((value == 0).all()) and bool((reference != 0).any()):
                raise CheckFailed(
                    f"`{name}` is all zeros: zero_grad() ran before the gradient was read. "
                    "Read (clone) the gradient right after backward()."
                ) from None
            if moved_reference is not None and not torch.allclose(moved_reference, reference, rtol=RTOL, atol=ATOL) \
                    and torch.allclose(value, moved_reference, rtol=RTOL, atol=ATOL):
                raise CheckFailed(
                    f"`{name}` was computed after the parameters had moved (after "
                    "optimizer.step()): it must be the gradient at the initial parameters, "
                    "read right after the first backward()."
                ) from None
        raise


def check_float_leaf(
    value: object,
    name: str,
    *,
    expected_value: float | None = None,
    requires_grad: bool = True,
) -> torch.Tensor:
    """Check that ``value`` is a floating-point leaf tensor that requires grad.

    Args:
        value: the student's tensor (any shape).
        name: its variable name.
        expected_value: a value stated in the prompt (public, e.g. ``2.0``); compared in
            float64 with :data:`RTOL`. ``None`` skips the value check.
        requires_grad: whether ``requires_grad=True`` is required.

    Returns:
        torch.Tensor: ``value`` itself.

    Raises:
        CheckFailed: not a tensor, an integer dtype, not a leaf (e.g. ``.double()``,
            ``.to(dtype)`` or ``* 1.0`` after ``requires_grad=True``), no ``requires_grad``,
            or a value other than the one the prompt gives.
    """
    t = _as_tensor(value, name)
    if not (t.is_floating_point() or t.is_complex()):
        raise CheckFailed(
            f"`{name}` has the integer dtype {t.dtype}: autograd only differentiates "
            "floating-point tensors. Write the number as a float (2.0) or pass "
            "dtype=torch.float32."
        )
    if requires_grad and not t.requires_grad:
        raise CheckFailed(
            f"`{name}` does not require grad: create it with requires_grad=True so that "
            "autograd records the operations applied to it."
        )
    if not t.is_leaf:
        raise CheckFailed(
            f"`{name}` is not a leaf tensor (it has grad_fn={type(t.grad_fn).__name__}): it "
            "was computed from another tensor after requires_grad=True, for example by "
            ".double(), .to(dtype), .float() or * 1.0. Autograd only fills .grad of leaf "
            "tensors, so its .grad stays None. Create it directly with the dtype you want "
            "and requires_grad=True."
        )
    if expected_value is not None:
        got = t.detach().double()
        if got.numel() != 1 or not math.isclose(
            got.item(), expected_value, rel_tol=RTOL, abs_tol=ATOL
        ):
            raise CheckFailed(
                f"`{name}` should hold the value the exercise gives ({expected_value:g}), "
                f"but it is {describe(t)}."
            )
    return t


def check_graph_output(
    output: object,
    name: str,
    leaves: dict[str, object],
    *,
    scalar: bool = True,
) -> torch.Tensor:
    """Check that ``output`` was computed by autograd-tracked operations from ``leaves``.

    Args:
        output: the student's result tensor (e.g. ``y1``, ``loss3``).
        name: its variable name.
        leaves: variable name -> leaf tensor that the graph must reach.
        scalar: require a single-element output, as ``.backward()`` without arguments does.

    Returns:
        torch.Tensor: ``output`` itself.

    Raises:
        CheckFailed: not a tensor, no ``grad_fn`` (computed with ``math``/NumPy, ``.item()``,
            ``.detach()`` or typed in), not a scalar, or a leaf its graph does not reach.
    """
    t = _as_tensor(output, name)
    if t.grad_fn is None:
        raise CheckFailed(
            f"`{name}` has no grad_fn: it was not computed from "
            f"{', '.join('`%s`' % n for n in leaves)} with torch operations that autograd "
            "records (math or NumPy functions, .item(), float(), .detach() or a typed-in "
            "number leave the graph)."
        )
    if scalar and t.numel() != 1:
        raise CheckFailed(
            f"`{name}` should be a single number (a scalar tensor) so that .backward() needs "
            f"no argument, but it is {describe(t)}."
        )
    reached = _graph_leaves(t)
    for leaf_name, leaf in leaves.items():
        if not any(r is leaf for r in reached):
            raise CheckFailed(
                f"the autograd graph of `{name}` does not reach `{leaf_name}`: compute "
                f"`{name}` from `{leaf_name}` itself with torch operations (a copy, a "
                "converted tensor or a Python number cuts the graph)."
            )
    return t


def check_close(
    got: object,
    reference: torch.Tensor | float,
    name: str,
    *,
    cause: str = "",
) -> torch.Tensor:
    """Compare a value with a float64 reference, shape first, never printing the reference.

    Args:
        got: the student's tensor or Python number.
        reference: the expected value (tensor of any shape or a float), computed in float64.
        name: the student's variable name.
        cause: a hint appended to the message when the values differ.

    Returns:
        torch.Tensor: ``got`` as a float64 tensor.

    Raises:
        CheckFailed: wrong type, wrong shape, non-finite or wrong value.
    """
    ref = torch.as_tensor(reference, dtype=torch.float64)
    t = _as_tensor(got, name, allow_number=ref.numel() == 1)
    if ref.numel() == 1 and t.numel() == 1:
        t = t.reshape(ref.shape)
    if tuple(t.shape) != tuple(ref.shape):
        raise CheckFailed(
            f"`{name}` should have shape {tuple(ref.shape)}, but it is {describe(t)}."
        )
    value = t.detach().to("cpu", torch.float64)
    if not bool(torch.isfinite(value).all()):
        raise CheckFailed(f"`{name}` holds NaN or infinity: it is {describe(t)}.")
    if not torch.allclose(value, ref, rtol=RTOL, atol=ATOL):
        raise CheckFailed(f"`{name}` has the wrong value: it is {describe(t)}. {cause}".strip())
    return value


def check_gradient(
    got: object,
    reference: torch.Tensor | float,
    name: str,
    *,
    known_mistakes: Sequence[tuple[torch.Tensor, str]] = (),
) -> torch.Tensor:
    """Check a gradient against its float64 reference and diagnose the usual mistakes.

    Diagnoses, in this order: ``None`` (never computed, or read from a non-leaf), not a
    tensor, integer dtype, transposed shape, any other shape, an exact integer multiple
    k >= 2 of the reference (gradients accumulated over k ``backward()`` calls), the
    opposite sign, and any other wrong value.

    Args:
        got: the student's gradient (tensor of the reference's shape, or a Python number
            for a single-element reference).
        reference: the correct gradient in float64, same shape as expected of ``got``.
        name: the student's variable name.
        known_mistakes: (wrong value, message) pairs: a ``got`` that matches a wrong value
            (same shape, within tolerance) fails with its message, before the generic
            diagnoses. The wrong values are never printed either.

    Returns:
        torch.Tensor: ``got`` as a float64 tensor.

    Raises:
        CheckFailed: with the diagnosis; the reference value is never printed.
    """
    ref = torch.as_tensor(reference, dtype=torch.float64)
    if got is None:
        raise CheckFailed(_none_gradient_message(name))
    t = _as_tensor(got, name, allow_number=ref.numel() == 1)
    if not (t.is_floating_point() or t.is_complex()):
        raise CheckFailed(
            f"`{name}` has the integer dtype {t.dtype}; a gradient is a float tensor. "
            "Read it from .grad of a float leaf tensor."
        )
    if ref.numel() == 1 and t.numel() == 1:
        t = t.reshape(ref.shape)
    if tuple(t.shape) != tuple(ref.shape):
        if ref.dim() == 2 and tuple(t.shape) == tuple(ref.shape[::-1]):
            raise CheckFailed(
                f"`{name}` has shape {tuple(t.shape)} but should have shape "
                f"{tuple(ref.shape)}: it is transposed. A parameter's gradient has the "
                "parameter's own shape (for nn.Linear(in, out), weight is (out, in))."
            )
        raise CheckFailed(
            f"`{name}` should have shape {tuple(ref.shape)}, but it is {describe(t)}."
        )
    value = t.detach().to("cpu", torch.float64)
    if not bool(torch.isfinite(value).all()):
        raise CheckFailed(f"`{name}` holds NaN or infinity: it is {describe(t)}.")
    if torch.allclose(value, ref, rtol=RTOL, atol=ATOL):
        return value
    for wrong, message in known_mistakes:
        wrong = torch.as_tensor(wrong, dtype=torch.float64)
        if wrong.shape == value.shape and torch.allclose(value, wrong, rtol=RTOL, atol=ATOL):
            raise CheckFailed(f"`{name}` has the wrong value ({describe(t)}): {message}")
    k = _integer_multiple(value, ref)
    if k is not None:
        raise CheckFailed(
            f"`{name}` is {k} times too large: gradients accumulate in .grad, so calling "
            f"backward() {k} times (or re-running the cell) adds them up. Zero the gradient "
            "(x.grad = None or optimizer.zero_grad()) before each backward(), or call it once."
        )
    if torch.allclose(-value, ref, rtol=RTOL, atol=ATOL):
        raise CheckFailed(f"`{name}` has the wrong sign: it is {describe(t)}.")
    raise CheckFailed(f"`{name}` has the wrong value: it is {describe(t)}.")


def check_read_from_grad(
    got: object,
    name: str,
    *,
    leaf: torch.Tensor,
    leaf_name: str,
    output: torch.Tensor,
    output_name: str,
) -> None:
    """Check that a gradient answer was produced by autograd on the student's graph.

    Accepts ``leaf.grad`` after ``output.backward()`` (or a copy such as
    ``.detach().clone()`` or ``.item()``) and the result of
    ``torch.autograd.grad(output, leaf)``. Rejects a gradient computed by a formula from the
    leaf (it has a ``grad_fn``) and a number given when no backward pass ever ran through
    ``output``'s graph.

    Args:
        got: the student's gradient (tensor or number), already checked for value.
        name: its variable name.
        leaf: the leaf tensor the gradient belongs to (float, ``requires_grad``).
        leaf_name: the leaf's variable name.
        output: the tensor that was differentiated (has a ``grad_fn``).
        output_name: its variable name.

    Raises:
        CheckFailed: ``got`` carries a ``grad_fn``, differs from ``leaf.grad``, or no backward
            pass was run.
    """
    if isinstance(got, torch.Tensor):
        _require_plain(got, name)
    if isinstance(got, torch.Tensor) and got.grad_fn is not None:
        raise CheckFailed(
            f"`{name}` has grad_fn={type(got.grad_fn).__name__}: it was computed by a formula "
            f"from `{leaf_name}`, not read from `{leaf_name}.grad`. Let autograd compute it: "
            f"call {output_name}.backward() and read {leaf_name}.grad."
        )
    got_t = torch.as_tensor(
        got.detach() if isinstance(got, torch.Tensor) else got, dtype=torch.float64
    )
    if leaf.grad is not None:
        if got_t.numel() != leaf.grad.numel() or not torch.allclose(
            got_t.reshape(leaf.grad.shape), leaf.grad.detach().double(), rtol=RTOL, atol=ATOL
        ):
            raise CheckFailed(
                f"`{name}` is not the gradient autograd stored in `{leaf_name}.grad` "
                f"({describe(leaf.grad)}): read the answer from {leaf_name}.grad."
            )
        return
    if not _graph_was_differentiated(output, leaf):
        raise CheckFailed(
            f"`{leaf_name}.grad` is None and no backward pass ran through `{output_name}`: "
            f"`{name}` did not come from autograd. Call {output_name}.backward() and read "
            f"{leaf_name}.grad."
        )


def _graph_was_differentiated(output: torch.Tensor, leaf: torch.Tensor) -> bool:
    """Whether a backward pass without ``retain_graph`` already freed ``output``'s graph.

    A graph whose saved tensors were freed raises ``RuntimeError`` on a second backward;
    an intact graph answers. Graphs that save no tensors (sums, subtractions) cannot tell,
    and count as differentiated.
    """
    # Differentiate with respect to every leaf of the graph, not only ``leaf``: autograd
    # runs only the nodes a requested input needs, and the path to one leaf (through a
    # subtraction, say) may save nothing although the rest of the graph was freed.
    leaves = _graph_leaves(output) or [leaf]
    try:
        torch.autograd.grad(output.sum(), leaves, retain_graph=True, allow_unused=True)
    except RuntimeError as error:
        return "second time" in str(error) or "freed" in str(error)
    return _saves_no_tensors(output)


def _saves_no_tensors(output: torch.Tensor) -> bool:
    seen, stack = set(), [output.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if any(attr.startswith("_saved_") for attr in dir(node)):
            return False
        stack.extend(fn for fn, _ in getattr(node, "next_functions", ()))
    return True


def seeded_points(
    seed: int,
    shape: Sequence[int],
    *,
    low: float,
    high: float,
    count: int = 1,
    dtype: torch.dtype = torch.float64,
) -> list[torch.Tensor]:
    """Draw ``count`` reproducible tensors uniform in ``[low, high)``.

    Uses a private ``torch.Generator``, so the student's global RNG state neither changes
    nor matters: the same submission always gets the same points.

    Args:
        seed: generator seed.
        shape: shape of each tensor.
        low, high: bounds of the uniform draw.
        count: number of tensors.
        dtype: their dtype (float64 by default).

    Returns:
        list[torch.Tensor]: ``count`` tensors of ``shape`` and ``dtype``, not requiring grad.
    """
    gen = torch.Generator().manual_seed(seed)
    return [
        low + (high - low) * torch.rand(tuple(shape), generator=gen, dtype=dtype)
        for _ in range(count)
    ]


_CUT_CAUSE = (
    "part of the computation leaves the autograd graph: use torch functions (torch.log, "
    "torch.sin, torch.exp, ** or torch.pow) on the tensors themselves, not math or NumPy "
    "functions, .item(), float() or .detach()."
)


def check_function_gradient(
    func: object,
    name: str,
    reference: Callable[..., torch.Tensor],
    reference_grads: Callable[..., Sequence[torch.Tensor]],
    *,
    n_inputs: int,
    seed: int,
    low: float,
    high: float,
    shapes: Iterable[Sequence[int]] = ((), (5,), (2, 3)),
) -> None:
    """Re-evaluate a student's function at seeded points it never saw, and differentiate it.

    For every shape in ``shapes`` the function gets ``n_inputs`` fresh float64 leaf tensors
    with ``requires_grad=True``; its result must match ``reference`` elementwise and the
    gradients that autograd computes through it (of the sum of the result) must match
    ``reference_grads``. A function that fails on float64 is tried once more in float32
    (tolerance 1e-4), since students may build float32 constants inside it.

    Args:
        func: the student's function (``f1``, ``f2``...).
        name: its name.
        reference: float64 reference function of ``n_inputs`` tensors.
        reference_grads: returns the ``n_inputs`` partial derivatives, elementwise.
        n_inputs: number of tensor arguments.
        seed: seed of the points (different per hidden test).
        low, high: range of the points (keep inside the function's domain).
        shapes: input shapes to try; ``()`` is a scalar.

    Raises:
        CheckFailed: ``func`` missing, raising, returning a non-tensor or a wrong shape,
            wrong values, a result outside the autograd graph, or wrong gradients.
    """
    require_defined(func, name)
    if not callable(func):
        raise CheckFailed(f"`{name}` should be a function, but it is {describe(func)}.")
    for i, shape in enumerate(shapes):
        points = seeded_points(seed + i, shape, low=low, high=high, count=n_inputs)
        try:
            _check_function_at(func, name, reference, reference_grads, points, torch.float64)
        except _EvaluationError:
            _check_function_at(func, name, reference, reference_grads, points, torch.float32)


class _EvaluationError(Exception):
    """The student's function raised; retried in float32 before it counts as a failure."""


def _check_function_at(func, name, reference, reference_grads, points, dtype) -> None:
    rtol = RTOL if dtype == torch.float64 else 1e-4
    shape = tuple(points[0].shape)
    where = f"on {len(points)} {str(dtype).replace('torch.', '')} tensor(s) of shape {shape}"
    leaves = [p.to(dtype).clone().requires_grad_(True) for p in points]
    try:
        out = func(*leaves)
    except Exception as error:  # noqa: BLE001 - any student error becomes feedback
        if dtype == torch.float64:
            raise _EvaluationError from error
        raise CheckFailed(
            f"`{name}` raised {type(error).__name__}: {error} when called {where}. "
            f"`{name}` must work elementwise on float tensors of any shape: "
            + ("use torch functions, not math or NumPy ones." if "convert" in str(error) or
               "numpy" in str(error).lower() else "check its code.")
        ) from None
    if not isinstance(out, torch.Tensor):
        raise CheckFailed(
            f"`{name}` returned {describe(out)} when called {where}; it must return a "
            "tensor computed with torch operations, so that autograd can differentiate it."
        )
    _require_plain(out, name, f" returned a value that (when called {where})")
    if tuple(out.shape) != shape:
        raise CheckFailed(
            f"`{name}` returned {describe(out)} when called {where}; an elementwise "
            f"function returns the shape of its input, {shape}."
        )
    expected = reference(*points)
    values_ok = torch.allclose(out.detach().double(), expected, rtol=rtol, atol=ATOL)
    if not values_ok:
        raise CheckFailed(
            f"`{name}` returns wrong values at points it had not seen before ({where}): "
            "check the formula."
        )
    if out.grad_fn is None:
        raise CheckFailed(f"`{name}` returns the right values but no grad_fn: {_CUT_CAUSE}")
    grads = torch.autograd.grad(out.sum(), leaves, allow_unused=True)
    for j, (g, ref_g) in enumerate(zip(grads, reference_grads(*points))):
        ref_g = torch.broadcast_to(ref_g, shape)
        if g is None or not torch.allclose(g.double(), ref_g, rtol=rtol, atol=ATOL):
            which = f"argument {j + 1}" if len(points) > 1 else "its argument"
            raise CheckFailed(
                f"`{name}` returns the right values but autograd's gradient through it with "
                f"respect to {which} is wrong: {_CUT_CAUSE}"
            )


SUMMED_LOSS = (
    "it looks like the gradient of the summed squared error. Use torch.nn.MSELoss() with "
    "its default reduction='mean' (the mean over all elements of Y)."
)
"""Feedback for a linear-layer gradient that is ``Y.numel()`` times the mean-loss one."""


def summed_loss_mistakes(reference: torch.Tensor, Y: torch.Tensor) -> list[tuple[torch.Tensor, str]]:
    """``known_mistakes`` for :func:`check_gradient`: the gradient of a summed MSE loss.

    Args:
        reference: float64 gradient of the mean loss.
        Y: the targets, whose element count is the factor between the two losses.

    Returns:
        list: one ``(reference * Y.numel(), SUMMED_LOSS)`` pair.
    """
    return [(reference * Y.numel(), SUMMED_LOSS)]


def linear_mse_reference(
    weight: torch.Tensor, bias: torch.Tensor, X: torch.Tensor, Y: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Closed-form gradients of the mean-squared-error loss of a linear layer.

    For ``r = X Wᵀ + b − Y`` and ``N = Y.numel()``: ``dL/dW = (2/N) rᵀX`` and
    ``dL/db = (2/N) Σ_rows r`` (differentiate ``L = (1/N) Σ r²``; this is
    ``torch.nn.MSELoss(reduction="mean")``).

    Args:
        weight: (out, in) float tensor.
        bias: (out,) float tensor.
        X: (N_rows, in) float tensor.
        Y: (N_rows, out) float tensor.

    Returns:
        tuple: float64 ``(dL/dW of shape (out, in), dL/db of shape (out,))``.
    """
    W, b = weight.detach().double(), bias.detach().double()
    X64, Y64 = X.detach().double(), Y.detach().double()
    r = X64 @ W.T + b - Y64
    n = Y64.numel()
    return (2.0 / n) * r.T @ X64, (2.0 / n) * r.sum(dim=0)


def check_sgd_step(
    param_now: object,
    name: str,
    *,
    initial: torch.Tensor,
    gradient: torch.Tensor,
    lr: float,
) -> None:
    """Check one SGD step: ``param_now == initial − lr · gradient``.

    Args:
        param_now: the parameter after the step (e.g. ``model3.weight``), any float dtype.
        name: its expression in the notebook.
        initial: the parameter before the step, same shape.
        gradient: the float64 reference gradient at ``initial``, same shape.
        lr: the learning rate.

    Raises:
        CheckFailed: not a tensor, unchanged, several steps, or another wrong value.
    """
    p = _as_tensor(param_now, name).detach().double()
    start = initial.detach().double()
    expected = start - lr * gradient
    if p.shape == expected.shape and torch.allclose(p, expected, rtol=RTOL, atol=ATOL):
        return
    if p.shape == start.shape and torch.allclose(p, start, rtol=RTOL, atol=ATOL):
        raise CheckFailed(
            f"`{name}` still has its initial value: call optimizer.step() once after "
            "backward()."
        )
    for k in range(2, 6):
        if p.shape == start.shape and torch.allclose(
            p, start - k * lr * gradient, rtol=RTOL, atol=ATOL
        ):
            raise CheckFailed(
                f"`{name}` moved {k} times as far as one SGD step: call optimizer.step() "
                "once, and zero the gradients before each backward()."
            )
    raise CheckFailed(
        f"`{name}` is not the result of one SGD step from its initial value with the "
        "gradient of the loss: take the step after backward(), with the optimizer's lr, "
        "without zero_grad() in between."
    )


def check_linear_grads_function(func: object, name: str, *, seed: int) -> None:
    """Check a student's ``linear_grads(model, X, Y)`` on a layer and data it never saw.

    Builds a seeded ``torch.nn.Linear(4, 2)`` and data with 7 rows, calls ``func`` twice,
    and checks each time the returned ``(weight_grad, bias_grad)`` against
    :func:`linear_mse_reference`; the model's parameters must not change. The second call
    catches gradients accumulated between calls.

    Args:
        func: the student's function.
        name: its name.
        seed: seed of the layer and the data.

    Raises:
        CheckFailed: missing, raising, wrong return structure, wrong shape or value,
            accumulation across calls, or parameters changed.
    """
    require_defined(func, name)
    if not callable(func):
        raise CheckFailed(f"`{name}` should be a function, but it is {describe(func)}.")
    gen = torch.Generator().manual_seed(seed)
    for dtype in (torch.float64, torch.float32):
        model = torch.nn.Linear(4, 2).to(dtype)
        with torch.no_grad():
            model.weight.copy_(torch.randn(2, 4, generator=gen, dtype=torch.float64))
            model.bias.copy_(torch.randn(2, generator=gen, dtype=torch.float64))
        X = torch.randn(7, 4, generator=gen, dtype=torch.float64).to(dtype)
        Y = torch.randn(7, 2, generator=gen, dtype=torch.float64).to(dtype)
        w0, b0 = model.weight.detach().clone(), model.bias.detach().clone()
        ref_w, ref_b = linear_mse_reference(w0, b0, X, Y)
        try:
            first = _call_linear_grads(func, name, model, X, Y)
        except _EvaluationError:
            if dtype == torch.float64:
                continue
            raise CheckFailed(f"`{name}` raised an error on a float32 nn.Linear(4, 2).")
        if not (torch.equal(model.weight.detach(), w0) and torch.equal(model.bias.detach(), b0)):
            raise CheckFailed(
                f"`{name}` changed the model's parameters: it must only compute the "
                "gradients (no optimizer.step(), no in-place update)."
            )
        check_gradient(first[0], ref_w, f"{name}(...)[0] (weight_grad) on nn.Linear(4, 2)",
                       known_mistakes=summed_loss_mistakes(ref_w, Y))
        check_gradient(first[1], ref_b, f"{name}(...)[1] (bias_grad) on nn.Linear(4, 2)",
                       known_mistakes=summed_loss_mistakes(ref_b, Y))
        second = _call_linear_grads(func, name, model, X, Y)
        for got, ref, label in ((second[0], ref_w, "weight_grad"), (second[1], ref_b, "bias_grad")):
            k = _integer_multiple(got.detach().double(), ref) if got.shape == ref.shape else None
            if k is not None:
                raise CheckFailed(
                    f"calling `{name}` a second time on the same model returns {k} times "
                    f"the {label}: gradients accumulate in .grad across calls. Zero them "
                    "(model.zero_grad()) before backward() or use torch.autograd.grad."
                )
            check_gradient(got, ref, f"{name}(...) {label} on a second call")
        return


def _call_linear_grads(func, name, model, X, Y) -> tuple[torch.Tensor, torch.Tensor]:
    try:
        result = func(model, X, Y)
    except Exception as error:  # noqa: BLE001 - any student error becomes feedback
        if X.dtype == torch.float64:
            raise _EvaluationError from error
        raise CheckFailed(
            f"`{name}` raised {type(error).__name__}: {error} when called on an "
            "nn.Linear(4, 2) with X of shape (7, 4) and Y of shape (7, 2)."
        ) from None
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CheckFailed(
            f"`{name}` should return a pair (weight_grad, bias_grad), but it returned "
            f"{describe(result)}."
        )
    clones = []
    for part, label in zip(result, ("weight_grad", "bias_grad")):
        if part is None:
            raise CheckFailed(
                f"`{name}` returned None as {label}: call backward() on the loss (or use "
                "torch.autograd.grad) before reading the gradients."
            )
        if not isinstance(part, torch.Tensor):
            raise CheckFailed(f"`{name}` returned {describe(part)} as {label}; expected a tensor.")
        _require_plain(part, name, f"'s {label}")
        clones.append(part.detach().clone())  # later calls may overwrite an aliased .grad
    return clones[0], clones[1]
