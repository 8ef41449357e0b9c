"""gradkit's grading core: the gradient check library, grading engines and grade tables.

``autograder.gradchecks`` depends on torch alone (it ships to students and into the
Gradescope zip); the rest of the package uses otter-grader and pandas. Nothing here
imports ``instructor`` or ``student``.
"""
