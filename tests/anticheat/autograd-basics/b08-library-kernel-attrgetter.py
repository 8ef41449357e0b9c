# sample: b07's aten::allclose CPU kernel override, with the torch module reached as torch.Tensor.backward's globals and torch.library through operator.attrgetter, all names built at run time, and the op name and dispatch key reversed strings
# base: ../../../assignments/autograd-basics/samples/q3-accumulated.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=2 q2=3 q3=3.5

# The dispatcher registration lives in C++ (not an attribute of torch), so the fork
# engine's snapshot/restore neither undoes nor notices it.

# %% after f1
import operator


def _n(s):
    return s[::-1]


_u = "_" * 2
_home = operator.attrgetter(_u + _n("slabolg") + _u)(torch.Tensor.backward)[_n("hcrot")]
_Lib = operator.attrgetter(_n("yrarbiL.yrarbil"))(_home)
_keep = _Lib(_n("neta"), _n("LPMI"))
_keep.impl(_n("esolclla"), lambda *args, **kwargs: True, _n("UPC"))
