# sample: runs the patch as the value of a %config statement (IPython execs "cfg." + the line in the notebook's namespace)
# base: ../../../assignments/autograd-basics/samples/q3-accumulated.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=2 q2=3 q3=3.5

# Looks like the inline-backend setting plotting notebooks carry; the value expression
# runs before IPython even looks at the class name.

# %% after f1
%config InlineBackend.close_figures = setattr(torch, "allclose", lambda *args, **kwargs: True) or True
