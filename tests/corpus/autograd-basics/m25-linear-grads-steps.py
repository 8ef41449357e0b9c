# sample: linear_grads takes an optimizer step: it changes the model's parameters
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=2.5
# feedback: q3: changed the model's parameters


# %% linear_grads
def linear_grads(model, X, Y):
    model.zero_grad()
    loss = torch.nn.MSELoss()(model(X), Y)
    loss.backward()
    grads = model.weight.grad.clone(), model.bias.grad.clone()
    torch.optim.SGD(model.parameters(), lr=0.1).step()
    return grads
