# sample: q2's gradients collected in a loop into a list, then unpacked; q1's read inside with torch.no_grad()
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# fails: none


# %% f1
def f1(x):
    return torch.log(x) + x ** 3

x1 = torch.tensor(2.0, requires_grad=True)
y1 = f1(x1)
y1.backward()
with torch.no_grad():
    grad1 = x1.grad.clone()

# %% f2
def f2(x, y, z):
    return x ** 2 + y ** 3 - z

x2 = torch.tensor(1.0, requires_grad=True)
y2 = torch.tensor(2.0, requires_grad=True)
z2 = torch.tensor(3.0, requires_grad=True)
w2 = f2(x2, y2, z2)
w2.backward()
grads = []
for leaf in (x2, y2, z2):
    grads.append(leaf.grad)
grad_x2, grad_y2, grad_z2 = grads
