# sample: * 1.0 after requires_grad=True: x1 is not a leaf
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=1 q2=3 q3=5
# fails: q1_public q1_values
# structural: q1_values
# public-feedback: q1: `x1` is not a leaf tensor (it has grad_fn=MulBackward0)


# %% f1
def f1(x):
    return torch.log(x) + x ** 3

x1 = torch.tensor(2.0, requires_grad=True) * 1.0
y1 = f1(x1)
y1.backward()
grad1 = x1.grad
