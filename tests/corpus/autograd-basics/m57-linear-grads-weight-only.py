# sample: linear_grads returns only the weight gradient, not the pair
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=2.5
# fails: q3_public q3_linear_grads
# structural: q3_linear_grads
# public-feedback: q3: `linear_grads`


# %% linear_grads
def linear_grads(model, X, Y):
    loss = torch.nn.MSELoss()(model(X), Y)
    return torch.autograd.grad(loss, model.weight)[0]
