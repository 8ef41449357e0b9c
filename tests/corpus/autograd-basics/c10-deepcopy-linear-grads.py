# sample: linear_grads on a deep copy of the model, and a model with an explicit float32 dtype
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# fails: none


# %% model3
model3 = torch.nn.Linear(in_features=3, out_features=1, bias=True, dtype=torch.float32)

# %% linear_grads
import copy

def linear_grads(model, X, Y):
    m = copy.deepcopy(model)
    m.zero_grad()
    torch.nn.MSELoss()(m(X), Y).backward()
    return m.weight.grad, m.bias.grad
