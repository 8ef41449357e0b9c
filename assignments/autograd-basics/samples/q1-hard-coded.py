# sample: grad1 typed in from a hand derivation, no backward pass
# base: solution.py
# expect: q1=1 q2=3 q3=5
# feedback: q1: `grad1` was not read from x1.grad


# %% f1
def f1(x):
    return torch.log(x) + x ** 3

x1 = torch.tensor(2.0, requires_grad=True)
y1 = f1(x1)
grad1 = torch.tensor(12.5)  # 1/x + 3x^2 at x = 2
