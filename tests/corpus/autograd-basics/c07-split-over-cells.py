# sample: every answer split over more cells than the template has
# expect: q1=2 q2=3 q3=5
# fails: none

# %% f1
import math  # imported, not used in f1

def f1(x):
    return torch.log(x) + x ** 3

# %% after f1
x1 = torch.tensor(2.0, requires_grad=True)
y1 = f1(x1)

# %% after f1
y1.backward()
grad1 = x1.grad
print(grad1)

# %% f2
def f2(x, y, z):
    return x ** 2 + y ** 3 - z

# %% after f2
x2 = torch.tensor(1.0, requires_grad=True)
y2 = torch.tensor(2.0, requires_grad=True)
z2 = torch.tensor(3.0, requires_grad=True)

# %% after f2
w2 = f2(x2, y2, z2)
w2.backward()
grad_x2, grad_y2, grad_z2 = x2.grad, y2.grad, z2.grad

# %% model3
model3 = torch.nn.Linear(3, 1)

# %% loss3
loss_fn3 = torch.nn.MSELoss()
loss3 = loss_fn3(model3(X3), Y3)

# %% after loss3
loss3.backward()
weight_grad3 = model3.weight.grad.clone()
bias_grad3 = model3.bias.grad.clone()

# %% after loss3
optimizer3 = torch.optim.SGD(model3.parameters(), lr=0.1)
optimizer3.step()

# %% linear_grads
def linear_grads(model, X, Y):
    loss = torch.nn.MSELoss()(model(X), Y)
    weight_grad, bias_grad = torch.autograd.grad(loss, [model.weight, model.bias])
    return weight_grad, bias_grad
