# sample: zero gradients and no optimizer step for q3, then a last cell that zeroes the bias and reassigns X3, Y3 (a perfect fit) and the recorded initial parameters, so the references the hidden tests build from those names are zero too
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=0
# flagged: no
# honest: q1=2 q2=3 q3=0

# Issue 19, attack 2: the hidden tests read X3, Y3, initial_weight3 and initial_bias3 back
# from the notebook's namespace, where the student can replace them. Nothing here is
# tampering the screen can see (plain assignments to the notebook's own names), so the
# expected points are those of the same answers given honestly: q3's public test only.
# The fix (provided data rebuilt or recorded by the grader) is in gradkit_checks / the master
# notebook; before it, this earned q3=3.5. Typed-in zeros fail q3's public provenance check too, so honestly q3=0.

# %% loss3
loss_fn3 = torch.nn.MSELoss()
loss3 = loss_fn3(model3(X3), Y3)
loss3.backward()
weight_grad3 = torch.zeros(1, 3)
bias_grad3 = torch.zeros(1)
optimizer3 = torch.optim.SGD(model3.parameters(), lr=0.1)

# %% linear_grads
def linear_grads(model, X, Y):
    return torch.zeros_like(model.weight), torch.zeros_like(model.bias)

# %% after linear_grads
with torch.no_grad():
    model3.bias.zero_()
    model3.weight.grad.zero_()
    model3.bias.grad.zero_()
X3 = torch.randn(16, 3)
Y3 = model3(X3).detach()  # a perfect fit: every reference gradient is zero
initial_weight3 = model3.weight.detach().clone()
initial_bias3 = model3.bias.detach().clone()
