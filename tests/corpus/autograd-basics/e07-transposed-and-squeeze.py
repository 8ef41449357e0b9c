# sample: two mistakes in q3: weight_grad3 transposed (structural) and linear_grads with Y.squeeze() (broadcasts): 5 - 1 - 1.5 - 1.5
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=1
# fails: q3_public q3_gradients q3_linear_grads
# structural: q3_gradients
# public-feedback: q3: it is transposed
# feedback: q3: broadcast


# %% loss3
loss_fn3 = torch.nn.MSELoss()
loss3 = loss_fn3(model3(X3), Y3)
loss3.backward()
weight_grad3 = model3.weight.grad.t().clone()
bias_grad3 = model3.bias.grad.clone()
optimizer3 = torch.optim.SGD(model3.parameters(), lr=0.1)
optimizer3.step()

# %% linear_grads
def linear_grads(model, X, Y):
    loss = torch.nn.MSELoss()(model(X), Y.squeeze())
    return torch.autograd.grad(loss, [model.weight, model.bias])
