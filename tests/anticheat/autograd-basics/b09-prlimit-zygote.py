# sample: honest answers; a cell lowers the fork zygote's (its parent's) CPU-time limit with prlimit, which Landlock does not confine (the child runs as root with every capability), so the zygote dies and the submissions graded after this one cannot be graded
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=2 q2=3 q3=5

# %% after f1
import os
import resource

resource.prlimit(os.getppid(), resource.RLIMIT_CPU, (1, 1))
