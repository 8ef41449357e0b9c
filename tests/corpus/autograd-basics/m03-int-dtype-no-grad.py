# sample: x1 an integer tensor that does not require grad; backward() then raises
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=1 q2=3 q3=5
# fails: q1_public q1_values
# structural: q1_values
# public-feedback: q1: `x1` has the integer dtype torch.int64


# %% f1
def f1(x):
    return torch.log(x) + x ** 3

x1 = torch.tensor(2)
y1 = f1(x1)
y1.backward()
grad1 = x1.grad
