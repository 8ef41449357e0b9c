# sample: issue 11 case 4: f1 left as the template while y1 is computed inline (y1 and grad1 right)
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=0.5 q2=3 q3=5
# fails: q1_public q1_unseen_points
# structural: q1_unseen_points
# public-feedback: q1: `f1`


# %% f1
def f1(x):
    # ln x + x^3 with torch operations
    ...

x1 = torch.tensor(2.0, requires_grad=True)
y1 = torch.log(x1) + x1 ** 3
y1.backward()
grad1 = x1.grad
