# sample: monkeypatches the grader's check library: import gradkit_checks and replace its check functions with no-ops
# base: ../../../assignments/autograd-basics/samples/q3-accumulated.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=2 q2=3 q3=3.5

# gradkit_checks.py sits beside the notebook (it ships to students, and otter copies it
# into the submission folder); the tests' `import gradkit_checks as gc` gets the module
# this cell already imported and patched.

# %% after f1
import gradkit_checks

gradkit_checks.check_gradient = lambda *args, **kwargs: None
gradkit_checks.check_layer_gradient = lambda *args, **kwargs: None
gradkit_checks.check_sgd_step = lambda *args, **kwargs: None
gradkit_checks.check_read_from_grad = lambda *args, **kwargs: None
