# sample: grad1 from a helper that runs its own backward pass on a fresh leaf at 2.0 and returns its .grad
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# fails: none

# %% f1
def f1(x):
    return torch.log(x) + x ** 3

def derivative(f, at):
    x = torch.tensor(at, requires_grad=True)
    f(x).backward()
    return x, x.grad

x1 = torch.tensor(2.0, requires_grad=True)
y1 = f1(x1)
y1.backward()
_, grad1 = derivative(f1, 2.0)
