# sample: backward() called twice, so the gradients are accumulated (twice the right ones)
# base: solution.py
# expect: q1=2 q2=3 q3=3.5
# feedback: q3: `weight_grad3` is 2 times too large


# %% loss3
loss_fn3 = torch.nn.MSELoss()
loss3 = loss_fn3(model3(X3), Y3)
loss3.backward(retain_graph=True)
loss3.backward()
weight_grad3 = model3.weight.grad.clone()
bias_grad3 = model3.bias.grad.clone()
optimizer3 = torch.optim.SGD(model3.parameters(), lr=0.1)
optimizer3.step()
