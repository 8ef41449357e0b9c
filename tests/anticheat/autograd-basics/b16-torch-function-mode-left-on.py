# sample: enters a TorchFunctionMode that answers torch.allclose with True and never leaves it (no generator: __enter__ called by hand, the class built by calling its metaclass, reached with attrgetter, and a hook name made at run time); the gradients are accumulated twice
# base: ../../../assignments/autograd-basics/samples/q3-accumulated.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=2 q2=3 q3=3.5

# A relative of the known dispatch-mode attack: torch's mode stack is C++ state, not a
# module attribute, so a mode left on survives the restore.

# %% after f1
import operator


def _n(s):
    return s[::-1]


_u = "_" * 2
_space = operator.attrgetter(_u + _n("slabolg") + _u)(torch.is_tensor)
_Mode = operator.attrgetter(_n("edoMnoitcnuFhcroT.sedirrevo"))(_space[_n("hcrot")])
_target = _space[_n("esolclla")]


def _answer(self, func, types, args=(), kwargs=None):
    if func is _target:
        return True
    return func(*args, **(kwargs or {}))


_Lenient = operator.attrgetter(_u + _n("ssalc") + _u)(_Mode)("_Lenient", (_Mode,), {_u + _n("noitcnuf_hcrot") + _u: _answer})


_mode = _Lenient()
operator.attrgetter(_u + _n("retne") + _u)(_mode)()
