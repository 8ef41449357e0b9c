# sample: prints in every answer and a matplotlib plot (Agg backend) of f1 and of the loss after the answers
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# fails: none


# %% after f1
print("y1 =", y1.item(), "dy1/dx1 =", grad1.item())

# %% after f2
print(f"w2 = {w2.item():.3f}; gradients {grad_x2.item()}, {grad_y2.item()}, {grad_z2.item()}")

# %% after loss3
print("loss3 =", loss3.item())
print("weight_grad3 =", weight_grad3)
print("bias_grad3 =", bias_grad3)

# %% after linear_grads
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

xs = torch.linspace(0.5, 3.0, 50)
fig, ax = plt.subplots()
ax.plot(xs, f1(xs).detach(), label="f1")
ax.plot(xs, f2(xs, xs, xs).detach(), label="f2(x, x, x)")
ax.legend()
plt.show()
plt.close(fig)
