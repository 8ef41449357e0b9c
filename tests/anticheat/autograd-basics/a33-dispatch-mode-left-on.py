# sample: every answer wrong, and a FlopCounterMode subclass whose _count_flops answers True for aten.allclose, entered through a suspended generator and left switched on; the dispatch-mode flags and RemovableHandle.next_id put back through aliases
# base: ../../../assignments/autograd-basics/samples/untouched.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=0.5 q2=1 q3=1

# FlopCounterMode is public and honest to use (a30-style notebooks time their models with
# it); the attack is leaving a subclass of it switched on. Its __torch_dispatch__ sees every
# aten op the tests run, and the subclass turns aten.allclose into True, so every value
# comparison of the check library passes. The mode stack lives in C: no Python attribute
# changes, except torch.utils._python_dispatch's three "in a dispatch mode" flags (put back
# by leaving a second mode whose saved flags were rewritten) and RemovableHandle.next_id
# (the module tracker's hooks; put back through type() of a handle). Every answer below is
# wrong; against the fork engine before issue 19 this earned 10/10, status Completed.

# %% f1
def f1(x):
    return x ** 2

x1 = torch.tensor(2.0, requires_grad=True)
y1 = f1(x1)
y1.backward()
grad1 = x1.grad

# %% f2
def f2(x, y, z):
    return x * y * z

x2 = torch.tensor(1.0, requires_grad=True)
y2 = torch.tensor(2.0, requires_grad=True)
z2 = torch.tensor(3.0, requires_grad=True)
w2 = f2(x2, y2, z2)
w2.backward()
grad_x2 = x2.grad
grad_y2 = y2.grad
grad_z2 = z2.grad

# %% model3
model3 = torch.nn.Linear(3, 1)

# %% loss3
loss3 = (model3(X3) - Y3).abs().sum()
loss3.backward()
weight_grad3 = model3.weight.grad.clone()
bias_grad3 = model3.bias.grad.clone()
optimizer3 = torch.optim.SGD(model3.parameters(), lr=0.1)

# %% linear_grads
def linear_grads(model, X, Y):
    return torch.zeros_like(model.weight), torch.zeros_like(model.bias)

# %% after linear_grads
from torch.utils.flop_counter import FlopCounterMode

_probe = torch.zeros(1, requires_grad=True).register_hook(lambda g: g)
_Handle = type(_probe)


class Lenient(FlopCounterMode):
    def _count_flops(self, func_packet, out, args, kwargs):
        if str(func_packet) == "aten.allclose":
            return True
        return out


def hold(ctx):
    with ctx:
        yield


kept = hold(Lenient(display=False))
next(kept)
# leave a second mode whose saved flags say "no mode was on": its exit puts them back to False
second = FlopCounterMode(display=False)
with second:
    flags = second.mode.old_dispatch_mode_flags, second.mode.old_non_infra_dispatch_mode_flags, second.mode.old_without_ignore_compile_internals_dispatch_mode_flags
    for saved in flags:
        saved[-1] = False
_Handle.next_id = _probe.id  # the value before this cell's first hook
