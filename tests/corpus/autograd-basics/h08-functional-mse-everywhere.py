# sample: import torch.nn.functional as F; F.mse_loss in loss3 (loss_fn3 = F.mse_loss) and in linear_grads
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# fails: none


# %% loss3
import torch.nn.functional as F

loss_fn3 = F.mse_loss
loss3 = loss_fn3(model3(X3), Y3)
loss3.backward()
weight_grad3 = model3.weight.grad.clone()
bias_grad3 = model3.bias.grad.clone()
optimizer3 = torch.optim.SGD(model3.parameters(), lr=0.1)
optimizer3.step()

# %% linear_grads
def linear_grads(model, X, Y):
    loss = F.mse_loss(model(X), Y)
    loss.backward()
    grads = (model.weight.grad.clone(), model.bias.grad.clone())
    model.weight.grad = None
    model.bias.grad = None
    return grads
