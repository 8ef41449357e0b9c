# sample: q3 with torch.autograd.grad (model3's .grad stays None) and a manual step from the answers
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# fails: none


# %% loss3
loss_fn3 = torch.nn.MSELoss()
loss3 = loss_fn3(model3(X3), Y3)
weight_grad3, bias_grad3 = torch.autograd.grad(loss3, [model3.weight, model3.bias])
optimizer3 = torch.optim.SGD(model3.parameters(), lr=0.1)
with torch.no_grad():
    model3.weight -= optimizer3.param_groups[0]["lr"] * weight_grad3
    model3.bias.sub_(0.1 * bias_grad3)
