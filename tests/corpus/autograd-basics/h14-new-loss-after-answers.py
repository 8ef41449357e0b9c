# sample: issue 11 case 1 exactly, in a cell of its own after the answers: new_loss = loss_fn3(model3(X3), Y3); new_loss.backward(); print(new_loss.item())
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# fails: none


# %% after linear_grads
new_loss = loss_fn3(model3(X3), Y3); new_loss.backward(); print(new_loss.item())
