# sample: nn.L1Loss instead of MSELoss in loss3 (gradients wrong, the step taken with them)
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=3.5
# fails: q3_gradients
# feedback: q3: `weight_grad3`


# %% loss3
loss_fn3 = torch.nn.L1Loss()
loss3 = loss_fn3(model3(X3), Y3)
loss3.backward()
weight_grad3 = model3.weight.grad.clone()
bias_grad3 = model3.bias.grad.clone()
optimizer3 = torch.optim.SGD(model3.parameters(), lr=0.1)
optimizer3.step()
