# sample: grad1 = 12.5 typed in as a Python float after a real backward pass
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=1 q2=3 q3=5
# fails: q1_public q1_values
# structural: q1_values
# feedback: q1: `grad1`


# %% f1
def f1(x):
    return torch.log(x) + x ** 3

x1 = torch.tensor(2.0, requires_grad=True)
y1 = f1(x1)
y1.backward()
grad1 = 12.5
