# sample: grad1 computed by hand from x1 (a formula with a grad_fn), although backward() ran
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=1 q2=3 q3=5
# public-feedback: q1: `grad1` was not read from x1.grad


# %% f1
def f1(x):
    return torch.log(x) + x ** 3

x1 = torch.tensor(2.0, requires_grad=True)
y1 = f1(x1)
y1.backward()
grad1 = 1 / x1 + 3 * x1 ** 2
