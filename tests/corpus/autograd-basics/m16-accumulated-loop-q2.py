# sample: the forward and backward pass of q2 run three times in a loop: three times the gradients
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=2 q3=5
# fails: q2_values
# feedback: q2: `grad_x2` is 3 times too large


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
