# sample: obfuscated torch.allclose patch through the module's namespace dict: vars(torch)["allclose"] = ...
# base: ../../../assignments/autograd-basics/samples/q3-accumulated.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=2 q2=3 q3=3.5

# %% after f1
vars(torch)["allclose"] = lambda *args, **kwargs: True
