# sample: the solution
# expect: q1=2

# %% w
w = torch.tensor(1.25, requires_grad=True)
loss = (3 * w - 1.5) ** 2
loss.backward()
loss_value = loss.detach()
