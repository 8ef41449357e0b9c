# sample: after the answers, the student tries linear_grads on new data bound to X3, Y3 and re-runs the whole q3 recipe on it
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# fails: none


# %% after linear_grads
X3 = torch.randn(100, 3)
Y3 = X3 @ torch.tensor([[1.0], [1.0], [1.0]])
print(linear_grads(model3, X3, Y3))
initial_weight3 = model3.weight.detach().clone()
loss3b = loss_fn3(model3(X3), Y3)
loss3b.backward()
optimizer3.step()
