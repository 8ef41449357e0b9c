# sample: q2's gradients stored in a dict filled in a loop (grads[name] = t.grad), then read from it
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# fails: none

# %% f2
def f2(x, y, z):
    return x ** 2 + y ** 3 - z

x2 = torch.tensor(1.0, requires_grad=True)
y2 = torch.tensor(2.0, requires_grad=True)
z2 = torch.tensor(3.0, requires_grad=True)
w2 = f2(x2, y2, z2)
w2.backward()
grads = {}
for name, t in zip(('x', 'y', 'z'), (x2, y2, z2)):
    grads[name] = t.grad
grad_x2 = grads['x']
grad_y2 = grads['y']
grad_z2 = grads['z']
