# sample: two mistakes in q3: gradients accumulated 2x (the step is right for them) and linear_grads with a summed loss (rubric example: q3 = 2)
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=2
# fails: q3_gradients q3_linear_grads
# feedback: q3: `weight_grad3` is 2 times too large


# %% loss3
loss_fn3 = torch.nn.MSELoss()
loss3 = loss_fn3(model3(X3), Y3)
loss3.backward(retain_graph=True)
loss3.backward()
weight_grad3 = model3.weight.grad.clone()
bias_grad3 = model3.bias.grad.clone()
optimizer3 = torch.optim.SGD(model3.parameters(), lr=0.1)
optimizer3.step()

# %% linear_grads
def linear_grads(model, X, Y):
    loss = ((model(X) - Y) ** 2).sum()
    return torch.autograd.grad(loss, [model.weight, model.bias])
