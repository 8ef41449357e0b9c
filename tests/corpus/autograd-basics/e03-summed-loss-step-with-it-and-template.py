# sample: two mistakes in q3: a summed loss (gradients 16x, the step taken with them: right for them) and linear_grads left as the template
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=1
# fails: q3_public q3_gradients q3_linear_grads
# structural: q3_linear_grads
# feedback: q3: summed squared error


# %% loss3
loss_fn3 = torch.nn.MSELoss(reduction="sum")
loss3 = loss_fn3(model3(X3), Y3)
loss3.backward()
weight_grad3 = model3.weight.grad.clone()
bias_grad3 = model3.bias.grad.clone()
optimizer3 = torch.optim.SGD(model3.parameters(), lr=0.1)
optimizer3.step()

# %% linear_grads
def linear_grads(model, X, Y):
    # return (weight_grad, bias_grad) of the MSE loss; leave the parameters unchanged
    ...
