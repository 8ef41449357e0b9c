# sample: torch.autograd.grad(..., create_graph=True): every gradient answer has a grad_fn
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# fails: none


# %% f1
def f1(x):
    return torch.log(x) + x ** 3

x1 = torch.tensor(2.0, requires_grad=True)
y1 = f1(x1)
(grad1,) = torch.autograd.grad(y1, x1, create_graph=True)

# %% f2
def f2(x, y, z):
    return x ** 2 + y ** 3 - z

x2 = torch.tensor(1.0, requires_grad=True)
y2 = torch.tensor(2.0, requires_grad=True)
z2 = torch.tensor(3.0, requires_grad=True)
w2 = f2(x2, y2, z2)
grad_x2, grad_y2, grad_z2 = torch.autograd.grad(w2, (x2, y2, z2), create_graph=True)

# %% linear_grads
def linear_grads(model, X, Y):
    loss = torch.nn.MSELoss()(model(X), Y)
    weight_grad, bias_grad = torch.autograd.grad(loss, [model.weight, model.bias], create_graph=True)
    return weight_grad, bias_grad
