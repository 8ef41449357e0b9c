# sample: .item() on the 3-element weight gradient raises; the rest of the cell never runs
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=1.5
# fails: q3_public q3_gradients q3_sgd_step
# structural: q3_gradients q3_sgd_step
# public-feedback: q3: `weight_grad3` is None (or not defined)
# feedback: q3: still has its initial value


# %% loss3
loss_fn3 = torch.nn.MSELoss()
loss3 = loss_fn3(model3(X3), Y3)
loss3.backward()
weight_grad3 = model3.weight.grad.item()
bias_grad3 = model3.bias.grad.clone()
optimizer3 = torch.optim.SGD(model3.parameters(), lr=0.1)
optimizer3.step()
