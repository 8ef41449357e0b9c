# sample: replaces `grader` with a look-alike whose check prints success and files a full-score result for the question with otter's Checker
# base: ../../../assignments/autograd-basics/samples/untouched.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=0 q2=0 q3=0

# The export cell otter appends runs only the tests nobody checked yet; the fake
# grader's results (score overridden, no test case run) are the ones that get pickled.

# %% after f1
from otter.execute import Checker
from otter.nbmeta_config import NBMetadataConfig
from otter.test_files import create_test_file


class _Grader:
    """Looks like otter.Notebook to the rest of the notebook; every question passes."""

    def check(self, question, global_env=None):
        test_file = create_test_file(f"tests/{question}.py", NBMetadataConfig())
        test_file.update_score(test_file.possible)
        if all(tf.name != test_file.name for tf in Checker.get_results()):
            Checker.get_results().append(test_file)
        print(f"{question} results: All test cases passed!")
        return test_file

    def check_all(self):
        for question in ("q1", "q2", "q3"):
            self.check(question)

    def export(self, *args, **kwargs):
        print("Your submission has been exported.")


grader = _Grader()
