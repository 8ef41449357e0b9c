# sample: reaches os through torch (`from torch import os as o`, torch.os.listdir/system) and rewrites the hidden test files so every question passes
# base: ../../../assignments/autograd-basics/samples/untouched.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=0 q2=0 q3=0

# torch's own modules import os, so torch.os is the os module: no `import os`, no
# open(). otter reads tests/qN.py when grader.check("qN") (or its export cell) runs,
# after this cell, so the rewritten files are the ones graded (10/10).

# %% after f1
from torch import os as o

_points = {"q1": 2, "q2": 3, "q3": 5}
print(torch.os.listdir("tests"))
for _question, _worth in _points.items():
    _text = (
        "from otter.test_files import test_case\n"
        "OK_FORMAT = False\n"
        f"name = {_question!r}\n"
        f"points = {_worth}\n"
        f"@test_case(points={_worth}, hidden=False)\n"
        "def test_all():\n"
        "    pass\n"
    )
    _fd = o.open(f"tests/{_question}.py", o.O_WRONLY | o.O_TRUNC | o.O_CREAT)
    o.write(_fd, _text.encode())
    o.close(_fd)
torch.os.system("ls -l tests")
