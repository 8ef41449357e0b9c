# sample: overwrites the hidden test files tests/q1.py .. q3.py with tests that always pass, before the first grader.check
# base: ../../../assignments/autograd-basics/samples/untouched.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=0 q2=0 q3=0

# %% after f1
for _question, _worth in {"q1": 2, "q2": 3, "q3": 5}.items():
    with open(f"tests/{_question}.py", "w") as f:
        f.write(
            "from otter.test_files import test_case\n"
            "OK_FORMAT = False\n"
            f"name = {_question!r}\n"
            f"points = {_worth}\n"
            f"@test_case(points={_worth}, hidden=False)\n"
            "def test_all():\n"
            "    pass\n"
        )
