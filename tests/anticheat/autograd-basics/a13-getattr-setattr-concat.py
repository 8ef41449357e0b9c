# sample: obfuscated torch.allclose patch: the module from __import__("tor" + "ch"), the name built as "all" + "close", set with setattr
# base: ../../../assignments/autograd-basics/samples/q3-accumulated.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=2 q2=3 q3=3.5

# No line of the cell contains "allclose" or an assignment to torch.<something>.

# %% after f1
_lib = __import__("tor" + "ch")
_name = "all" + "close"
_real = getattr(_lib, _name)
setattr(_lib, _name, lambda *args, **kwargs: True)
