# sample: optimizer3.step() and zero_grad() before the gradients were read: .grad is None
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=2.5
# fails: q3_public q3_gradients
# structural: q3_gradients
# public-feedback: q3: `weight_grad3` is None


# %% loss3
optimizer3 = torch.optim.SGD(model3.parameters(), lr=0.1)
loss_fn3 = torch.nn.MSELoss()
loss3 = loss_fn3(model3(X3), Y3)
loss3.backward()
optimizer3.step()
optimizer3.zero_grad()
weight_grad3 = model3.weight.grad.clone()
bias_grad3 = model3.bias.grad.clone()
