# sample: x1 without requires_grad: backward() raises, grad1 is undefined
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=1 q2=3 q3=5
# fails: q1_public q1_values
# structural: q1_values
# public-feedback: q1: `x1` does not require grad


# %% f1
def f1(x):
    return torch.log(x) + x ** 3

x1 = torch.tensor(2.0)
y1 = f1(x1)
y1.backward()
grad1 = x1.grad
