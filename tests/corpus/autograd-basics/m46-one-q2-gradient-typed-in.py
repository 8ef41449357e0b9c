# sample: w2.backward() runs, but grad_y2 is typed in as torch.tensor(12.0)
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=1 q3=5
# fails: q2_public q2_values
# structural: q2_values
# public-feedback: q2: `grad_y2`


# %% f2
def f2(x, y, z):
    return x ** 2 + y ** 3 - z

x2 = torch.tensor(1.0, requires_grad=True)
y2 = torch.tensor(2.0, requires_grad=True)
z2 = torch.tensor(3.0, requires_grad=True)
w2 = f2(x2, y2, z2)
w2.backward()
grad_x2 = x2.grad
grad_y2 = torch.tensor(12.0)
grad_z2 = z2.grad
