# sample: clean-up in the answer cell after the step: optimizer3.zero_grad(), del of a temporary; linear_grads deletes its loss
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# fails: none


# %% loss3
loss_fn3 = torch.nn.MSELoss()
pred3 = model3(X3)
loss3 = loss_fn3(pred3, Y3)
loss3.backward()
weight_grad3 = model3.weight.grad.clone()
bias_grad3 = model3.bias.grad.clone()
optimizer3 = torch.optim.SGD(model3.parameters(), lr=0.1)
optimizer3.step()
optimizer3.zero_grad()
del pred3

# %% linear_grads
def linear_grads(model, X, Y):
    model.zero_grad()
    loss = torch.nn.MSELoss()(model(X), Y)
    loss.backward()
    del loss
    weight_grad, bias_grad = model.weight.grad.detach().clone(), model.bias.grad.detach().clone()
    model.zero_grad()
    return weight_grad, bias_grad
