# sample: h uses math.sin, so autograd sees sin(1) as a constant: the structure is right, the value wrong
# base: solution.py
# expect: q1=1 q2=1
# feedback: q1: dh1 has the wrong value

# %% h
import math

def h(x):
    return math.sin(x) * x ** 2

x1 = torch.tensor(1.0, requires_grad=True)
y1 = h(x1)
y1.backward()
dh1 = x1.grad
