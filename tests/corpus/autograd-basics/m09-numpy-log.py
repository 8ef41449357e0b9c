# sample: f1 uses NumPy's log on a detached array: the ln x part leaves the graph
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=0 q2=3 q3=5
# feedback: q1: `f1` returns the right values but autograd's gradient through it


# %% f1
import numpy as np

def f1(x):
    return x ** 3 + torch.as_tensor(np.log(x.detach().numpy()))

x1 = torch.tensor(2.0, requires_grad=True)
y1 = f1(x1)
y1.backward()
grad1 = x1.grad
