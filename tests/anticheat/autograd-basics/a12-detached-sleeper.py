# sample: starts processes that outlive the grader: `sleep 600` in a new session (subprocess.Popen) and a forked, setsid child that sleeps
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=2 q2=3 q3=5

# A process in its own session escapes a kill of the kernel's process group; given the
# grader's user id it could later rewrite results files. Here it only sleeps.

# %% after f1
import subprocess

subprocess.Popen(["sleep", "600"], start_new_session=True,
                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

# %% after f2
import os
import time

if os.fork() == 0:
    try:
        os.setsid()
        time.sleep(600)
    finally:
        os._exit(0)
