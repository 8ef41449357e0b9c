# sample: linear_grads with MSELoss(reduction="sum") (autograd, right shapes, wrong scale)
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=3.5
# fails: q3_linear_grads
# feedback: q3: it looks like the gradient of the summed squared error


# %% linear_grads
def linear_grads(model, X, Y):
    loss = torch.nn.MSELoss(reduction="sum")(model(X), Y)
    weight_grad, bias_grad = torch.autograd.grad(loss, [model.weight, model.bias])
    return weight_grad, bias_grad
