# sample: x1 created from the integer 2: requires_grad=True raises, so x1, y1, grad1 are never defined
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=1 q2=3 q3=5
# fails: q1_public q1_values
# structural: q1_values
# public-feedback: q1: `x1` is not defined


# %% f1
def f1(x):
    return torch.log(x) + x ** 3

x1 = torch.tensor(2, requires_grad=True)
y1 = f1(x1)
y1.backward()
grad1 = x1.grad
