# sample: f1 sums its result: right at x = 2, wrong for a tensor of several elements
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=0.5 q2=3 q3=5
# feedback: q1: an elementwise function returns the shape of its input


# %% f1
def f1(x):
    return (torch.log(x) + x ** 3).sum()

x1 = torch.tensor(2.0, requires_grad=True)
y1 = f1(x1)
y1.backward()
grad1 = x1.grad
