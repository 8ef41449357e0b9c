"""gradkit's grading core: the gradient check library, grading engines and grade tables.

``autograder.shipped`` holds what ships to students and into the Gradescope zip, each
module named as shipped (``gradkit_checks.py`` depends on torch alone); the rest of the
package uses otter-grader and pandas. Nothing here imports ``instructor`` or ``student``.
"""
