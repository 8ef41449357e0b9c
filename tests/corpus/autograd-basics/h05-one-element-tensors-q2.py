# sample: one-element 1-d leaf tensors in q1 and q2 (torch.tensor([2.0]) ...)
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# fails: none


# %% f1
def f1(x):
    return torch.log(x) + x ** 3

x1 = torch.tensor([2.0], requires_grad=True)
y1 = f1(x1)
y1.backward()
grad1 = x1.grad

# %% f2
def f2(x, y, z):
    return x ** 2 + y ** 3 - z

x2 = torch.tensor([1.0], requires_grad=True)
y2 = torch.tensor([2.0], requires_grad=True)
z2 = torch.tensor([3.0], requires_grad=True)
w2 = f2(x2, y2, z2)
w2.backward()
grad_x2 = x2.grad
grad_y2 = y2.grad
grad_z2 = z2.grad
