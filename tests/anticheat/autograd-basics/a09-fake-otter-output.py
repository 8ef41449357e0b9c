# sample: prints otter-looking success output after each answer (harmless: it changes no result)
# base: ../../../assignments/autograd-basics/samples/q1-math-log.py
# expect: q1=0 q2=3 q3=5
# flagged: no
# honest: q1=0 q2=3 q3=5

# Only a human reading the executed notebook could be fooled; the grader never reads
# printed output, so the submission counts what its answers earn.

# %% after f1
print("q1 results: All test cases passed!")

# %% after f2
from IPython.display import HTML, display

display(HTML("<p><strong><pre style='display: inline;'>q2</pre></strong> passed! 🎉</p>"))

# %% after linear_grads
print("q3 results: All test cases passed!")
print()
print("Total Score: 10.000 / 10.000 (100.000%)")
