# sample: honest answers with the settings students copy from tutorials: seeds, torch.backends.cudnn flags, print options, warnings filter, %%time and a small training loop of their own
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=2 q2=3 q3=5
# flagged: no
# honest: q1=2 q2=3 q3=5

# Assigning torch.backends.cudnn.deterministic sets an option the grader never reads.
# (The screen before the anti-cheat corpus flagged it.)

# %% after f1
import random
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")
random.seed(0)
np.random.seed(0)
torch.manual_seed(0)
torch.backends.cudnn.deterministic = True
torch.backends.cudnn.benchmark = False
torch.set_printoptions(precision=6)
np.set_printoptions(precision=4)
start = time.perf_counter()
print(f1(torch.linspace(0.5, 3.0, 6)))
print(f"took {time.perf_counter() - start:.3f} s")

# %% after loss3
%%time
losses = []
probe = torch.nn.Linear(3, 1)
probe_opt = torch.optim.SGD(probe.parameters(), lr=0.1)
for step in range(5):
    probe_opt.zero_grad()
    loss = torch.nn.functional.mse_loss(probe(X3), Y3)
    loss.backward()
    probe_opt.step()
    losses.append(loss.item())
print(losses)
