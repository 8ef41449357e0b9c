# sample: calls sys.exit(0) and raises SystemExit(0) right after the answers, hoping the hidden tests never run
# base: ../../../assignments/autograd-basics/samples/q1-math-log.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=0 q2=3 q3=5

# In a Jupyter kernel IPython catches SystemExit and the notebook goes on, so against
# plain otter this earns exactly the honest points; it is still an attempt.

# %% after f1
import sys

sys.exit(0)

# %% after f2
raise SystemExit(0)
