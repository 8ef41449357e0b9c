# sample: ends the kernel with os._exit(0) right after the last answer, before grader.check("q3") and otter's own result cell
# base: ../../../assignments/autograd-basics/samples/q1-math-log.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=0 q2=3 q3=5

# %% after linear_grads
import os

os._exit(0)
