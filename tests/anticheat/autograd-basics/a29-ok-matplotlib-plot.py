# sample: honest answers plus a plot of f1: %matplotlib inline, plt.rcParams["figure.figsize"] = ..., plt.plot
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# flagged: no
# honest: q1=2 q2=3 q3=5

# Setting a plot option (plt.rcParams[...]) is an item assignment on an imported module's
# attribute, but not a patch. (The screen before the anti-cheat corpus flagged it.)

# %% after f1
%matplotlib inline
import matplotlib.pyplot as plt

plt.rcParams["figure.figsize"] = (4, 3)
xs = torch.linspace(0.5, 3.0, 50)
plt.plot(xs, f1(xs).detach(), label="f1")
plt.legend()
plt.show()
