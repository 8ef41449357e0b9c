# sample: x1 as a one-element 1-d tensor [2.0], and x*x*x instead of x**3
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# fails: none


# %% f1
def f1(x):
    return torch.log(x) + x * x * x

x1 = torch.tensor([2.0], requires_grad=True)
y1 = f1(x1)
y1.backward()
grad1 = x1.grad
