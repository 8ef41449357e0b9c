# sample: two mistakes in q1: log10 in f1 and y1.backward twice: q1_values fails once, f1 at unseen points fails
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=0.5 q2=3 q3=5
# fails: q1_values q1_unseen_points
# feedback: q1: `y1` has the wrong value


# %% f1
def f1(x):
    return torch.log10(x) + x ** 3

x1 = torch.tensor(2.0, requires_grad=True)
y1 = f1(x1)
y1.backward(retain_graph=True)
y1.backward()
grad1 = x1.grad
