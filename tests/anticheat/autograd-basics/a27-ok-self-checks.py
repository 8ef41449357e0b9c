# sample: honest answers with the student's own checks: torch.allclose, torch.testing.assert_close (imported from torch.testing), np.testing, asserts, type/version prints, an extra grader.check and a __main__ guard
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# flagged: no
# honest: q1=2 q2=3 q3=5

# Calls to comparison helpers are not patches; instructors want students to check
# their own work. (The screen before the anti-cheat corpus flagged the torch.testing
# import.)

# %% after f1
import numpy as np
from torch.testing import assert_close

print(type(grad1), grad1.dtype, isinstance(grad1, torch.Tensor), torch.__version__)
assert torch.allclose(grad1, torch.tensor(12.5))
assert_close(grad1, torch.tensor(12.5))
torch.testing.assert_close(grad1, torch.tensor(12.5))
np.testing.assert_allclose(grad1.numpy(), 12.5, rtol=1e-6)
assert abs(grad1.item() - 12.5) < 1e-5, "grad1 looks wrong"
grader.check("q1")

# %% after f2
def _check_f2():
    """Compare autograd with the hand derivation."""
    expected = {"x2": 2.0, "y2": 12.0, "z2": -1.0}
    for name, got in zip(expected, (grad_x2, grad_y2, grad_z2)):
        assert torch.isclose(got, torch.tensor(expected[name])), name


if __name__ == "__main__":
    _check_f2()
