# sample: linear_grads returns a hand formula, with the summed error
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=2.5
# feedback: q3: summed squared error


# %% linear_grads
def linear_grads(model, X, Y):
    r = (model(X) - Y).detach()
    return 2 * r.T @ X, 2 * r.sum(dim=0)
