# sample: runs grader.check again after the notebook's own check cells and raises the returned result's score with update_score
# base: ../../../assignments/autograd-basics/samples/q2-not-a-leaf.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=2 q2=1 q3=5

# grader.check returns the very TestFile otter's Checker tracks; the later result of a
# question replaces the earlier one in GradingResults, and its _score override wins
# over its test cases (q2: 3 instead of 1 against plain otter).

# %% after linear_grads
for _question, _worth in [("q1", 2), ("q2", 3)]:
    grader.check(_question).update_score(_worth)
