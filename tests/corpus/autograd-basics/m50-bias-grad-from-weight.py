# sample: bias_grad3 copied from model3.weight.grad by mistake (shape (1, 3))
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=2.5
# fails: q3_public q3_gradients
# structural: q3_gradients
# public-feedback: q3: `bias_grad3`


# %% loss3
loss_fn3 = torch.nn.MSELoss()
loss3 = loss_fn3(model3(X3), Y3)
loss3.backward()
weight_grad3 = model3.weight.grad.clone()
bias_grad3 = model3.weight.grad.clone()
optimizer3 = torch.optim.SGD(model3.parameters(), lr=0.1)
optimizer3.step()
