# sample: q3's gradients through dict(model3.named_parameters()) and torch.clone
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# fails: none

# %% loss3
loss_fn3 = torch.nn.MSELoss()
loss3 = loss_fn3(model3(X3), Y3)
loss3.backward()
params = dict(model3.named_parameters())
weight_grad3 = torch.clone(params["weight"].grad)
bias_grad3 = params["bias"].grad.detach().clone()
optimizer3 = torch.optim.SGD(model3.parameters(), lr=0.1)
optimizer3.step()
