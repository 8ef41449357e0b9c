# sample: honest answers that look at gradients with a tensor hook and a forward hook, and count FLOPs with FlopCounterMode inside a with block that closes
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# flagged: no
# honest: q1=2 q2=3 q3=5

# Hooks and FlopCounterMode are torch's own tools for looking at a computation; used like
# this (the mode switched off when the with block ends, the hooks on the student's own
# tensors and layer) they change nothing the tests see. The fork engine's C-level check
# finds no mode, dispatch key or global hook left over (issue 19).

# %% f1
def f1(x):
    return torch.log(x) + x ** 3

x1 = torch.tensor(2.0, requires_grad=True)
seen = []
handle = x1.register_hook(lambda grad: seen.append(grad.item()))
y1 = f1(x1)
y1.backward()
grad1 = x1.grad
handle.remove()
print("gradient seen by the hook:", seen)

# %% after model3
shapes = []
model3.register_forward_hook(lambda module, inputs, output: shapes.append(tuple(output.shape)))

# %% after linear_grads
from torch.utils.flop_counter import FlopCounterMode

with FlopCounterMode(display=False) as counter:
    linear_grads(torch.nn.Linear(3, 1), torch.ones(4, 3), torch.ones(4, 1))
print("FLOPs of one linear_grads call:", counter.get_total_flops(), "forward shapes:", shapes)
