# sample: q3's gradients appended to a list in a loop over model3.parameters(), then unpacked
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# fails: none

# %% loss3
loss_fn3 = torch.nn.MSELoss()
loss3 = loss_fn3(model3(X3), Y3)
loss3.backward()
grads3 = []
for p in model3.parameters():
    grads3.append(p.grad.clone())
weight_grad3, bias_grad3 = grads3
optimizer3 = torch.optim.SGD(model3.parameters(), lr=0.1)
optimizer3.step()
