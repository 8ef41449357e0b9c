# sample: linear_grads returns model.weight.grad itself and then zero_grad(set_to_none=False) empties it before the caller looks
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=3.5
# fails: q3_linear_grads
# feedback: q3: weight_grad on nn.Linear(3, 1) with 16 rows` has the wrong value


# %% linear_grads
def linear_grads(model, X, Y):
    model.zero_grad()
    torch.nn.MSELoss()(model(X), Y).backward()
    weight_grad, bias_grad = model.weight.grad, model.bias.grad
    model.zero_grad(set_to_none=False)
    return weight_grad, bias_grad
