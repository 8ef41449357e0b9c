# sample: reads the hidden tests from disk (tests/*.py beside the notebook, and any tests/*.py or *.zip found from ..) and prints them
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=2 q2=3 q3=5

# `otter run` copies the autograder's tests (hidden ones included) into tests/ beside the
# notebook and runs the notebook there: one submission that prints them leaks every
# reference value and seed for the rest of the course.

# %% after f1
import glob
import os

found = sorted(set(glob.glob("tests/*.py") + glob.glob("../**/tests/*.py", recursive=True)))
archives = sorted(glob.glob("../**/*.zip", recursive=True))
for path in found:
    print("=" * 30, os.path.abspath(path))
    with open(path, encoding="utf-8") as f:
        print(f.read())
print("archives:", archives)
