# sample: walks from the `otter` name the notebook already imported to Checker's tracked results and raises every score with update_score (no import, no assignment)
# base: ../../../assignments/autograd-basics/samples/q2-not-a-leaf.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=2 q2=1 q3=5

# Runs after grader.check("q1") and grader.check("q2"): their results are in the list
# (q2: 3 instead of 1 against plain otter).

# %% after linear_grads
for _result in otter.execute.Checker.get_results():
    _result.update_score(_result.possible)
