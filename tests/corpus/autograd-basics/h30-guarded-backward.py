# sample: the backward pass and the reads guarded by an if (the cell can be re-run without accumulating)
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# fails: none


# %% f1
def f1(x):
    return torch.log(x) + x ** 3

x1 = torch.tensor(2.0, requires_grad=True)
y1 = f1(x1)
if x1.grad is None:
    y1.backward()
    grad1 = x1.grad

# %% loss3
loss_fn3 = torch.nn.MSELoss()
loss3 = loss_fn3(model3(X3), Y3)
model3.zero_grad()
loss3.backward()
try:
    weight_grad3 = model3.weight.grad.clone()
    bias_grad3 = model3.bias.grad.clone()
except AttributeError:
    print("run the backward pass first")
optimizer3 = torch.optim.SGD(model3.parameters(), lr=0.1)
optimizer3.step()
