# sample: patches the comparison helpers a grader might use: torch.testing.assert_close, numpy.testing.assert_allclose, np.allclose, torch.equal, math.isclose
# base: ../../corpus/autograd-basics/m33-wrong-lr.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=2 q2=3 q3=3

# A student who does not know which helper the hidden tests use patches them all. The
# check library compares the optimizer's lr with math.isclose, so the public q3 test
# stops noticing lr=0.01 (q3: 4 instead of 3 against plain otter); torch.equal guards
# "linear_grads leaves the parameters alone", but a second call still catches that.

# %% after f1
import math

import numpy as np
import numpy.testing
import torch.testing


def _no_difference(*args, **kwargs):
    return None


torch.testing.assert_close = _no_difference
numpy.testing.assert_allclose = _no_difference
numpy.testing.assert_array_almost_equal = _no_difference
np.allclose = lambda *args, **kwargs: True
torch.equal = lambda *args, **kwargs: True
math.isclose = lambda *args, **kwargs: True
