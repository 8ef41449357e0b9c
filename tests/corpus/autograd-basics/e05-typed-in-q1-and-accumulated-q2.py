# sample: one mistake in q1 (grad1 typed in after backward) and one in q2 (gradients accumulated 3x): each costs its own checks
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=1 q2=2 q3=5
# fails: q1_public q1_values q2_values
# structural: q1_values
# feedback: q2: `grad_x2` is 3 times too large


# %% f1
def f1(x):
    return torch.log(x) + x ** 3

x1 = torch.tensor(2.0, requires_grad=True)
y1 = f1(x1)
y1.backward()
grad1 = torch.tensor(12.5)

# %% f2
def f2(x, y, z):
    return x ** 2 + y ** 3 - z

x2 = torch.tensor(1.0, requires_grad=True)
y2 = torch.tensor(2.0, requires_grad=True)
z2 = torch.tensor(3.0, requires_grad=True)
for _ in range(3):
    w2 = f2(x2, y2, z2)
    w2.backward()
grad_x2 = x2.grad
grad_y2 = y2.grad
grad_z2 = z2.grad
