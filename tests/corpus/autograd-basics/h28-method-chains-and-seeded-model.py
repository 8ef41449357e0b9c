# sample: x.log().add(x.pow(3)), x1 = torch.as_tensor(2.0).requires_grad_(), model3 made after torch.manual_seed(1)
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# fails: none

# %% f1
def f1(x):
    return x.log().add(x.pow(3))

x1 = torch.as_tensor(2.0).requires_grad_()
y1 = f1(x1)
y1.backward()
grad1 = x1.grad

# %% model3
torch.manual_seed(1)
model3 = torch.nn.Linear(3, 1)
