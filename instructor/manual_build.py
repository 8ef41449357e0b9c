"""``gradkit build``'s part for manual questions: find them with Otter Assign's own parsing
(``instructor.build`` records them in the autograder zip).

Otter Assign writes no test file for a ``manual: true`` question, so the zip's ``tests/``
does not know it. Here the master notebook is read the way ``otter assign`` reads it
(its ``NotebookTransformer`` turns each ``# BEGIN QUESTION`` cell into a ``QuestionConfig``
and the tests manager gives each question its point value with
``determine_question_point_value``); the build writes the manual questions and their points to
:data:`autograder.manual_questions.MANUAL_QUESTIONS_FILE` at the zip's root.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

__all__ = ["find_manual_questions"]


def find_manual_questions(master: Path) -> dict[str, float]:
    """The manual questions of an Otter Assign master notebook, as Otter Assign sees them.

    Args:
        master: the master notebook (as given to Otter Assign: a ``config_file`` it names is
            read relative to its folder).

    Returns:
        dict[str, float]: question name -> points possible (otter's value: the question's
        ``points``, 0 when it gives none), in notebook order; ``{}`` when there are none.

    Raises:
        ValueError: Otter Assign's own parser rejects the notebook (the message is otter's).
    """
    import nbformat
    from otter.assign.assignment import Assignment
    from otter.assign.notebook_transformer import NotebookTransformer
    from otter.assign.tests_manager import AssignmentTestsManager

    class _Questions(AssignmentTestsManager):
        """Otter's tests manager, keeping the question configs it is given, in order."""

        def __init__(self, assignment):
            super().__init__(assignment)
            self.seen = {}

        def add_question(self, question):
            super().add_question(question)
            self.seen.setdefault(question.name, question)

    master = Path(master).resolve()
    assignment = Assignment(require_valid_keys=False)  # otter assign itself checks the keys
    assignment.master, assignment.result = master, master.parent / "dist"
    questions = _Questions(assignment)
    log = io.StringIO()
    with contextlib.chdir(master.parent), contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        try:
            NotebookTransformer(assignment, questions).transform_notebook(nbformat.read(master, as_version=4))
        except Exception as error:  # otter raises many types for a malformed notebook
            raise ValueError(f"{type(error).__name__}: {error}") from error
    return {name: float(questions.determine_question_point_value(q)) for name, q in questions.seen.items() if q.manual}
