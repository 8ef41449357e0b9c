"""Unit tests of the check library: one exact message per diagnosis, no kernel.

Modelled on PrairieLearn's ``code_feedback`` tests: each test builds the student's
answer the way a student would (real torch tensors, real backward passes), calls one
check, and asserts the exact feedback (or that it passes). Fast: no notebook, no otter.
"""

from __future__ import annotations

import copy
import math

import pytest
import torch

from autograder.shipped import gradkit_checks as gc
from autograder.shipped import gradkit_reference as gr
from autograder.shipped.gradkit_checks import CheckFailed


def fails(message: str):
    return pytest.raises(CheckFailed, match="^" + __import__("re").escape(message) + "$")


def snap(value):
    return gc.snapshot(value)


def x_leaf(value=2.0, **kwargs):
    return torch.tensor(value, requires_grad=True, **kwargs)


# --------------------------------------------------------------------------- records


def _run_record(cells: list[str], key: str, names: list[str], gradients: list[str] = ()) -> dict:
    """Run ``cells`` as a notebook would (one namespace, IPython's ``_ih`` history), then
    the provided record cell, and return the record."""
    namespace = {"torch": torch, "gc": gc, "_ih": [""]}
    for source in cells:
        namespace["_ih"].append(source)
        exec(compile(source, "<cell>", "exec"), namespace)
    record_cell = f"gc.record({key!r}, {list(names)!r}, gradients={list(gradients)!r})"
    namespace["_ih"].append(record_cell)
    exec(compile(record_cell, "<cell>", "exec"), namespace)
    return namespace


Q1 = ["f1", "x1", "y1", "grad1"]
F1 = "def f1(x):\n    return torch.log(x) + x ** 3\n"


@pytest.mark.parametrize("answer", [
    "grad1 = x1.grad",
    "grad1 = x1.grad.clone()",
    "grad1 = x1.grad.item()",
    "grad1 = float(x1.grad)",
    "g = x1.grad\ngrad1 = g.detach().clone()",
])
def test_record_accepts_every_copy_of_grad(answer):
    ns = _run_record([F1 + "x1 = torch.tensor(2.0, requires_grad=True)\ny1 = f1(x1)\ny1.backward()\n" + answer], "q1", Q1, ["grad1"])
    rec = ns["gradkit_records"]["q1"]
    gc.check_from_autograd(rec, "grad1", read_from="x1.grad")
    assert rec["grad1"]["values"] == [12.5]


@pytest.mark.parametrize("answer", [
    "(grad1,) = torch.autograd.grad(y1, x1)",
    "grad1 = torch.autograd.grad(y1, x1, create_graph=True)[0]",
    "from torch.autograd import grad as autograd_grad\ngrad1 = autograd_grad(y1, x1, retain_graph=True)[0]",
    "def read(t):\n    return t.grad\ny1.backward(retain_graph=True)\ngrad1 = read(x1)",
])
def test_record_accepts_autograd_grad_in_any_spelling(answer):
    ns = _run_record([F1 + "x1 = torch.tensor(2.0, requires_grad=True)\ny1 = f1(x1)\n" + answer], "q1", Q1, ["grad1"])
    gc.check_from_autograd(ns["gradkit_records"]["q1"], "grad1", read_from="x1.grad")


TYPED = ("`grad1` was not read from x1.grad (or torch.autograd.grad): the statement that sets it last uses "
         "neither, so it is a number typed in or a formula worked out by hand. Let autograd compute it: call "
         "backward() and read x1.grad, or copy it (.clone(), .item()).")


@pytest.mark.parametrize("answer", [
    "grad1 = torch.tensor(12.5)",
    "grad1 = 12.5",
    "grad1 = 1 / x1 + 3 * x1 ** 2",
    "grad1 = x1.grad\ngrad1 = torch.tensor(12.5)",  # the last statement counts
])
def test_record_charges_a_literal_after_a_real_backward(answer):
    ns = _run_record([F1 + "x1 = torch.tensor(2.0, requires_grad=True)\ny1 = f1(x1)\ny1.backward()\n" + answer], "q1", Q1, ["grad1"])
    with fails(TYPED):
        gc.check_from_autograd(ns["gradkit_records"]["q1"], "grad1", read_from="x1.grad")


def test_record_keeps_the_answer_as_given_whatever_runs_later():
    ns = _run_record(["model3 = torch.nn.Linear(3, 1)"], "model3", ["model3"])
    initial = list(ns["gradkit_records"]["model3"]["model3"]["weight"]["values"])
    later = "with torch.no_grad():\n    model3.weight.add_(1.0)\nmodel3 = None"
    ns["_ih"].append(later)
    exec(later, ns)
    rec = gc.recorded(ns, "model3", ["model3"])
    assert rec["model3"]["weight"]["values"] == initial
    assert rec["model3"]["kind"] == "linear"


def test_recorded_falls_back_to_a_snapshot_when_the_record_cell_was_deleted():
    env = {"x1": x_leaf(), "_ih": ["x1 = torch.tensor(2.0, requires_grad=True)"]}
    rec = gc.recorded(env, "q1", ["x1"])
    assert rec["x1"]["values"] == [2.0] and rec["x1"]["is_leaf"]


def test_provenance_without_history_gives_the_benefit_of_the_doubt_and_a_missing_statement_fails():
    rec = gc._make_record({"grad1": torch.tensor(12.5)}, ["grad1"], ["grad1"])
    gc.check_from_autograd(rec, "grad1", read_from="x1.grad")  # no _ih: nothing to judge
    rec = gc._make_record({"grad1": torch.tensor(12.5), "_ih": ["globals()['grad1'] = 1"]}, ["grad1"], ["grad1"])
    with fails("`grad1` is not set by any statement of your cells (assign it with `grad1 = ...`): read it from "
               "x1.grad (or torch.autograd.grad) after the backward pass."):
        gc.check_from_autograd(rec, "grad1", read_from="x1.grad")


# --------------------------------------------------------------------------- structure


def test_float_leaf_diagnoses():
    gc.check_float_leaf(snap(x_leaf()), "x1", expected_value=2.0)
    gc.check_float_leaf(snap(x_leaf([2.0], dtype=torch.float64)), "x1", expected_value=2.0)
    with fails("`x1` has the integer dtype torch.int64: autograd only differentiates floating-point tensors. "
               "Write the number as a float (2.0) or pass dtype=torch.float32."):
        gc.check_float_leaf(snap(torch.tensor(2)), "x1", expected_value=2.0)
    with fails("`x1` does not require grad: create it with requires_grad=True so that autograd records the "
               "operations applied to it."):
        gc.check_float_leaf(snap(torch.tensor(2.0)), "x1", expected_value=2.0)
    with fails("`x1` is not a leaf tensor (it has grad_fn=ToCopyBackward0): it was computed from another tensor "
               "after requires_grad=True, for example by .double(), .to(dtype), .float() or * 1.0. Autograd only "
               "fills .grad of leaf tensors, so its .grad stays None. Create it directly with the dtype you want "
               "and requires_grad=True."):
        gc.check_float_leaf(snap(x_leaf().double()), "x1", expected_value=2.0)
    with fails("`x1` should hold the value the exercise gives (2), but it is a float32 tensor of shape (), value 3."):
        gc.check_float_leaf(snap(x_leaf(3.0)), "x1", expected_value=2.0)
    with fails("`x1` is still `...`: replace the placeholder with your answer."):
        gc.check_float_leaf(snap(...), "x1")
    with fails("`x1` is not defined (or is None): define it in your answer cell and run every cell from the top; "
               "a cell that raised an error stops before the lines after the error."):
        gc.check_float_leaf(snap(None), "x1")


def test_graph_output_diagnoses():
    x = x_leaf()
    gc.check_graph_output(snap(torch.log(x) + x ** 3), "y1", {"x1": snap(x)})
    with fails("`y1` has no grad_fn: it was not computed from `x1` with torch operations that autograd records "
               "(math or NumPy functions, .item(), float(), .detach() or a typed-in number leave the graph)."):
        gc.check_graph_output(snap(torch.tensor(8.69)), "y1", {"x1": x})
    with fails("the autograd graph of `y1` does not reach `x1`: compute `y1` from `x1` itself with torch operations "
               "(a copy, a converted tensor or a Python number cuts the graph)."):
        gc.check_graph_output(snap(x_leaf() * 2), "y1", {"x1": x})
    with fails("`loss3` should be a single number (a scalar tensor) so that .backward() needs no argument, but it is "
               "a float32 tensor of shape (2, 1) with grad_fn=MulBackward0, value [4.0, 4.0]."):
        gc.check_graph_output(snap(x * torch.ones(2, 1) * 2), "loss3", {"x1": x})


def test_gradient_answer_diagnoses():
    gc.check_gradient_answer(snap(12.5), "grad1", shape=())
    gc.check_gradient_answer(snap(torch.zeros(1, 3)), "weight_grad3", shape=(1, 3))
    with fails("`weight_grad3` has shape (3, 1) but should have shape (1, 3): it is transposed. A parameter's "
               "gradient has the parameter's own shape (for nn.Linear(in, out), weight is (out, in))."):
        gc.check_gradient_answer(snap(torch.zeros(3, 1)), "weight_grad3", shape=(1, 3))
    with fails("`grad1` has the integer dtype torch.int64; a gradient is a float tensor."):
        gc.check_gradient_answer(snap(torch.tensor(12)), "grad1", shape=())
    with pytest.raises(CheckFailed, match=r"^`grad1` is None \(or not defined\): the gradient was never filled in"):
        gc.check_gradient_answer(snap(None), "grad1", shape=())


class _Lying(torch.Tensor):
    def __eq__(self, other):  # noqa: D105 - a lying dunder
        return True


def test_a_tensor_subclass_never_reaches_a_comparison():
    value = torch.tensor(0.0).as_subclass(_Lying)
    with fails("`grad1` is a _Lying (a subclass of torch.Tensor); answer with a plain tensor (from torch.tensor, "
               ".grad or torch operations)."):
        gc.check_gradient_answer(snap(value), "grad1", shape=())
    with pytest.raises(TypeError):
        gc.plain_floats(value)

    class Lying(float):
        def __float__(self):
            return 12.5

    with fails("`grad1` should be a torch tensor, but it is the Lying 3.0."):
        gc.check_gradient_answer(snap(Lying(3.0)), "grad1", shape=())


def test_comparisons_ignore_a_torch_function_mode_left_on():
    from torch.overrides import TorchFunctionMode

    class AllClose(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            result = func(*args, **(kwargs or {}))
            return torch.full_like(result, 12.5) if isinstance(result, torch.Tensor) and result.is_floating_point() else result

    three = torch.tensor(3.0)
    wrong = snap(three)
    reference = torch.tensor(12.5, dtype=torch.float64)
    with AllClose():
        assert gc.plain_floats(three) == [3.0]
        assert gc.snapshot(three)["values"] == [3.0]
        with fails("`grad1` has the wrong value: it is a float32 tensor of shape (), value 3."):
            gr.check_gradient(wrong, reference, "grad1")


def test_optimizer_and_layer_diagnoses():
    model = torch.nn.Linear(3, 1)
    gc.check_linear_layer(snap(model), "model3", in_features=3, out_features=1)
    with fails("`model3` should be torch.nn.Linear(3, 1) with a bias, but it is nn.Linear(1, 3)."):
        gc.check_linear_layer(snap(torch.nn.Linear(1, 3)), "model3", in_features=3, out_features=1)
    params = [model.weight, model.bias]
    gc.check_optimizer(snap(torch.optim.SGD(params, lr=0.1)), "optimizer3", torch.optim.SGD, lr=0.1, params=params)
    with fails("`optimizer3` should use lr=0.1, but it uses lr=[0.01]."):
        gc.check_optimizer(snap(torch.optim.SGD(params, lr=0.01)), "optimizer3", torch.optim.SGD, lr=0.1, params=params)
    with fails("`optimizer3` does not optimise the model's parameters: pass model.parameters() of the same model object."):
        gc.check_optimizer(snap(torch.optim.SGD(torch.nn.Linear(3, 1).parameters(), lr=0.1)), "optimizer3",
                           torch.optim.SGD, lr=0.1, params=params)


CUT = ("part of the computation leaves the autograd graph: use torch functions (torch.log, torch.sin, torch.exp, "
       "** or torch.pow) on the tensors themselves, not math or NumPy functions, .item(), float() or .detach().")


def test_elementwise_function_structure_on_public_points():
    gc.check_elementwise_function(snap(lambda x: torch.log(x) + x ** 3), "f1", [[1.5, 0.5, 2.5]])
    with fails("autograd's derivative of `f1` with respect to its argument does not match how `f1`'s value changes "
               f"(called on 1 float64 tensor(s) of shape ()): {CUT}"):
        gc.check_elementwise_function(snap(lambda x: math.log(x.item()) + x ** 3), "f1", [[1.5, 0.5, 2.5]])
    with fails("`f1` returned None when called on 1 float64 tensor(s) of shape (); it must return a tensor computed "
               "with torch operations, so that autograd can differentiate it."):
        gc.check_elementwise_function(snap(lambda x: None), "f1", [[1.5, 0.5, 2.5]])
    with fails("`f1` returned a float64 tensor of shape () with grad_fn=SumBackward0, value 19.7536 when called on 1 "
               "float64 tensor(s) of shape (3,); an elementwise function returns the shape of its input, (3,)."):
        gc.check_elementwise_function(snap(lambda x: (torch.log(x) + x ** 3).sum()), "f1", [[1.5, 0.5, 2.5]])
    with fails("`f1` raised RuntimeError: shape '[2, 2]' is invalid for input of size 3 when called on 1 float64 "
               "tensor(s) of shape (3,). `f1` must work elementwise on float tensors of any shape: check its code."):
        gc.check_elementwise_function(snap(lambda x: torch.log(x) + x ** 3 if x.dim() == 0 else x.reshape(2, 2)),
                                      "f1", [[1.5, 0.5, 2.5]])


def _lg_autograd(model, X, Y):
    loss = torch.nn.MSELoss()(model(X), Y)
    return torch.autograd.grad(loss, [model.weight, model.bias])


def _lg_backward_copy(model, X, Y):
    m = copy.deepcopy(model)
    torch.nn.MSELoss()(m(X), Y).backward()
    return m.weight.grad, m.bias.grad


def _lg_closed_form(model, X, Y):
    with torch.no_grad():
        r = model(X) - Y
        return 2 / Y.numel() * r.T @ X, 2 / Y.numel() * r.sum(0)


def _lg_accumulates(model, X, Y):
    torch.nn.MSELoss()(model(X), Y).backward()
    return model.weight.grad.clone(), model.bias.grad.clone()


def _lg_squeeze(model, X, Y):
    loss = torch.nn.MSELoss()(model(X), Y.squeeze())
    return torch.autograd.grad(loss, [model.weight, model.bias])


PUBLIC_LAYERS = [(3, 1, 4), (2, 3, 5)]
NO_AUTOGRAD = ("`linear_grads` on nn.Linear(3, 1): no backward pass reached the model's parameters while "
               "`linear_grads` ran, so autograd did not compute these gradients (a formula worked out by hand, under "
               "torch.no_grad() or on detached tensors, does not count). Compute the loss from model(X) and use "
               "loss.backward() or torch.autograd.grad.")


@pytest.mark.parametrize("func", [_lg_autograd, _lg_backward_copy])
def test_linear_grads_with_autograd_passes_public_and_hidden(func):
    gc.check_linear_grads_structure(snap(func), "linear_grads", PUBLIC_LAYERS)
    gr.check_linear_grads_function(snap(func), "linear_grads", seed=1)


def test_linear_grads_diagnoses():
    with fails(NO_AUTOGRAD):
        gc.check_linear_grads_structure(snap(_lg_closed_form), "linear_grads", PUBLIC_LAYERS)
    with pytest.raises(CheckFailed, match="no backward pass reached the model's parameters"):
        gr.check_linear_grads_function(snap(_lg_closed_form), "linear_grads", seed=1)
    with fails("calling `linear_grads` a second time on the same model returns another weight_grad: gradients "
               "accumulate in .grad across calls. Zero them (model.zero_grad()) before backward() or use "
               "torch.autograd.grad."):
        gc.check_linear_grads_structure(snap(_lg_accumulates), "linear_grads", PUBLIC_LAYERS)
    with fails("`linear_grads` should return a pair (weight_grad, bias_grad), but it returned None when called on an "
               "nn.Linear(3, 1) with X of shape (4, 3) and Y of shape (4, 1)."):
        gc.check_linear_grads_structure(snap(lambda model, X, Y: None), "linear_grads", PUBLIC_LAYERS)
    # a value mistake passes the public check and is named by the hidden one
    gc.check_linear_grads_structure(snap(_lg_squeeze), "linear_grads", PUBLIC_LAYERS)
    with pytest.raises(CheckFailed, match=r"it looks like the loss compared predictions of shape \(16, 1\) with "
                                          r"targets of shape \(16,\), which broadcast to \(16, 16\)"):
        gr.check_linear_grads_function(snap(_lg_squeeze), "linear_grads", seed=1)


def test_linear_grads_hooks_leave_torch_as_found():
    from torch.utils.hooks import RemovableHandle

    before = RemovableHandle.next_id
    model = torch.nn.Linear(3, 1)
    gc.call_linear_grads(_lg_autograd, "linear_grads", model, torch.ones(4, 3), torch.ones(4, 1))
    assert RemovableHandle.next_id == before
    assert not model._forward_hooks and not model.weight._backward_hooks


# --------------------------------------------------------------------------- values (hidden)


def test_gradient_value_diagnoses_never_print_the_reference():
    ref = torch.tensor(12.5, dtype=torch.float64)
    gr.check_gradient(snap(torch.tensor(12.5)), ref, "grad1")
    gr.check_gradient(snap(12.5), ref, "grad1")
    with fails("`grad1` is 2 times too large: gradients accumulate in .grad, so calling backward() 2 times (or "
               "re-running the cell) adds them up. Zero the gradient (x.grad = None or optimizer.zero_grad()) before "
               "each backward(), or call it once."):
        gr.check_gradient(snap(torch.tensor(25.0)), ref, "grad1")
    with fails("`grad1` has the wrong sign: it is a float32 tensor of shape (), value -12.5."):
        gr.check_gradient(snap(torch.tensor(-12.5)), ref, "grad1")
    with fails("`grad1` has the wrong value: it is a float32 tensor of shape (), value 12."):
        gr.check_gradient(snap(torch.tensor(12.0)), ref, "grad1")


def _layer_data():
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(16, 3, generator=gen)
    Y = X @ torch.tensor([[1.5], [-2.0], [0.5]]) + 0.3 + 0.01 * torch.randn(16, 1, generator=gen)
    return X, Y


def _honest_step(times_backward=1, reduction="mean", lr=0.1):
    X, Y = _layer_data()
    model = torch.nn.Linear(3, 1)
    start = snap(model)
    loss = torch.nn.MSELoss(reduction=reduction)(model(X), Y)
    for _ in range(times_backward):
        loss.backward(retain_graph=True)
    wg = model.weight.grad.clone()
    torch.optim.SGD(model.parameters(), lr=lr).step()
    return X, Y, start, snap(model), snap(wg)


def test_sgd_step_is_checked_with_the_students_own_gradient():
    X, Y, start, now, wg = _honest_step(times_backward=2)
    w0, b0 = gr.initial_parameters(start, now, "model3", in_features=3, out_features=1)
    ref_w, _ = gr.linear_mse_reference(w0, b0, X, Y)
    with fails("`weight_grad3` is 2 times too large: gradients accumulate in .grad, so calling backward() 2 times (or "
               "re-running the cell) adds them up. Zero the gradient (x.grad = None or optimizer.zero_grad()) before "
               "each backward(), or call it once."):
        gr.check_layer_gradient(wg, ref_w, "weight_grad3")
    gr.check_sgd_step(now["weight"], "model3.weight", initial=start["weight"],
                      gradients=gr.own_gradients(wg, now["weight"], ref_w), lr=0.1)


def test_sgd_step_diagnoses():
    X, Y, start, now, wg = _honest_step(lr=0.01)
    w0, b0 = gr.initial_parameters(start, now, "model3", in_features=3, out_features=1)
    ref_w, _ = gr.linear_mse_reference(w0, b0, X, Y)
    with fails("`model3.weight` is not the result of one SGD step from its initial value with your gradient: take "
               "one step after backward(), with the optimizer's lr (0.1), without zero_grad() in between."):
        gr.check_sgd_step(now["weight"], "model3.weight", initial=start["weight"],
                          gradients=gr.own_gradients(wg, now["weight"], ref_w), lr=0.1)
    with fails("`model3.weight` still has its initial value: call optimizer.step() once after backward() (or the "
               "gradient was zeroed before the step)."):
        gr.check_sgd_step(start["weight"], "model3.weight", initial=start["weight"],
                          gradients=[[0.0, 0.0, 0.0], *gr.own_gradients(wg, now["weight"], ref_w)], lr=0.1)


def test_summed_loss_and_moved_gradient_messages():
    X, Y, start, now, wg = _honest_step(reduction="sum")
    w0, b0 = gr.initial_parameters(start, now, "model3", in_features=3, out_features=1)
    ref_w, _ = gr.linear_mse_reference(w0, b0, X, Y)
    mistakes_w, _ = gr.linear_mistakes(w0, b0, X, Y)
    with pytest.raises(CheckFailed, match=r"it looks like the gradient of the summed squared error\."):
        gr.check_layer_gradient(wg, ref_w, "weight_grad3", known_mistakes=mistakes_w)
    moved_w, _ = gr.linear_mse_reference(now["weight"]["values"], now["bias"]["values"], X, Y)
    with fails("`weight_grad3` was computed after the parameters had moved (after optimizer.step()): it must be the "
               "gradient at the initial parameters, read right after the first backward()."):
        gr.check_layer_gradient(snap(moved_w.float()), ref_w, "weight_grad3", moved_reference=moved_w)
    with fails("`weight_grad3` is all zeros: zero_grad() ran before the gradient was read. Read (clone) the gradient "
               "right after backward()."):
        gr.check_layer_gradient(snap(torch.zeros(1, 3)), ref_w, "weight_grad3")


def test_forged_initial_parameters_and_a_new_model_are_refused():
    model = torch.nn.Linear(3, 1)
    start = snap(model)
    start["weight"] = snap(torch.full((1, 3), 5.0))
    with fails("the recorded initial `model3.weight` is not the initial value of a fresh nn.Linear: create `model3` "
               "and run the provided cell right after it, before any training step."):
        gr.initial_parameters(start, snap(model), "model3", in_features=3, out_features=1)
    with fails("`model3` was created again after the provided cell recorded its initial parameters: create it once, "
               "in its own cell, and run the provided cell right after it."):
        gr.initial_parameters(snap(model), snap(torch.nn.Linear(3, 1)), "model3", in_features=3, out_features=1)


def test_unseen_points_cover_edge_shapes_and_diagnose():
    ref = lambda x: torch.log(x) + x ** 3  # noqa: E731
    der = lambda x: (1 / x + 3 * x ** 2,)  # noqa: E731
    gr.check_function_gradient(snap(ref), "f1", ref, der, n_inputs=1, seed=3, low=0.5, high=3.0)
    with fails("`f1` returns wrong values at points it had not seen before (on 1 float64 tensor(s) of shape ()): "
               "check the formula."):
        gr.check_function_gradient(snap(lambda x: torch.log10(x) + x ** 3), "f1", ref, der, n_inputs=1, seed=3,
                                   low=0.5, high=3.0)
    with fails(f"`f1` returns the right values but autograd's gradient through it with respect to its argument is "
               f"wrong: {CUT}"):
        gr.check_function_gradient(snap(lambda x: torch.log(x.detach()) + x ** 3), "f1", ref, der, n_inputs=1,
                                   seed=3, low=0.5, high=3.0)


def test_provenance_ignores_a_conditional_binding_that_may_not_have_run():
    cells = ["x1 = torch.tensor(2.0, requires_grad=True)\ny1 = x1 ** 2\ny1.backward()\ngrad1 = x1.grad",
             "found = []\nif found:\n    grad1 = None"]
    assert gc.autograd_provenance(cells, ["grad1"]) == {"grad1": True}
    assert gc.autograd_provenance(["for _ in range(2):\n    grad1 = x1.grad.clone()"], ["grad1"]) == {"grad1": True}
    assert gc.autograd_provenance(["grad1 = x1.grad", "grad1 = torch.tensor(12.5)"], ["grad1"]) == {"grad1": False}
    assert gc.autograd_provenance(["y = 1"], ["grad1"]) == {"grad1": None}


@pytest.mark.parametrize("cells", [
    ["grads = []\nfor leaf in (x2, y2, z2):\n    grads.append(leaf.grad)\ngrad_x2, grad_y2, grad_z2 = grads"],
    ["grads = {}\nfor name, t in (('x', x2), ('y', y2), ('z', z2)):\n    grads[name] = t.grad.clone()\n"
     "grad_x2, grad_y2, grad_z2 = grads['x'], grads['y'], grads['z']"],
    ["grads = []", "for p in (x2, y2, z2):\n    grads.extend([p.grad])", "grad_x2, grad_y2, grad_z2 = grads"],
])
def test_provenance_follows_containers_filled_in_place(cells):
    assert gc.autograd_provenance(cells, ["grad_x2", "grad_y2", "grad_z2"]) == dict.fromkeys(["grad_x2", "grad_y2", "grad_z2"], True)


def test_provenance_of_a_container_of_typed_in_numbers_is_not_autograd():
    cells = ["grads = []\nfor v in (2.0, 12.0, -1.0):\n    grads.append(torch.tensor(v))\ngrad_x2, grad_y2, grad_z2 = grads"]
    assert gc.autograd_provenance(cells, ["grad_x2"]) == {"grad_x2": False}


def _lg_leaks_data(model, X, Y):  # right structure, autograd ran, but the "gradient" is the unseen data
    loss = torch.nn.MSELoss()(model(X), Y)
    w, b = torch.autograd.grad(loss, [model.weight, model.bias])
    return X[:1].reshape(w.shape[0], -1)[:, : w.shape[1]].clone() if X.shape[1] == w.shape[1] else w, b


def _f1_raises_its_input(x):
    if x.dim() == 0:
        raise ValueError(f"x was {x.item()!r}")
    return torch.log(x) + x ** 3


def test_hidden_messages_print_no_value_computed_from_unseen_points():
    """What the student's code returned or raised at unseen points never appears in a message:
    it would let a student solve for the points (or carry them out in an error's text)."""
    with pytest.raises(CheckFailed) as failure:
        gr.check_linear_grads_function(snap(_lg_leaks_data), "linear_grads", seed=1)
    assert "value" not in str(failure.value).replace("wrong value", ""), str(failure.value)
    assert not __import__("re").search(r"\d\.\d{3}", str(failure.value)), str(failure.value)
    ref = lambda x: torch.log(x) + x ** 3  # noqa: E731
    der = lambda x: (1 / x + 3 * x ** 2,)  # noqa: E731
    with pytest.raises(CheckFailed) as failure:
        gr.check_function_gradient(snap(_f1_raises_its_input), "f1", ref, der, n_inputs=1, seed=3, low=0.5, high=3.0)
    assert str(failure.value).startswith("`f1` raised ValueError when called on 1 float32 tensor(s) of shape () at points"), str(failure.value)
    assert "x was" not in str(failure.value)


def test_a_plain_tensor_whose_own_attributes_shadow_its_methods_is_refused():
    """Red team b21: ``t.__dict__["detach"]`` wins over ``torch.Tensor.detach``; the checks
    call torch's class-level functions and refuse such a tensor or parameter."""
    from autograder.shipped import gradkit_checks as gradchecks

    right = torch.tensor([1.0, 2.0])
    lying = torch.tensor([5.0, 6.0])
    vars(lying)["detach"] = lambda: right
    param = torch.nn.Parameter(torch.zeros(2))
    vars(param)["reshape"] = lambda *args, **kwargs: right
    for value in (lying, param):
        assert gradchecks.is_plain(value) is False
        with pytest.raises(TypeError):
            gradchecks.plain_floats(value)
        snap = gradchecks.snapshot(value)
        assert snap["plain"] is False and snap["values"] is None
        assert "own attributes replace its methods" in snap["describe"]
    assert gradchecks.is_plain(right) and gradchecks.plain_floats(right) == [1.0, 2.0]


def test_the_digest_walk_lists_exactly_ast_s_children_and_reads_as_ast_walk_does():
    """The provenance digest walks each cell's tree by hand (``_child_nodes``, for speed):
    every node of real code (this repository's Python files, as cells) gets
    ``ast.iter_child_nodes``'s children in the same order, less only the context and
    operator leaves, and ``_reads`` agrees with a plain ``ast.walk`` over the same value."""
    import ast
    from pathlib import Path

    def walk_reads(node):
        names = set()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Attribute) and sub.attr == "grad":
                return True, frozenset()
            if isinstance(sub, ast.Name):
                names.add(sub.id)
        return False, frozenset(names)

    leaves = (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)
    sources = sorted(Path(gc.__file__).resolve().parent.rglob("*.py"))  # the shipped modules
    assert len(sources) >= 4
    nodes = reads = 0
    for path in sources:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        kids: dict = {}
        for node in ast.walk(tree):
            assert gc._child_nodes(node, kids) == [c for c in ast.iter_child_nodes(node) if not isinstance(c, leaves)]
            nodes += 1
            if isinstance(node, (ast.stmt, ast.Call)):
                assert gc._reads(node, kids) == walk_reads(node)
                reads += 1
    assert nodes > 10_000 and reads > 1_000
