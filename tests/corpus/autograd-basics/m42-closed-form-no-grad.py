# sample: issue 11 case 5: linear_grads returns the right closed-form gradient computed under torch.no_grad() (no autograd)
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=2.5
# fails: q3_public q3_linear_grads
# structural: q3_linear_grads
# public-feedback: q3: autograd


# %% linear_grads
def linear_grads(model, X, Y):
    with torch.no_grad():
        r = model(X) - Y
        n = r.numel()
        return 2 * r.T @ X / n, 2 * r.sum(dim=0) / n
