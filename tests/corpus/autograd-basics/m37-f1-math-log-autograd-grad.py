# sample: issue 11 case 4: f1 written with math.log (works on a 0-d tensor, cuts ln x from the graph), grad1 from torch.autograd.grad
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=0 q2=3 q3=5
# fails: q1_public q1_values q1_unseen_points
# structural: q1_values q1_unseen_points
# public-feedback: q1: `f1`
# feedback: q1: `grad1`


# %% f1
import math

def f1(x):
    return math.log(x) + x ** 3

x1 = torch.tensor(2.0, requires_grad=True)
y1 = f1(x1)
(grad1,) = torch.autograd.grad(y1, x1)
