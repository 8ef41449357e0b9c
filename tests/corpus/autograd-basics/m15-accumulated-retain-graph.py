# sample: y1.backward(retain_graph=True) twice: grad1 is twice the gradient
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=1.5 q2=3 q3=5
# fails: q1_values
# feedback: q1: `grad1` is 2 times too large


# %% f1
def f1(x):
    return torch.log(x) + x ** 3

x1 = torch.tensor(2.0, requires_grad=True)
y1 = f1(x1)
y1.backward(retain_graph=True)
y1.backward()
grad1 = x1.grad
