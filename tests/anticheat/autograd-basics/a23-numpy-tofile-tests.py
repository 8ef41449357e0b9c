# sample: overwrites the hidden test files with NumPy's ndarray.tofile (no open(), no os), so every question passes
# base: ../../../assignments/autograd-basics/samples/untouched.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=0 q2=0 q3=0

# %% after f1
import numpy as np

for _question, _worth in {"q1": 2, "q2": 3, "q3": 5}.items():
    _text = (
        "from otter.test_files import test_case\n"
        "OK_FORMAT = False\n"
        f"name = {_question!r}\n"
        f"points = {_worth}\n"
        f"@test_case(points={_worth}, hidden=False)\n"
        "def test_all():\n"
        "    pass\n"
    )
    np.frombuffer(_text.encode(), dtype=np.uint8).tofile(f"tests/{_question}.py")
