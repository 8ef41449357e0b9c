# sample: SGD with lr=0.01
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=3
# fails: q3_public q3_sgd_step
# structural: q3_sgd_step
# public-feedback: q3: `optimizer3` should use lr=0.1
# feedback: q3: is not the result of one SGD step


# %% loss3
loss_fn3 = torch.nn.MSELoss()
loss3 = loss_fn3(model3(X3), Y3)
loss3.backward()
weight_grad3 = model3.weight.grad.clone()
bias_grad3 = model3.bias.grad.clone()
optimizer3 = torch.optim.SGD(model3.parameters(), lr=0.01)
optimizer3.step()
