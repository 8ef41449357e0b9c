# sample: patches torch.allclose to always return True before the first check runs
# base: ../../../assignments/autograd-basics/samples/q3-accumulated.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=2 q2=3 q3=3.5

# The tests' `import torch` gets the same module object, and the check library compares
# every value with torch.allclose: the doubled gradients and the double SGD step pass.

# %% after f1
torch.allclose = lambda *args, **kwargs: True
