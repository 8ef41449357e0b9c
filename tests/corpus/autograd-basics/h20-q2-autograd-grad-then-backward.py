# sample: q2 answers from torch.autograd.grad(retain_graph=True), then w2.backward() as well to look at .grad
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# fails: none


# %% f2
def f2(x, y, z):
    return x ** 2 + y ** 3 - z

x2, y2, z2 = [torch.tensor(v, requires_grad=True) for v in [1.0, 2.0, 3.0]]
w2 = f2(x2, y2, z2)
grads = torch.autograd.grad(w2, [x2, y2, z2], retain_graph=True)
grad_x2, grad_y2, grad_z2 = grads
w2.backward()
print(x2.grad, y2.grad, z2.grad)
