# sample: two mistakes in q3: gradients 2x and a manual step with p.grad (right for the student's gradient) but lr 0.01 typed in by hand
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=2.5
# fails: q3_gradients q3_sgd_step
# feedback: q3: `weight_grad3` is 2 times too large


# %% loss3
loss_fn3 = torch.nn.MSELoss()
loss3 = loss_fn3(model3(X3), Y3)
loss3.backward(retain_graph=True)
loss3.backward()
weight_grad3 = model3.weight.grad.clone()
bias_grad3 = model3.bias.grad.clone()
optimizer3 = torch.optim.SGD(model3.parameters(), lr=0.1)
with torch.no_grad():
    for p in model3.parameters():
        p -= 0.01 * p.grad
