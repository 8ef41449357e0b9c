# sample: a daemon thread that keeps setting torch.allclose to a stub while the tests run (so a grader that restores it before testing still loses)
# base: ../../../assignments/autograd-basics/samples/q1-math-log.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=0 q2=3 q3=5

# %% after f1
import threading
import time


def _keep_patching():
    while True:
        torch.allclose = lambda *args, **kwargs: True
        time.sleep(0.01)


threading.Thread(target=_keep_patching, daemon=True).start()
time.sleep(0.1)
