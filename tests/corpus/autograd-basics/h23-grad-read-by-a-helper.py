# sample: grad1 read from x1.grad by a helper function grad_of(x1) that clones it
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# fails: none

# %% f1
def f1(x):
    return torch.log(x) + x ** 3

def grad_of(t):
    return t.grad.detach().clone()

x1 = torch.tensor(2.0, requires_grad=True)
y1 = f1(x1)
y1.backward()
grad1 = grad_of(x1)
