# sample: backward() on the unreduced squared errors (16 x 1): raises, nothing after it runs
# expect: q1=2 q2=3 q3=1.5
# public-feedback: q3: `loss3` should be a single number

# %% f1
def f1(x):
    return torch.log(x) + x ** 3

x1 = torch.tensor(2.0, requires_grad=True)
y1 = f1(x1)
y1.backward()
grad1 = x1.grad

# %% f2
def f2(x, y, z):
    return x ** 2 + y ** 3 - z

x2 = torch.tensor(1.0, requires_grad=True)
y2 = torch.tensor(2.0, requires_grad=True)
z2 = torch.tensor(3.0, requires_grad=True)
w2 = f2(x2, y2, z2)
w2.backward()
grad_x2 = x2.grad
grad_y2 = y2.grad
grad_z2 = z2.grad

# %% model3
model3 = torch.nn.Linear(3, 1)

# %% loss3
loss_fn3 = torch.nn.MSELoss()
loss3 = (model3(X3) - Y3) ** 2
loss3.backward()
weight_grad3 = model3.weight.grad.clone()
bias_grad3 = model3.bias.grad.clone()
optimizer3 = torch.optim.SGD(model3.parameters(), lr=0.1)
optimizer3.step()

# %% linear_grads
def linear_grads(model, X, Y):
    loss = torch.nn.MSELoss()(model(X), Y)
    weight_grad, bias_grad = torch.autograd.grad(loss, [model.weight, model.bias])
    return weight_grad, bias_grad
