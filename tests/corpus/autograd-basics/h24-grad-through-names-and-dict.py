# sample: gradients passed through other names: g = x1.grad; grad1 = g, and q2's gradients through a dict
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# fails: none

# %% f1
def f1(x):
    return torch.log(x) + x ** 3

x1 = torch.tensor(2.0, requires_grad=True)
y1 = f1(x1)
y1.backward()
g = x1.grad
grad1 = g

# %% f2
def f2(x, y, z):
    return x ** 2 + y ** 3 - z

x2 = torch.tensor(1.0, requires_grad=True)
y2 = torch.tensor(2.0, requires_grad=True)
z2 = torch.tensor(3.0, requires_grad=True)
w2 = f2(x2, y2, z2)
w2.backward()
grads = {name: t.grad for name, t in zip("xyz", (x2, y2, z2))}
grad_x2 = grads["x"]
grad_y2 = grads["y"]
grad_z2 = grads["z"]
