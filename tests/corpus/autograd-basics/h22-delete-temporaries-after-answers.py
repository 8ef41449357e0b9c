# sample: a clean-up cell after the answers: zero_grad(), del loss3 and del new_loss to free memory
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# fails: none


# %% after linear_grads
new_loss = loss_fn3(model3(X3), Y3)
new_loss.backward()
optimizer3.zero_grad()
del new_loss
del loss3
