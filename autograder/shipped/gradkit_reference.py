"""Value checks of the hidden tests: references, unseen points, error carried forward.

Ships **only in the autograder zip**, as ``gradkit_reference.py`` (Otter Assign
``autograder_files``), never to students. Depends on torch, the standard library and the
student-side check library (``gradkit_checks``, i.e. :mod:`autograder.shipped.gradkit_checks`). It
holds no seed and no assignment value: the hidden tests pass those in (on their own lines,
so that the failing line Otter shows after publication never prints one).

Every check reads the answers from a record (:func:`gradkit_checks.recorded`), compares
Python floats taken with torch's modes disabled (:func:`gradkit_checks.plain_floats`) with
float64 references, shape before value, relative tolerance ``RTOL``, and raises
``CheckFailed`` with a message that never prints a reference value, seed or point.
"""

from __future__ import annotations

import math
from typing import Callable, Iterable, Sequence

import torch

if __package__:  # in the gradkit package (autograder.shipped: unit tests, build)
    from . import gradkit_checks as gc
else:  # shipped: in the autograder zip's files/, beside gradkit_checks.py
    import gradkit_checks as gc

CheckFailed = gc.CheckFailed
RTOL, ATOL = gc.RTOL, gc.ATOL

__all__ = [
    "SUMMED_LOSS",
    "check_close",
    "check_function_gradient",
    "check_gradient",
    "check_initial_parameters",
    "check_layer_gradient",
    "check_linear_grads_function",
    "check_sgd_step",
    "initial_parameters",
    "linear_mistakes",
    "own_gradients",
    "linear_mse_reference",
    "seeded_points",
]


def _ref(reference: torch.Tensor | float) -> tuple[tuple[int, ...], list[float]]:
    with gc.unmodded():
        t = torch.as_tensor(reference, dtype=torch.float64)
        return tuple(t.shape), [float(v) for v in t.reshape(-1).tolist()]


def _values(snap: dict, name: str, shape: tuple[int, ...], *, gradient: bool) -> list[float]:
    """The snapshot's values, after the type, dtype, shape and finiteness checks."""
    if gradient and snap["kind"] == "missing":
        raise CheckFailed(gc.none_gradient_message(name))
    gc.require_tensor(snap, name, allow_number=math.prod(shape) == 1)
    if snap["kind"] == "tensor" and not snap["floating"]:
        raise CheckFailed(f"`{name}` has the {gc.dtype_word(snap['dtype'])} dtype torch.{snap['dtype']}; "
                          + ("a gradient is a float tensor. Read it from .grad of a float leaf tensor."
                             if gradient else "expected a float tensor."))
    if snap["values"] is None:
        raise CheckFailed(f"`{name}` is {snap['describe']}; expected a real float tensor.")
    got_shape = snap.get("shape", ())
    if not (math.prod(shape) == 1 and len(snap["values"]) == 1) and got_shape != shape:
        raise CheckFailed(gc.wrong_shape_message(name, got_shape, shape, snap["describe"]))
    if not all(math.isfinite(v) for v in snap["values"]):
        raise CheckFailed(f"`{name}` holds NaN or infinity: it is {snap['describe']}.")
    return snap["values"]


def check_close(snap: dict, reference: torch.Tensor | float, name: str, *, cause: str = "") -> None:
    """Compare a recorded value with a float64 reference, shape first.

    Args:
        snap: the recorded snapshot (tensor or Python number).
        reference: the expected value (any shape), float64.
        name: the student's variable name.
        cause: a hint appended when the values differ.

    Raises:
        CheckFailed: wrong type, shape, non-finite or wrong value.
    """
    shape, ref = _ref(reference)
    got = _values(snap, name, shape, gradient=False)
    if not gc.allclose(got, ref):
        raise CheckFailed(f"`{name}` has the wrong value: it is {snap['describe']}. {cause}".strip())


def _integer_multiple(got: Sequence[float], ref: Sequence[float]) -> int | None:
    """The integer 2 <= k <= 10 with got == k * ref (within tolerance), if any."""
    ratios = [g / r for g, r in zip(got, ref) if abs(r) > 1e-8]
    if not ratios:
        return None
    k = round(sum(ratios) / len(ratios))
    if 2 <= k <= 10 and gc.allclose(got, [k * r for r in ref]):
        return k
    return None


def check_gradient(snap: dict, reference: torch.Tensor | float, name: str, *,
                   known_mistakes: Sequence[tuple[torch.Tensor, str]] = ()) -> None:
    """Check a recorded gradient against its float64 reference and diagnose the usual mistakes.

    Diagnoses, in order: ``None``, not a tensor, integer dtype, transposed or other shape,
    non-finite, each of ``known_mistakes`` (a wrong value and its message), an integer
    multiple k >= 2 (accumulated over k ``backward()`` calls), the opposite sign, any other
    wrong value. Neither the reference nor a known wrong value is printed.

    Raises:
        CheckFailed: with the diagnosis.
    """
    shape, ref = _ref(reference)
    got = _values(snap, name, shape, gradient=True)
    if gc.allclose(got, ref):
        return
    for wrong, message in known_mistakes:
        wrong_shape, wrong_values = _ref(wrong)
        if wrong_shape == shape and gc.allclose(got, wrong_values):
            raise CheckFailed(f"`{name}` has the wrong value ({snap['describe']}): {message}")
    k = _integer_multiple(got, ref)
    if k is not None:
        raise CheckFailed(
            f"`{name}` is {k} times too large: gradients accumulate in .grad, so calling "
            f"backward() {k} times (or re-running the cell) adds them up. Zero the gradient "
            "(x.grad = None or optimizer.zero_grad()) before each backward(), or call it once.")
    if gc.allclose([-g for g in got], ref):
        raise CheckFailed(f"`{name}` has the wrong sign: it is {snap['describe']}.")
    raise CheckFailed(f"`{name}` has the wrong value: it is {snap['describe']}.")


def check_layer_gradient(snap: dict, reference: torch.Tensor, name: str, *,
                         moved_reference: torch.Tensor | None = None,
                         known_mistakes: Sequence[tuple[torch.Tensor, str]] = ()) -> None:
    """:func:`check_gradient` for a layer parameter, also diagnosing gradients read late.

    Args:
        snap: the recorded gradient answer.
        reference: float64 gradient at the recorded initial parameters.
        name: its variable name.
        moved_reference: float64 gradient at the parameters as recorded after the
            student's step; a match means the gradient was taken after the step.
        known_mistakes: as for :func:`check_gradient`.

    Raises:
        CheckFailed: see :func:`check_gradient`; also all zeros (``zero_grad()`` before
            reading) and gradients taken after the step.
    """
    try:
        check_gradient(snap, reference, name, known_mistakes=known_mistakes)
    except CheckFailed:
        shape, ref = _ref(reference)
        if snap["kind"] == "tensor" and snap["values"] is not None and snap["shape"] == shape:
            got = snap["values"]
            if all(v == 0 for v in got) and any(r != 0 for r in ref):
                raise CheckFailed(f"`{name}` is all zeros: zero_grad() ran before the gradient was read. "
                                  "Read (clone) the gradient right after backward().") from None
            if moved_reference is not None:
                _, moved = _ref(moved_reference)
                if not gc.allclose(moved, ref) and gc.allclose(got, moved):
                    raise CheckFailed(
                        f"`{name}` was computed after the parameters had moved (after "
                        "optimizer.step()): it must be the gradient at the initial parameters, "
                        "read right after the first backward().") from None
        raise


def check_provenance(rec: dict, name: str, *, read_from: str) -> None:
    """:func:`gradkit_checks.check_from_autograd`: a value earns credit only from autograd."""
    gc.check_from_autograd(rec, name, read_from=read_from)


def linear_mse_reference(weight: Sequence[float] | torch.Tensor, bias: Sequence[float] | torch.Tensor,
                         X: torch.Tensor, Y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Closed-form gradients of a linear layer's mean-squared-error loss, float64.

    For ``r = X Wᵀ + b − Y`` and ``N = Y.numel()``: ``dL/dW = (2/N) rᵀX`` and
    ``dL/db = (2/N) Σ_rows r`` (differentiate ``L = (1/N) Σ r²``; this is
    ``torch.nn.MSELoss(reduction="mean")``).

    Args:
        weight: (out, in) tensor, or its values as a flat list (row-major).
        bias: (out,) tensor or values.
        X: (rows, in) float tensor; Y: (rows, out) float tensor.

    Returns:
        tuple: ``(dL/dW of shape (out, in), dL/db of shape (out,))``, float64.
    """
    with gc.unmodded(), torch.no_grad():
        X64, Y64 = X.detach().double(), Y.detach().double()
        out, n_in = Y64.shape[1], X64.shape[1]
        W = torch.as_tensor(weight, dtype=torch.float64).detach().reshape(out, n_in)
        b = torch.as_tensor(bias, dtype=torch.float64).detach().reshape(out)
        r = X64 @ W.T + b - Y64
        n = Y64.numel()
        return (2.0 / n) * r.T @ X64, (2.0 / n) * r.sum(dim=0)


SUMMED_LOSS = ("it looks like the gradient of the summed squared error. Use torch.nn.MSELoss() with "
               "its default reduction='mean' (the mean over all elements of Y).")
"""Feedback for a linear-layer gradient that is ``Y.numel()`` times the mean-loss one."""

BROADCAST = ("it looks like the loss compared predictions of shape {pred} with targets of shape "
             "{target}, which broadcast to {full}: MSELoss then averages over wrong pairs. Keep Y's "
             "shape (N, out), the shape of model(X) (no .squeeze(), no .view(-1)).")
"""Feedback for a loss whose (N, 1) predictions broadcast against (N,) targets."""


def _broadcast_reference(weight, bias, X: torch.Tensor, Y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Gradients of ``MSELoss()(model(X), Y.squeeze(-1))`` for one output and several rows."""
    if Y.shape[1] != 1 or Y.shape[0] < 2:
        return None
    with gc.unmodded(), torch.enable_grad():
        W = torch.as_tensor(weight, dtype=torch.float64).detach().reshape(1, X.shape[1]).clone().requires_grad_(True)
        b = torch.as_tensor(bias, dtype=torch.float64).detach().reshape(1).clone().requires_grad_(True)
        pred = X.double() @ W.T + b
        loss = ((pred - Y.double().reshape(-1)) ** 2).mean()
        return tuple(g.detach() for g in torch.autograd.grad(loss, [W, b]))


def linear_mistakes(weight, bias, X: torch.Tensor, Y: torch.Tensor) -> tuple[list, list]:
    """``known_mistakes`` for the weight and the bias gradient of a linear layer's loss.

    Returns:
        tuple: (weight mistakes, bias mistakes): the summed loss (``Y.numel()`` times the
        reference) and, for one output, the loss broadcast (N, 1) against (N,).
    """
    ref_w, ref_b = linear_mse_reference(weight, bias, X, Y)
    mistakes_w = [(ref_w * Y.numel(), SUMMED_LOSS)]
    mistakes_b = [(ref_b * Y.numel(), SUMMED_LOSS)]
    broadcast = _broadcast_reference(weight, bias, X, Y)
    if broadcast is not None:
        n = Y.shape[0]
        message = BROADCAST.format(pred=f"({n}, 1)", target=f"({n},)", full=f"({n}, {n})")
        mistakes_w.append((broadcast[0], message))
        mistakes_b.append((broadcast[1], message))
    return mistakes_w, mistakes_b


def check_initial_parameters(weight: dict, bias: dict, *, in_features: int, name: str = "model3") -> None:
    """Check recorded initial parameters against ``nn.Linear``'s initialisation range.

    ``nn.Linear(in, out)`` draws weight and bias uniformly from ``[-1/sqrt(in), 1/sqrt(in)]``
    (its ``reset_parameters``), so a record outside that range was not made by the
    provided cell from a fresh layer.

    Raises:
        CheckFailed: missing or out-of-range values.
    """
    bound = 1 / math.sqrt(in_features) + 1e-6
    for snap, part in ((weight, "weight"), (bias, "bias")):
        if not isinstance(snap, dict) or snap.get("kind") != "tensor" or snap.get("values") is None:
            raise CheckFailed(f"the initial `{name}.{part}` was not recorded: run the provided cell right "
                              f"after the cell that creates `{name}`.")
        if any(abs(v) > bound for v in snap["values"]):
            raise CheckFailed(f"the recorded initial `{name}.{part}` is not the initial value of a fresh "
                              f"nn.Linear: create `{name}` and run the provided cell right after it, before "
                              "any training step.")


def check_sgd_step(after: dict, name: str, *, initial: dict, gradients: Sequence[Sequence[float]],
                   lr: float) -> None:
    """Check one SGD step with the student's own gradient (error carried forward).

    Passes when ``after == initial − lr · g`` for any ``g`` of ``gradients`` (the student's
    recorded gradient answers, ``.grad`` as recorded, the true gradient), so a step taken
    correctly with a wrong gradient earns its points.

    Args:
        after: snapshot of the parameter as recorded after the step.
        name: its expression in the notebook (``model3.weight``).
        initial: snapshot of the parameter as recorded before any step.
        gradients: candidate gradients, flat value lists of the parameter's size.
        lr: the learning rate.

    Raises:
        CheckFailed: not recorded, unchanged, several steps, or another value.
    """
    if after.get("kind") != "tensor" or after.get("values") is None or initial.get("values") is None:
        raise CheckFailed(f"`{name}` was not recorded as a plain tensor: run every cell from the top.")
    p, p0 = after["values"], initial["values"]
    # an all-zero gradient would make "no step" pass as a step
    candidates = [list(g) for g in gradients if g is not None and len(g) == len(p0) and any(v != 0 for v in g)]
    for g in candidates:
        if gc.allclose(p, [a - lr * b for a, b in zip(p0, g)]):
            return
    if gc.allclose(p, p0):
        raise CheckFailed(f"`{name}` still has its initial value: call optimizer.step() once after backward() "
                          "(or the gradient was zeroed before the step).")
    for k in range(2, 6):
        for g in candidates:
            if gc.allclose(p, [a - k * lr * b for a, b in zip(p0, g)]):
                raise CheckFailed(f"`{name}` moved {k} times as far as one SGD step: call optimizer.step() "
                                  "once, and zero the gradients before each backward().")
    raise CheckFailed(
        f"`{name}` is not the result of one SGD step from its initial value with your gradient: "
        f"take one step after backward(), with the optimizer's lr ({lr:g}), without zero_grad() in between.")


def seeded_points(seed: int, shape: Sequence[int], *, low: float, high: float, count: int = 1) -> list[torch.Tensor]:
    """``count`` reproducible float64 tensors uniform in ``[low, high)`` (private generator).

    Returns:
        list[torch.Tensor]: tensors of ``shape``, not requiring grad.
    """
    gen = torch.Generator().manual_seed(seed)
    with gc.unmodded():
        return [low + (high - low) * torch.rand(tuple(shape), generator=gen, dtype=torch.float64) for _ in range(count)]


def check_function_gradient(func_snap: dict, name: str, reference: Callable[..., torch.Tensor],
                            reference_grads: Callable[..., Sequence[torch.Tensor]], *, n_inputs: int, seed: int,
                            low: float, high: float,
                            shapes: Iterable[Sequence[int]] = ((), (1,), (5,), (2, 3))) -> None:
    """Evaluate a student's function at seeded points it never saw, and differentiate it.

    Per shape: ``n_inputs`` fresh float64 leaf tensors (float32, tolerance 1e-4, if the
    function raises in float64); the result must match ``reference`` elementwise, and
    autograd's gradients of its sum must match ``reference_grads``.

    Raises:
        CheckFailed: missing, raising, a non-tensor or wrong shape, wrong values, no
            ``grad_fn``, or wrong gradients. Never prints a point or a reference value.
    """
    gc.check_callable(func_snap, name)
    func = func_snap["object"]
    for i, shape in enumerate(shapes):
        points = seeded_points(seed + i, shape, low=low, high=high, count=n_inputs)
        try:
            _check_function_at(func, name, reference, reference_grads, points, torch.float64)
        except _EvaluationError:
            _check_function_at(func, name, reference, reference_grads, points, torch.float32)


class _EvaluationError(Exception):
    """The student's function raised in float64; retried in float32."""


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
        raise CheckFailed(f"`{name}` raised {gc.error_text(error, unseen=True)} when called {where} at points it "
                          f"had not seen before. `{name}` must work elementwise on float tensors of any shape: "
                          + gc.error_hint(error)) from None
    if not isinstance(out, torch.Tensor):
        raise CheckFailed(f"`{name}` returned {gc.describe(out, values=False)} when called {where}; it must return a "
                          "tensor computed with torch operations, so that autograd can differentiate it.")
    if not gc.is_plain(out):
        raise CheckFailed(f"`{name}` returned {gc.describe(out, values=False)} when called {where}; answer with plain tensors.")
    if tuple(out.shape) != shape:
        raise CheckFailed(f"`{name}` returned {gc.describe(out, values=False)} when called {where}; an elementwise "
                          f"function returns the shape of its input, {shape}.")
    _, expected = _ref(reference(*points))
    if not gc.allclose(gc.plain_floats(out), expected, rtol=rtol):
        raise CheckFailed(f"`{name}` returns wrong values at points it had not seen before ({where}): "
                          "check the formula.")
    if out.grad_fn is None:
        raise CheckFailed(f"`{name}` returns the right values but no grad_fn: {gc.CUT_CAUSE}")
    with gc.unmodded():
        grads = torch.autograd.grad(torch.Tensor.sum(out), leaves, allow_unused=True)
    for j, (g, ref_g) in enumerate(zip(grads, reference_grads(*points))):
        _, ref_values = _ref(torch.broadcast_to(torch.as_tensor(ref_g, dtype=torch.float64), shape))
        if g is None or not gc.is_plain(g) or not gc.allclose(gc.plain_floats(g), ref_values, rtol=rtol):
            which = f"argument {j + 1}" if len(points) > 1 else "its argument"
            raise CheckFailed(f"`{name}` returns the right values but autograd's gradient through it with "
                              f"respect to {which} is wrong: {gc.CUT_CAUSE}")


LAYERS = ((3, 1, 16, torch.float64), (3, 1, 16, torch.float32), (4, 2, 7, torch.float64),
          (1, 1, 5, torch.float64), (3, 1, 1, torch.float64))
"""The unseen layers of :func:`check_linear_grads_function`: (in, out, rows, dtype): the
assignment's own shapes (float64 and float32), two outputs, one feature, one sample."""


def check_linear_grads_function(func_snap: dict, name: str, *, seed: int) -> None:
    """Check ``linear_grads(model, X, Y)`` on seeded layers and data it never saw (:data:`LAYERS`).

    Each layer: the returned ``(weight_grad, bias_grad)`` must equal
    :func:`linear_mse_reference`, autograd must have computed them (a backward pass
    reached the parameters), the parameters must not change, and a second call must
    return the same (no accumulation across calls).

    Raises:
        CheckFailed: with the diagnosis (summed loss, broadcast targets, transposed,
            accumulation, no autograd, parameters changed, raised...).
    """
    gc.check_callable(func_snap, name)
    func = func_snap["object"]
    gen = torch.Generator().manual_seed(seed)
    for n_in, n_out, rows, dtype in LAYERS:
        with gc.unmodded():
            model = torch.nn.Linear(n_in, n_out).to(dtype)
            with torch.no_grad():
                model.weight.copy_(torch.randn(n_out, n_in, generator=gen, dtype=torch.float64))
                model.bias.copy_(torch.randn(n_out, generator=gen, dtype=torch.float64))
            X = torch.randn(rows, n_in, generator=gen, dtype=torch.float64).to(dtype)
            Y = torch.randn(rows, n_out, generator=gen, dtype=torch.float64).to(dtype)
        w0, b0 = gc.plain_floats(model.weight), gc.plain_floats(model.bias)
        ref_w, ref_b = linear_mse_reference(w0, b0, X, Y)
        mistakes_w, mistakes_b = linear_mistakes(w0, b0, X, Y)
        label = f"nn.Linear({n_in}, {n_out}) with {rows} row{'s' if rows > 1 else ''}"
        got_w, got_b, ran = gc.call_linear_grads(func, name, model, X, Y, unseen=True)
        if gc.plain_floats(model.weight) != w0 or gc.plain_floats(model.bias) != b0:
            raise CheckFailed(gc.PARAMETERS_CHANGED.format(name=name))
        rtol = RTOL if dtype == torch.float64 else 1e-4
        for got, ref, mistakes, part in ((got_w, ref_w, mistakes_w, "weight_grad"), (got_b, ref_b, mistakes_b, "bias_grad")):
            snap = gc.snapshot(got, values=False)
            if rtol != RTOL and snap["values"] is not None and tuple(got.shape) == tuple(ref.shape) \
                    and gc.allclose(snap["values"], _ref(ref)[1], rtol=rtol):
                continue
            check_gradient(snap, ref, f"{name}(...)'s {part} on {label}", known_mistakes=mistakes)
        if not ran:
            raise CheckFailed(f"`{name}` on {label}: " + gc.NO_AUTOGRAD.format(name=name))
        again_w, again_b, _ = gc.call_linear_grads(func, name, model, X, Y, unseen=True)
        for got, ref, part in ((again_w, ref_w, "weight_grad"), (again_b, ref_b, "bias_grad")):
            values = gc.plain_floats(got)
            _, ref_values = _ref(ref)
            k = _integer_multiple(values, ref_values) if tuple(got.shape) == tuple(ref.shape) else None
            if k is not None:
                raise CheckFailed(f"calling `{name}` a second time on the same model returns {k} times the "
                                  f"{part}: gradients accumulate in .grad across calls. Zero them "
                                  "(model.zero_grad()) before backward() or use torch.autograd.grad.")
            if tuple(got.shape) != tuple(ref.shape) or not gc.allclose(values, ref_values, rtol=rtol):
                raise CheckFailed(f"calling `{name}` a second time on the same model returns another {part}: "
                                  "it must return the same gradients every time.")


def initial_parameters(start: dict, now: dict, name: str, *, in_features: int, out_features: int
                       ) -> tuple[list[float], list[float]]:
    """The recorded initial weight and bias of a linear layer, after checking the records.

    Args:
        start: snapshot of the layer recorded right after it was created.
        now: snapshot of the layer recorded after the answers that use it.
        name: its variable name.
        in_features, out_features: the required sizes.

    Returns:
        tuple: (weight values, bias values), flat lists of Python floats.

    Raises:
        CheckFailed: not the required layer, a new layer made after the first record, or
            initial values outside ``nn.Linear``'s initial range.
    """
    gc.check_linear_layer(start, name, in_features=in_features, out_features=out_features)
    gc.check_linear_layer(now, name, in_features=in_features, out_features=out_features)
    if start["object"] is not now["object"]:
        raise CheckFailed(f"`{name}` was created again after the provided cell recorded its initial "
                          "parameters: create it once, in its own cell, and run the provided cell right after it.")
    check_initial_parameters(start["weight"], start["bias"], in_features=in_features, name=name)
    return start["weight"]["values"], start["bias"]["values"]


def own_gradients(answer: dict, param_now: dict, reference: torch.Tensor) -> list[list[float]]:
    """The gradients a student's SGD step may have used (error carried forward).

    Args:
        answer: snapshot of the student's gradient answer (``weight_grad3``).
        param_now: snapshot of the parameter as recorded after the step (its ``grad``).
        reference: the true gradient at the initial parameters.

    Returns:
        list: flat value lists: the answer, the recorded ``.grad`` and the reference, each
        only if it is a plain float tensor of the parameter's size and not all zeros (a
        zero gradient would make "no step" look like a step).
    """
    candidates = []
    grad = param_now.get("grad") if isinstance(param_now, dict) else None
    for snap in (answer, grad):
        if isinstance(snap, dict) and snap.get("kind") == "tensor" and snap.get("values") is not None \
                and snap.get("floating"):
            candidates.append(list(snap["values"]))
    candidates.append(_ref(reference)[1])
    return [c for c in candidates if any(v != 0 for v in c)]
