# sample: the usual training-loop order (optimizer first, zero_grad before backward), and linear_grads with zero_grad + backward + clones
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# fails: none


# %% loss3
optimizer3 = torch.optim.SGD(model3.parameters(), lr=0.1)
loss_fn3 = torch.nn.MSELoss()
optimizer3.zero_grad()
loss3 = loss_fn3(model3(X3), Y3)
loss3.backward()
weight_grad3 = model3.weight.grad.clone()
bias_grad3 = model3.bias.grad.clone()
optimizer3.step()
optimizer3.zero_grad()

# %% linear_grads
def linear_grads(model, X, Y):
    model.zero_grad()
    loss = torch.nn.MSELoss()(model(X), Y)
    loss.backward()
    weight_grad, bias_grad = model.weight.grad.clone(), model.bias.grad.clone()
    model.zero_grad()
    return weight_grad, bias_grad
