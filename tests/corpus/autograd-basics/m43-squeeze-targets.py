# sample: issue 11 case 8: linear_grads uses MSELoss()(model(X), Y.squeeze()): (N, 1) against (N,) broadcasts to (N, N)
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=3.5
# fails: q3_linear_grads
# feedback: q3: broadcast


# %% linear_grads
def linear_grads(model, X, Y):
    loss = torch.nn.MSELoss()(model(X), Y.squeeze())
    weight_grad, bias_grad = torch.autograd.grad(loss, [model.weight, model.bias])
    return weight_grad, bias_grad
