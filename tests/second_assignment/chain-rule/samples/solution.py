# sample: the full solution
# expect: q1=2 q2=1

# %% h
def h(x):
    return torch.sin(x) * x ** 2

x1 = torch.tensor(1.0, requires_grad=True)
y1 = h(x1)
y1.backward()
dh1 = x1.grad

# %% x2
x2 = torch.tensor(2.0, requires_grad=True)
(first,) = torch.autograd.grad(x2 ** 3, x2, create_graph=True)
(d2,) = torch.autograd.grad(first, x2)
