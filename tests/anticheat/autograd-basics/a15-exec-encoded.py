# sample: obfuscated patch run through exec of an encoded string (rot13 of "torch.allclose = lambda *a, **k: True")
# base: ../../../assignments/autograd-basics/samples/q3-accumulated.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=2 q2=3 q3=3.5

# %% after f1
import codecs

_payload = codecs.decode("gbepu.nyypybfr = ynzoqn *n, **x: Gehr", "rot13")
exec(_payload)
