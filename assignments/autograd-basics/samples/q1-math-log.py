# sample: f1 uses math.log, so autograd misses the derivative of ln x
# base: solution.py
# expect: q1=0 q2=3 q3=5
# feedback: q1: `grad1` has the wrong value
# feedback: q1: math or NumPy functions


# %% f1
import math

def f1(x):
    return math.log(x) + x ** 3

x1 = torch.tensor(2.0, requires_grad=True)
y1 = f1(x1)
y1.backward()
grad1 = x1.grad
