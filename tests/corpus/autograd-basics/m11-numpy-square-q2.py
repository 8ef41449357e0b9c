# sample: f2 squares x with NumPy: the graph of w2 does not reach x2
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=0 q3=5
# fails: q2_public q2_values q2_unseen_points
# structural: q2_values q2_unseen_points
# public-feedback: q2: does not reach `x2`


# %% f2
import numpy as np

def f2(x, y, z):
    return torch.as_tensor(np.square(x.detach().numpy())) + y ** 3 - z

x2 = torch.tensor(1.0, requires_grad=True)
y2 = torch.tensor(2.0, requires_grad=True)
z2 = torch.tensor(3.0, requires_grad=True)
w2 = f2(x2, y2, z2)
w2.backward()
grad_x2 = x2.grad
grad_y2 = y2.grad
grad_z2 = z2.grad
