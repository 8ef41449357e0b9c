# sample: optimizer3 created, but the SGD step taken by hand: with torch.no_grad(): p -= lr * p.grad
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# fails: none


# %% loss3
loss_fn3 = torch.nn.MSELoss()
loss3 = loss_fn3(model3(X3), Y3)
loss3.backward()
weight_grad3 = model3.weight.grad.clone()
bias_grad3 = model3.bias.grad.clone()
optimizer3 = torch.optim.SGD(model3.parameters(), lr=0.1)
with torch.no_grad():
    for p in model3.parameters():
        p -= 0.1 * p.grad
