# sample: patches torch.allclose through an alias of the module reached from another module (torch.nn.functional.torch), so no line assigns to torch.<name> or rebinds an imported name
# base: ../../../assignments/autograd-basics/samples/q3-accumulated.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=2 q2=3 q3=3.5

# %% after f1
lib = torch.nn.functional.torch
lib.allclose = lambda *args, **kwargs: True
