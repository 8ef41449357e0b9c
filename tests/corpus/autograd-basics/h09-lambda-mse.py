# sample: the mean squared error as a lambda, in loss3 and in linear_grads
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# fails: none


# %% loss3
loss_fn3 = lambda pred, target: ((pred - target) ** 2).mean()
loss3 = loss_fn3(model3(X3), Y3)
loss3.backward()
weight_grad3 = model3.weight.grad.clone()
bias_grad3 = model3.bias.grad.clone()
optimizer3 = torch.optim.SGD(model3.parameters(), lr=0.1)
optimizer3.step()

# %% linear_grads
mse = lambda a, b: torch.mean(torch.square(a - b))

def linear_grads(model, X, Y):
    return torch.autograd.grad(mse(model(X), Y), [model.weight, model.bias])
