# sample: weight_grad3 = model3.weight.grad without a clone (aliases .grad), then a later cell zeroes .grad in place
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# fails: none


# %% loss3
loss_fn3 = torch.nn.MSELoss()
loss3 = loss_fn3(model3(X3), Y3)
loss3.backward()
weight_grad3 = model3.weight.grad
bias_grad3 = model3.bias.grad
optimizer3 = torch.optim.SGD(model3.parameters(), lr=0.1)
optimizer3.step()

# %% after linear_grads
optimizer3.zero_grad(set_to_none=False)
print(weight_grad3)
