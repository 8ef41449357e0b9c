# sample: f1 takes math.log of x.item(): the ln x part leaves the graph
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=0 q2=3 q3=5
# feedback: q1: `grad1` has the wrong value
# feedback: q1: leaves the autograd graph


# %% f1
import math

def f1(x):
    return torch.tensor(math.log(x.item())) + x ** 3

x1 = torch.tensor(2.0, requires_grad=True)
y1 = f1(x1)
y1.backward()
grad1 = x1.grad
