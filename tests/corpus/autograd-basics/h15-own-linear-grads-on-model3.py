# sample: after the answers, the student calls linear_grads on model3 and compares with a fresh backward pass
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# fails: none


# %% after linear_grads
w_check, b_check = linear_grads(model3, X3, Y3)
model3.zero_grad()
loss_fn3(model3(X3), Y3).backward()
print(torch.allclose(w_check, model3.weight.grad), torch.allclose(b_check, model3.bias.grad))
print("before the step:", weight_grad3, bias_grad3)
