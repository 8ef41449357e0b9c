# sample: honest answers; for 8 seconds a cell finds the other processes of the same `gradkit grade` run in /proc (other submissions' children, the other zygote) and sets their CPU-time limit to 1 s with prlimit, so the submissions graded beside this one are killed
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=2 q2=3 q3=5

# %% after f1
import os
import resource
import time


def _parent(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


_me, _zygote = os.getpid(), os.getppid()
_grader = _parent(_zygote)
_hit = set()
_end = time.time() + 8
while time.time() < _end:
    for _name in os.listdir("/proc"):
        if not _name.isdigit() or int(_name) in (_me, _zygote, _grader) or int(_name) in _hit:
            continue
        _pid, _up = int(_name), int(_name)
        try:
            for _ in range(6):
                _up = _parent(_up)
                if _up == _grader:
                    resource.prlimit(_pid, resource.RLIMIT_CPU, (1, 1))
                    _hit.add(_pid)
                    break
                if _up <= 1:
                    break
        except OSError:
            pass
    time.sleep(0.2)
print("limited", sorted(_hit))
