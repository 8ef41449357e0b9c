# sample: the loss kept for logging is the graph's output itself: the added check names it
# base: solution.py
# expect: q1=1
# feedback: q1: `loss_value` is still part of the autograd graph

# %% w
w = torch.tensor(1.25, requires_grad=True)
loss = (3 * w - 1.5) ** 2
loss.backward()
loss_value = loss
