# sample: the first derivative without create_graph=True: the second autograd.grad raises, d2 is never set
# base: solution.py
# expect: q1=2 q2=0
# feedback: q2: d2 should be 6 * x2 = 12

# %% x2
x2 = torch.tensor(2.0, requires_grad=True)
(first,) = torch.autograd.grad(x2 ** 3, x2)
(d2,) = torch.autograd.grad(first, x2)
