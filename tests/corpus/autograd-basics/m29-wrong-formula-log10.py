# sample: f1 uses log10 instead of the natural log
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=0.5 q2=3 q3=5
# fails: q1_values q1_unseen_points
# feedback: q1: `y1` has the wrong value
# feedback: q1: `f1` returns wrong values at points it had not seen before


# %% f1
def f1(x):
    return torch.log10(x) + x ** 3

x1 = torch.tensor(2.0, requires_grad=True)
y1 = f1(x1)
y1.backward()
grad1 = x1.grad
