# sample: w2 computed inline with + z instead of - z (f2 itself is right)
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=2 q3=5
# fails: q2_values
# feedback: q2: `w2` has the wrong value


# %% f2
def f2(x, y, z):
    return x ** 2 + y ** 3 - z

x2 = torch.tensor(1.0, requires_grad=True)
y2 = torch.tensor(2.0, requires_grad=True)
z2 = torch.tensor(3.0, requires_grad=True)
w2 = x2 ** 2 + y2 ** 3 + z2
w2.backward()
grad_x2 = x2.grad
grad_y2 = y2.grad
grad_z2 = z2.grad
