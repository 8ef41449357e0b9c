"""The static screen on real notebooks: the anti-cheat corpus is flagged, honest work is not.

Fast (no grading, no kernel): the student notebook is built once with Otter Assign
without the verification run, every sample is typed into it, and
:func:`autograder.screen.screen_notebook` runs on the result. The anti-cheat samples in
``tests/anticheat/autograd-basics`` say whether the screen must flag them
(``# flagged: yes|no``); the check corpus and the bundled samples are honest work and
must raise no finding at all.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from autograder.screen import Finding, screen_notebook, screen_source
from instructor.build import build_assignment
from instructor.samples import SampleError, fill_notebook, load_sample, load_samples

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT = REPO / "assignments" / "autograd-basics"
ANTICHEAT = load_samples(REPO / "tests" / "anticheat" / "autograd-basics")
HONEST = load_samples(REPO / "tests" / "corpus" / "autograd-basics") + load_samples(ASSIGNMENT / "samples")


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    """The built student notebook (Otter Assign only: no grading run)."""
    built = build_assignment(ASSIGNMENT, tmp_path_factory.mktemp("dist"), verify=False)
    return nbformat.read(built.student_notebook, as_version=4)


def _findings(student, sample) -> list[Finding]:
    return screen_notebook(fill_notebook(student, sample))


def test_anticheat_corpus_is_complete_and_consistent():
    on_disk = sorted((REPO / "tests" / "anticheat" / "autograd-basics").glob("*.py"))
    assert [s.name for s in ANTICHEAT] == [p.stem for p in on_disk]
    flagged = [p.stem for p in on_disk if "\n# flagged: yes\n" in p.read_text(encoding="utf-8")]
    assert [s.name for s in ANTICHEAT if s.flagged is True] == flagged and len(flagged) >= 14
    for sample in ANTICHEAT:
        assert sample.name.startswith(("a", "b")) and sample.description, sample.name  # b: the red team's round
        assert sample.flagged is not None, f"{sample.name}: no '# flagged:' line"
        assert set(sample.honest) == set(sample.expected) == {"q1", "q2", "q3"}, sample.name
        # flagged submissions count 0 until reviewed; the others count what their answers earn
        counted = {q: 0.0 for q in sample.honest} if sample.flagged else sample.honest
        assert sample.expected == counted, sample.name
        assert sample.fills, f"{sample.name}: no cheating code"


# samples the screen does not flag yet: name -> reason (xfail, strict); none today
_UNSCREENED: dict[str, str] = {}


@pytest.mark.parametrize("sample", [pytest.param(s, marks=pytest.mark.xfail(reason=_UNSCREENED[s.name], strict=True))
                                    if s.name in _UNSCREENED else s for s in ANTICHEAT], ids=lambda s: s.name)
def test_anticheat_sample_is_flagged_as_it_says(sample, student):
    findings = _findings(student, sample)
    if sample.flagged:
        assert findings, f"{sample.name} ({sample.description}) raised no finding"
    else:
        assert findings == [], "\n".join(f.text() for f in findings)


@pytest.mark.parametrize("sample", HONEST, ids=lambda s: s.name)
def test_honest_sample_raises_no_finding(sample, student):
    findings = _findings(student, sample)
    assert findings == [], "\n".join(f.text() for f in findings)


def test_blank_student_notebook_raises_no_finding(student):
    assert screen_notebook(student) == []


# screen_source: exact rules, lines and messages ------------------------------------


def _one(source: str, **kwargs) -> list[tuple[int, int, str, str]]:
    return [(f.cell, f.line, f.rule, f.message) for f in screen_source(source, **kwargs)]


def test_patching_torch_allclose_names_the_cell_line_and_attribute():
    findings = screen_source("x = 1\ntorch.allclose = lambda *a, **k: True\n", cell=14, imported={"torch"})
    assert findings == [Finding(14, 2, "torch.allclose = lambda *a, **k: True", "patch", "assigns to torch.allclose (patches a module)")]


def test_os_reached_through_torch():
    assert _one("from torch import os as o\no.system('ls')", cell=3) == [
        (3, 1, "file", "imports the module os through torch (torch.os)"),
    ]
    assert _one("print(torch.os.listdir('tests'))", imported={"torch"}) == [
        (1, 1, "file", "reaches the module os through torch (torch.os)"),
    ]


def test_alias_of_a_module_reached_from_another_module():
    source = "lib = torch.nn.functional.torch\nlib.allclose = lambda *a, **k: True"
    assert _one(source, cell=7, imported={"torch"}) == [
        (7, 1, "introspection", "reaches the module torch through torch.nn.functional (torch.nn.functional.torch)"),
        (7, 2, "patch", "assigns to lib.allclose (patches a module)"),
    ]


def test_otter_result_objects_and_internals():
    assert _one('for q in ["q1", "q2"]:\n    grader.check(q).update_score(3)', cell=26) == [
        (26, 2, "introspection", "reaches otter's grading internals (.update_score)"),
    ]
    assert _one("otter.execute.Checker", imported={"otter"}) == [
        (1, 1, "introspection", "reaches otter's internals (otter.execute)"),
    ]


def test_numpy_writing_a_file_and_a_shell_escape():
    assert _one('np.frombuffer(b"pass", dtype=np.uint8).tofile("tests/q1.py")', imported={"np"}) == [
        (1, 1, "file", "reads or writes a file (tofile)"),
    ]
    assert _one("x = 1\n!cat tests/q1.py") == [(1, 2, "process", "runs a shell command (!)")]


def test_class_built_with_type_and_grader_replaced_by_a_class():
    source = 'T = type("T", (torch.Tensor,), {"__eq__": lambda s, o: True})'
    assert _one(source, imported={"torch"}) == [
        (1, 1, "dunder", "builds a class at run time (type(name, bases, namespace))"),
        (1, 1, "dunder", "names the dunder __eq__ in a string"),
    ]
    assert _one("class grader:\n    def check(q):\n        print('passed')") == [
        (1, 1, "patch", "replaces the grader (def/class grader)"),
    ]


def test_code_given_to_timing_and_config_magics_is_screened_on_the_cell_lines():
    assert _one("%%time\nx = 1\ntorch.allclose = lambda *a, **k: True", cell=9, imported={"torch"}) == [
        (9, 3, "patch", "assigns to torch.allclose (patches a module) (inside %time)"),
    ]
    assert _one("y = 2\n%timeit -n 1 -r 1 import subprocess") == [
        (1, 2, "process", "imports subprocess (processes, threads or signals) (inside %timeit)"),
    ]
    assert _one('%config InlineBackend.close_figures = setattr(np, "allclose", 1) or True', imported={"np"}) == [
        (1, 1, "patch", "sets an attribute by name (setattr) (inside %config)"),
    ]
    assert _one("%%time\nloss3.backward()\nprint(x1.grad)") == []
    assert _one('%config InlineBackend.figure_format = "retina"\n%timeit -n 3 f1(x1)') == []


def test_unpickling_and_global_module_hooks():
    assert _one("torch.load(buffer, weights_only=False)", imported={"torch"}) == [
        (1, 1, "file", "unpickles data, which runs code (load)"),
    ]
    assert _one("torch.nn.modules.module.register_module_forward_hook(hook)", imported={"torch"}) == [
        (1, 1, "introspection", "installs a hook on every torch module (register_module_forward_hook)"),
    ]
    assert _one('torch.save(model3.state_dict(), "model3.pt")\nstate = torch.load("model3.pt")', imported={"torch"}) == []


def test_settings_and_self_checks_are_not_findings():
    honest = """
from torch.testing import assert_close
torch.backends.cudnn.deterministic = True
plt.rcParams["figure.figsize"] = (4, 3)
assert torch.allclose(grad1, torch.tensor(12.5))
assert_close(grad1, torch.tensor(12.5))
grader.check("q1")
if __name__ == "__main__":
    print(type(grad1), torch.__version__)
"""
    assert screen_source(honest, imported={"torch", "plt", "otter"}) == []


def test_alias_across_cells_is_followed_and_cells_are_counted_with_markdown():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# title"),
        nbformat.v4.new_code_cell("import torch\nnnf = torch.nn.functional"),
        nbformat.v4.new_markdown_cell("text"),
        nbformat.v4.new_code_cell("y = 2\nnnf.mse_loss = lambda *a, **k: torch.tensor(0.0)"),
    ])
    assert [(f.cell, f.line, f.rule, f.message) for f in screen_notebook(nb)] == [
        (4, 2, "patch", "assigns to nnf.mse_loss (patches a module)"),
    ]


# the sample format's anti-cheat header lines --------------------------------------


def test_flagged_and_honest_header_lines(tmp_path):
    path = tmp_path / "a99-x.py"
    path.write_text("# sample: x\n# expect: q1=0 q2=0\n# flagged: yes\n# honest: q1=0.5 q2=3\n\n# %% f1\nf1 = 1\n")
    sample = load_sample(path)
    assert (sample.flagged, sample.honest, sample.expected) == (True, {"q1": 0.5, "q2": 3.0}, {"q1": 0.0, "q2": 0.0})
    path.write_text("# sample: x\n# expect: q1=1\n")
    assert (load_sample(path).flagged, load_sample(path).honest) == (None, {})
    path.write_text("# sample: x\n# expect: q1=1\n# flagged: maybe\n")
    with pytest.raises(SampleError, match="flagged: yes"):
        load_sample(path)


# torch's interception machinery (issue 19): flagged by kind, honest use of the same tools clean


@pytest.mark.parametrize("source, rule, message", [
    ("from torch.utils.flop_counter import FlopCounterMode as F\nBase = F\nclass L(Base):\n    pass\n", "introspection",
     "subclasses torch's mode class torch.utils.flop_counter.FlopCounterMode (while on, it sees every torch operation)"),
    ("import torch\nclass M(torch.utils.module_tracker.ModuleTracker):\n    pass\n", "introspection",
     "subclasses torch's internal class torch.utils.module_tracker.ModuleTracker"),
    ("class L(type(counter)):\n    pass\n", "dunder", "subclasses a class computed at run time (type(counter))"),
    ("counter = make()\ncounter.__enter__()\n", "introspection",
     "enters or leaves a context by hand (__enter__): what it switches on can stay on"),
    ("stack = ExitStack()\nstack.enter_context(counter)\n", "introspection",
     "enters or leaves a context by hand (enter_context): what it switches on can stay on"),
    ("enter = getattr(counter, '__enter__')\nenter()\n", "introspection",
     "names __enter__ in a string (enters or leaves a context by hand)"),
    ("async def hold(ctx):\n    with ctx:\n        await later()\n", "introspection",
     "suspends inside a with block (yield/await): a generator that is not resumed leaves the context on"),
    ("def hold(ctx):\n    with ctx:\n        yield\n", "introspection",
     "suspends inside a with block (yield/await): a generator that is not resumed leaves the context on"),
    ("counter = make()\ncounter._count_flops = lambda *a: True\n", "patch",
     "assigns to the private attribute ._count_flops of an object it did not define here"),
])
def test_torch_interception_routes_are_flagged(source, rule, message):
    assert (rule, message) in [(f.rule, f.message) for f in screen_source(source, imported={"torch"})]


@pytest.mark.parametrize("source", [
    "from torch.utils.flop_counter import FlopCounterMode\nwith FlopCounterMode(display=False) as c:\n    f(x)\nprint(c.get_total_flops())\n",
    "h = x.register_hook(lambda g: print(g))\nmodel.register_forward_hook(lambda m, i, o: print(o.shape))\nh.remove()\n",
    "import torch\nclass Net(torch.nn.Module):\n    def __init__(self):\n        super().__init__()\n        self._layer = torch.nn.Linear(3, 1)\n",
    "import torch.nn as nn\nclass Square(torch.autograd.Function):\n    pass\nclass Layer(nn.Linear):\n    pass\n",
    "def batches(data):\n    for row in data:\n        yield row\n",
    "with torch.no_grad():\n    w -= 0.1 * w.grad\n",
])
def test_honest_use_of_torch_tools_raises_no_finding(source):
    assert screen_source(source, imported={"torch"}) == []


# attribute access by a name given as data (red team, issue 19) -----------------------


@pytest.mark.parametrize("source, rule, message", [
    ("import operator\nname = input()\nf = operator.attrgetter(name)(x)", "dynamic-code", "reads an attribute by computed name (attrgetter)"),
    ("from operator import attrgetter as ag\nf = ag('__class__')(x)", "dunder", "reads the attribute '__class__' by name (attrgetter)"),
    ("import operator\nf = operator.methodcaller('tb_frame')(x)", "dunder", "reads the attribute 'tb_frame' by name (methodcaller)"),
    ("import functools\nf = functools.reduce(getattr, names, x)", "dynamic-code",
     "uses getattr as a value (aliased or handed on, it acts on names the screen cannot see)"),
    ("import string\nf = string.Formatter()", "dynamic-code", "makes a string.Formatter (its get_field reads attributes by name)"),
    ("f = fmt.get_field('0.x', [x], {})", "dynamic-code", "reads an attribute through a format field (Formatter.get_field)"),
    ("s = '{0.__class__}'.format(x)", "dunder", "reads the attribute '__class__' in a format field ({0.__class__})"),
    ("s = ('{0.' + name + '}').format(x)", "dynamic-code",
     "formats with a format string built at run time (.format), whose fields can read attributes"),
    ("C = type(x)('C', (object,), {})", "dunder", "builds a class at run time by calling a metaclass (type(x)(name, bases, namespace))"),
    ("u = '_' * 2\nn = u + 'ssalc'[::-1] + u", "dunder", "builds the name '__class__' from pieces"),
    ("n = 'emarf_bt'", "dunder", "names 'tb_frame' reversed in a string ('emarf_bt')"),
])
def test_computed_attribute_names_are_flagged(source, rule, message):
    assert (rule, message) in [(f.rule, f.message) for f in screen_source(source)]


def test_constant_attribute_names_and_plain_formatting_are_not_findings():
    honest = """import operator
weights = sorted(layers, key=operator.attrgetter("weight"))
print("{:.3f} {}".format(loss.item(), "done"))
label = "".join(reversed("abc"))
template = "{0.shape}"
print(template.format(grad1))
"""
    assert screen_source(honest) == []


def test_a_finding_shows_the_line_as_typed_not_as_ipython_rewrote_it():
    """`!ls` is shown to students and instructors as they wrote it; a cell magic whose
    rewrite folds the lines keeps IPython's form (the line numbers would not match)."""
    from autograder.screen import screen_source

    found = {f.line: f.code for f in screen_source("x = 1\n!ls /tmp\n%env A=1\n")}
    assert found[2] == "!ls /tmp"
    assert all("get_ipython()" not in code for code in found.values())
    folded = screen_source("%%bash\nls\n")
    assert [f.code for f in folded] == ["get_ipython().run_cell_magic('bash', '', 'ls\\n')"]


@pytest.mark.parametrize("chain, patched", [
    ([f"a{i} = a{i + 1}.x" for i in range(2000)] + ["a2000 = torch"], "a0.allclose"),  # aliases
    ([f"m{i} = m{i + 1}" for i in range(2000)] + ["m2000 = torch"], "m0.allclose"),  # module aliases
])
def test_a_long_chain_of_aliases_written_backwards_is_followed(chain, patched):
    """Each link is bound before the one it names, so the screen's old passes over every
    binding found one link a pass: 2,000 lines took 108 s of the grading process's CPU (a
    notebook that stalled the whole class's reading and screening, red team atk6). The
    search over the bindings follows the chain to the patch at its end."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import torch\n" + "\n".join(chain)),
                                               nbformat.v4.new_code_cell(f"{patched} = lambda *a, **k: True")])
    assert any(f.cell == 2 and f.rule == "patch" and patched in f.message for f in screen_notebook(notebook))
