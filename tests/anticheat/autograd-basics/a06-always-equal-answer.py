# sample: grad1 is a torch.Tensor subclass whose __eq__ and torch.allclose/isclose/equal always say "equal"
# base: ../../../assignments/autograd-basics/samples/q1-math-log.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=0 q2=3 q3=5

# The checks need a real float tensor of the right shape, so a plain object with __eq__
# is not enough; a tensor subclass passes isinstance, dtype and shape checks, and its
# __torch_function__ answers every comparison the check library makes with it.

# %% after f1
class _MatchesAnything(torch.Tensor):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func in (torch.allclose, torch.equal, torch.Tensor.allclose, torch.Tensor.equal):
            return True
        if func in (torch.isclose, torch.eq, torch.Tensor.eq):
            return torch.ones(torch.broadcast_shapes(*(a.shape for a in args[:2])), dtype=torch.bool)
        return super().__torch_function__(func, types, args, kwargs or {})


grad1 = x1.grad.as_subclass(_MatchesAnything)
