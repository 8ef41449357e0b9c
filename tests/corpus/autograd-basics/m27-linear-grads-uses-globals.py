# sample: linear_grads ignores its arguments and uses X3, Y3
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=2.5
# feedback: q3: `linear_grads` raised RuntimeError


# %% linear_grads
def linear_grads(model, X, Y):
    loss = torch.nn.MSELoss()(model(X3), Y3)
    return torch.autograd.grad(loss, [model.weight, model.bias])
