# sample: after the answers, model3 is trained for 50 more steps with optimizer3 and the loss curve is plotted
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# fails: none


# %% after linear_grads
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

losses = []
for _ in range(50):
    optimizer3.zero_grad()
    loss = loss_fn3(model3(X3), Y3)
    loss.backward()
    optimizer3.step()
    losses.append(loss.item())
plt.plot(losses)
plt.yscale("log")
plt.close("all")
print(model3.weight.data, model3.bias.data)
