# sample: the three gradients of q2 typed in, no backward pass
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=1 q3=5
# public-feedback: q2: `grad_x2` was not read from x2.grad


# %% f2
def f2(x, y, z):
    return x ** 2 + y ** 3 - z

x2 = torch.tensor(1.0, requires_grad=True)
y2 = torch.tensor(2.0, requires_grad=True)
z2 = torch.tensor(3.0, requires_grad=True)
w2 = f2(x2, y2, z2)
grad_x2 = torch.tensor(2.0)
grad_y2 = torch.tensor(12.0)
grad_z2 = torch.tensor(-1.0)
