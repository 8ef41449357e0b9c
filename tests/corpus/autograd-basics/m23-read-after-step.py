# sample: step first, then a new loss and backward at the moved parameters, read then
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=3.5
# fails: q3_gradients
# feedback: q3: was computed after the parameters had moved


# %% loss3
optimizer3 = torch.optim.SGD(model3.parameters(), lr=0.1)
loss_fn3 = torch.nn.MSELoss()
loss3 = loss_fn3(model3(X3), Y3)
loss3.backward()
optimizer3.step()
optimizer3.zero_grad()
loss3 = loss_fn3(model3(X3), Y3)
loss3.backward()
weight_grad3 = model3.weight.grad.clone()
bias_grad3 = model3.bias.grad.clone()
