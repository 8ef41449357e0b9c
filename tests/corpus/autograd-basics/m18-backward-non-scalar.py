# sample: backward() on the unreduced squared errors (16 x 1): raises, nothing after it runs
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=1.5
# fails: q3_public q3_gradients q3_sgd_step
# structural: q3_gradients q3_sgd_step
# public-feedback: q3: `loss3` should be a single number


# %% loss3
loss_fn3 = torch.nn.MSELoss()
loss3 = (model3(X3) - Y3) ** 2
loss3.backward()
weight_grad3 = model3.weight.grad.clone()
bias_grad3 = model3.bias.grad.clone()
optimizer3 = torch.optim.SGD(model3.parameters(), lr=0.1)
optimizer3.step()
