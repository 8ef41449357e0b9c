# sample: after the answers every gradient is reset in place (x1.grad.zero_() also zeroes grad1 = x1.grad, which aliases it)
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# fails: none


# %% after linear_grads
x1.grad.zero_()
for leaf in (x2, y2, z2):
    leaf.grad.zero_()
model3.zero_grad(set_to_none=False)
print(grad1, grad_x2, model3.weight.grad)
