# sample: float64 made before requires_grad_() (still leaves), one-element float64 x1 in autograd.grad
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# fails: none


# %% f1
def f1(x):
    return torch.log(x) + torch.pow(x, 3)

x1 = torch.tensor(2).double().requires_grad_()
y1 = f1(x1)
y1.backward()
grad1 = x1.grad.detach().clone()

# %% f2
def f2(x, y, z):
    return x * x + y * y * y - z

x2 = torch.ones((), dtype=torch.float64).requires_grad_(True)
y2 = torch.full((), 2.0, dtype=torch.float64, requires_grad=True)
z2 = torch.tensor(3, dtype=torch.float64, requires_grad=True)
w2 = f2(x2, y2, z2)
w2.backward()
grad_x2, grad_y2, grad_z2 = (t.grad for t in (x2, y2, z2))
