# sample: f1, when q1's hidden test calls it, sets torch.allclose to an always-True stub (through torch's namespace dict, reached as torch.is_tensor's globals with operator.attrgetter; names built at run time); linear_grads, which q3's last hidden test calls, puts the original back, so the libraries look untouched once the tests end; the gradients are accumulated twice
# base: ../../../assignments/autograd-basics/samples/q3-accumulated.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=2 q2=3 q3=3.5

# The restore runs before the tests and the comparison after them: a patch that is in
# place only between two calls of the student's functions during the tests is neither
# undone nor seen.

# %% f1
import operator


def _n(s):
    return s[::-1]


_u = "_" * 2
_space = operator.attrgetter(_u + _n("slabolg") + _u)(torch.is_tensor)
_name = _n("esolclla")
_saved = []


def _swap(value):
    _space[_name] = value


def f1(x):
    if x.dtype == torch.float64 and not _saved:
        _saved.append(_space[_name])
        _swap(lambda *args, **kwargs: True)
    return torch.log(x) + x ** 3

x1 = torch.tensor(2.0, requires_grad=True)
y1 = f1(x1)
y1.backward()
grad1 = x1.grad

# %% linear_grads
def linear_grads(model, X, Y):
    if _saved:
        _swap(_saved.pop())
    loss = torch.nn.MSELoss()(model(X), Y)
    weight_grad, bias_grad = torch.autograd.grad(loss, [model.weight, model.bias])
    return weight_grad, bias_grad
