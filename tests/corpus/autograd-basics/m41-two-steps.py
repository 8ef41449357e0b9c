# sample: optimizer3.step() called twice with the same gradient
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=4
# fails: q3_sgd_step
# feedback: q3: `model3.weight`


# %% loss3
loss_fn3 = torch.nn.MSELoss()
loss3 = loss_fn3(model3(X3), Y3)
loss3.backward()
weight_grad3 = model3.weight.grad.clone()
bias_grad3 = model3.bias.grad.clone()
optimizer3 = torch.optim.SGD(model3.parameters(), lr=0.1)
optimizer3.step()
optimizer3.step()
