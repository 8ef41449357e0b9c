# sample: two mistakes in q3: forward and backward run twice (gradients 2x) and SGD with lr=0.01 (rubric example: 5 - 1.5 - 1 - 1)
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=1.5
# fails: q3_public q3_gradients q3_sgd_step
# structural: q3_sgd_step
# feedback: q3: `weight_grad3` is 2 times too large
# public-feedback: q3: `optimizer3` should use lr=0.1


# %% loss3
loss_fn3 = torch.nn.MSELoss()
loss3 = loss_fn3(model3(X3), Y3)
loss3.backward(retain_graph=True)
loss3.backward()
weight_grad3 = model3.weight.grad.clone()
bias_grad3 = model3.bias.grad.clone()
optimizer3 = torch.optim.SGD(model3.parameters(), lr=0.01)
optimizer3.step()
