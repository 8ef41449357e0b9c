# sample: a hand-written ((pred - Y) ** 2).mean() in loss3 and in linear_grads
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# fails: none


# %% loss3
loss_fn3 = torch.nn.MSELoss()
pred3 = model3(X3)
loss3 = ((pred3 - Y3) ** 2).mean()
loss3.backward()
weight_grad3 = model3.weight.grad.clone()
bias_grad3 = model3.bias.grad.clone()
optimizer3 = torch.optim.SGD(model3.parameters(), lr=0.1)
optimizer3.step()

# %% linear_grads
def linear_grads(model, X, Y):
    loss = ((model(X) - Y) ** 2).mean()
    weight_grad, bias_grad = torch.autograd.grad(loss, [model.weight, model.bias])
    return weight_grad, bias_grad
