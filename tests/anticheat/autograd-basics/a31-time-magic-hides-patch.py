# sample: hides the patches inside the code of timing magics (%%time and %time), which reach IPython as strings
# base: ../../../assignments/autograd-basics/samples/q3-accumulated.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=2 q2=3 q3=3.5

# IPython rewrites the cell to get_ipython().run_cell_magic("time", "", "<the body>"):
# a screen that parses the rewritten cell sees one string constant, and %time is a
# magic instructors allow. The body runs in the notebook's namespace all the same.

# %% after f1
%%time
import gradkit_checks
gradkit_checks.check_layer_gradient = lambda *args, **kwargs: None

# %% after f2
%time torch.allclose = lambda *args, **kwargs: True
