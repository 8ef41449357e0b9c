# sample: linear_grads never zeroes .grad: a second call returns twice the gradients
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=2.5
# feedback: q3: a second time on the same model returns 2 times


# %% linear_grads
def linear_grads(model, X, Y):
    loss = torch.nn.MSELoss()(model(X), Y)
    loss.backward()
    return model.weight.grad.clone(), model.bias.grad.clone()
