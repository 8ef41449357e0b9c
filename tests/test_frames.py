"""The fork engine's audit hook refuses stack frames to the notebook's own code.

From any frame, ``f_back`` leads to the frames of the code that called the notebook's
functions: during the tests, the test runner's, which hold the hidden tests, the recorded
results and the grading channel. The hook (:func:`autograder.integrity.install_audit_hook`)
refuses every route to a frame when a cell's code asks, directly or through helpers that
hand frames back (``inspect``, ``traceback``), and lets libraries that look at frames for
themselves (``namedtuple``, ``typing``, ``enum``, ``logging``, IPython showing a
traceback, torch) work as usual.

Each case runs in its own process with a real IPython shell, as the fork engine's child
does: one fresh interpreter prepares what the zygote prepares (IPython, torch, the audit
hook, which cannot be removed) and forks one child per case, as the zygote forks one per
submission, so no case sees another's state and the interpreter starts once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from .fork_each import SOURCE as FORK_EACH

DRIVER = FORK_EACH + textwrap.dedent('''
    import json, sys, warnings
    warnings.simplefilter("ignore")
    from IPython.core.interactiveshell import InteractiveShell
    from autograder.integrity import guard_frame_callbacks, install_audit_hook
    import torch._dynamo  # as the fork engine's zygote has it
    shell = InteractiveShell.instance()
    shell.InteractiveTB.set_mode(mode="Minimal")
    events = []
    control = install_audit_hook(events)


    def main(cells):
        _gradkit_guards = guard_frame_callbacks(control, events)  # as the zygote's serve() keeps it
        out = []
        for cell in cells:
            control(True)
            result = shell.run_cell(cell, store_history=True, silent=True)
            control(False)
            error = result.error_in_exec
            out.append(None if error is None else f"{type(error).__name__}: {error}")
        return out


    cases = json.loads(sys.stdin.read())


    def case(name):
        out = main(cases[name])
        return json.dumps({"errors": out, "events": events, "ns": {k: repr(v) for k, v in shell.user_ns.items() if k.startswith("r_")}})


    # one child per case, as the zygote forks one per submission
    results = {name: json.loads(data) if status == 0 and data else {"child ended": status}
               for name, (status, data) in fork_each(cases, case).items()}
    print(json.dumps(results))
''')


def _run_all(cases: dict[str, list[str]]) -> dict[str, dict]:
    """case name -> {"errors": per cell, "events": audit findings, "ns": the r_* names}."""
    done = subprocess.run([sys.executable, "-c", DRIVER], input=json.dumps({k: [textwrap.dedent(c) for c in v] for k, v in cases.items()}),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


HONEST = [
    "from collections import namedtuple\nPoint = namedtuple('Point', 'x y')\nr_p = Point(1, 2)",
    "import typing\nT = typing.TypeVar('T')\nr_t = T",
    "import enum\nColor = enum.Enum('Color', 'RED GREEN')\nr_c = Color.RED",
    "import dataclasses\n@dataclasses.dataclass\nclass P:\n    x: int = 1\nr_d = P()",
    "import logging\nlogging.getLogger('x').warning('hi')\nr_l = 1",
    "import warnings\nwarnings.warn('careful')\nr_w = 1",
    "def bad():\n    raise ValueError('mine')\nbad()",  # IPython shows the student's traceback
    "import torch\nfrom torch.utils.flop_counter import FlopCounterMode\nwith FlopCounterMode(display=False) as c:\n    torch.ones(2, 2) @ torch.ones(2, 2)\nr_f = c.get_total_flops()",
    "import torch\nx = torch.tensor(2.0, requires_grad=True)\ny = torch.log(x) + x ** 3\ny.backward()\nr_g = x.grad.item()",
    "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\nplt.plot([1, 2], [3, 4])\nr_m = 1",
    "def gen():\n    yield 1\nr_n = next(gen())",
    "@torch.compile(backend='eager')\ndef compiled(x):\n    return torch.sin(x) * 2\nr_k = compiled(torch.ones(3)).sum().item()",
    "import torch._dynamo\n@torch._dynamo.disable\ndef plain(x):\n    return x + 1\nr_z = plain(torch.ones(1)).item()",
    "try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    r_e = str(e)",
]


# library code the notebook picks as a signal handler: accepted, but called without the
# interrupted frame (a library function or object that keeps its second argument would
# hand the frame back, and its f_back leads to the tests' runner)
FRAMELESS = {
    "logging.addLevelName as signal handler": (
        "import signal, logging\nsignal.signal(signal.SIGUSR1, logging.addLevelName)\nsignal.raise_signal(signal.SIGUSR1)\n"
        "r_kept = repr(logging.getLevelName(signal.SIGUSR1))"),
    "a library object's method as signal handler": (
        "import signal, collections\nr_kept = collections.UserDict()\nsignal.signal(signal.SIGUSR1, r_kept.setdefault)\n"
        "signal.raise_signal(signal.SIGUSR1)"),
}


@pytest.fixture(scope="module")
def runs() -> dict[str, dict]:
    """Every case below run once: "honest" (all of HONEST) and each attack with a cell after it."""
    return _run_all({"honest": HONEST, **{name: [cell, "r_after = 1"] for name, (cell, _) in ATTACKS.items()},
                     **{name: [cell, "r_after = 1"] for name, cell in FRAMELESS.items()}})


def test_honest_code_that_libraries_look_at_frames_for_still_runs(runs):
    result = runs["honest"]
    assert result["errors"][:6] == [None] * 6, result
    assert result["errors"][6] == "ValueError: mine"
    assert result["errors"][7:] == [None] * (len(HONEST) - 7), result
    assert result["events"] == []
    assert set(result["ns"]) == {"r_p", "r_t", "r_c", "r_d", "r_l", "r_w", "r_f", "r_g", "r_m", "r_n", "r_k", "r_z", "r_e"}


ATTACKS = {
    "sys._getframe": ("import sys\nf = sys._getframe()", "read a stack frame (sys._getframe): refused"),
    "inspect.currentframe": ("import inspect\nf = inspect.currentframe()", "read a stack frame (sys._getframe): refused"),
    "inspect.stack": ("import inspect\nf = inspect.stack()", "read a stack frame (sys._getframe): refused"),
    "traceback.extract_stack": ("import traceback\nf = traceback.extract_stack()", "read a stack frame (sys._getframe): refused"),
    "tb_frame by attrgetter": ("import operator\ntry:\n    1 / 0\nexcept Exception as e:\n    f = operator.attrgetter('__traceback__.tb_frame')(e)",
                               "read a stack frame (.tb_frame): refused"),
    "tb_frame by format field": ("import string\ntry:\n    1 / 0\nexcept Exception as e:\n    f = string.Formatter().get_field('0.__traceback__.tb_frame', [e], {})",
                                 "read a stack frame (.tb_frame): refused"),
    "traceback.walk_tb": ("import sys, traceback\ntry:\n    1 / 0\nexcept Exception:\n    f = list(traceback.walk_tb(sys.exc_info()[2]))",
                          "read a stack frame (.tb_frame): refused"),
    "gi_frame": ("def g():\n    yield 1\nf = getattr(g(), 'gi_frame')", "read a stack frame (.gi_frame): refused"),
    "cr_frame": ("async def c():\n    pass\nco = c()\ntry:\n    f = co.cr_frame\nfinally:\n    co.close()", "read a stack frame (.cr_frame): refused"),
    "sys._current_frames": ("import sys\nf = sys._current_frames()", "read the threads' stack frames (sys._current_frames): refused"),
    "sys.settrace": ("import sys\nsys.settrace(lambda *a: None)", "installed a trace hook (sys.settrace): refused"),
    "sys.setprofile": ("import sys\nsys.setprofile(lambda *a: None)", "installed a profile hook (sys.setprofile): refused"),
    "gc.get_objects": ("import gc\nf = gc.get_objects()", "searched the interpreter's objects (gc.get_objects): refused"),
    "gc.get_referrers": ("import gc\nf = gc.get_referrers(gc)", "searched the interpreter's objects (gc.get_referrers): refused"),
    "torch's frame evaluation callback": ("from torch._C._dynamo import eval_frame\neval_frame.set_eval_frame(lambda *a: None)",
                                          "installed a frame callback (set_eval_frame): refused"),
    "torch's frame callback through torch's own module": (
        "import torch._dynamo.eval_frame as e\nframes = []\ne.set_eval_frame(frames.append)",
        "installed a frame callback (set_eval_frame): refused"),
    "a signal handler": ("import signal\nframes = []\nsignal.signal(signal.SIGUSR1, lambda s, f: frames.append(f))\nsignal.raise_signal(signal.SIGUSR1)",
                         "installed a frame callback (signal): refused"),
    "a built-in as signal handler": ("import signal\nframes = []\nsignal.signal(signal.SIGUSR1, frames.append)",
                                     "installed a frame callback (signal): refused"),
    "a torch.library kernel": ("import torch\nlib = torch.library.Library('aten', 'IMPL')\nlib.impl('allclose', lambda *a, **k: True, 'CPU')",
                               "registered a torch operator kernel (impl, torch.library): refused"),
    "a kernel through an existing registration object": (
        "import torch\nfrom torch.library import Library\nlib = Library('gradkit_probe', 'DEF')\nlib.m.define('probe(Tensor x) -> Tensor')",
        "registered a torch operator kernel (define, torch.library): refused"),
    "compiled under a library's file name": (
        "import inspect\nsrc = 'import sys\\ndef get():\\n    return sys._getframe()\\n'\n"
        "ns = {}\nexec(compile(src, inspect.__file__.replace('inspect', 'collections/__init__'), 'exec'), ns)\nf = ns['get']()",
        "read a stack frame (sys._getframe): refused"),
}


@pytest.mark.parametrize("name", list(ATTACKS))
def test_the_notebook_is_refused_every_route_to_a_frame(name, runs):
    _, event = ATTACKS[name]
    result = runs[name]
    assert result["errors"][0] is not None and result["errors"][0].startswith("RuntimeError: "), result
    assert "not allowed while grading" in result["errors"][0]
    assert event in result["events"], result["events"]
    assert result["errors"][1] is None and "r_after" in result["ns"]  # the notebook goes on


@pytest.mark.parametrize("name", list(FRAMELESS))
def test_a_library_signal_handler_the_notebook_picks_is_handed_no_frame(name, runs):
    result = runs[name]
    assert result["errors"] == [None, None], result
    assert result["events"] == [], result["events"]
    assert "frame" not in result["ns"]["r_kept"], result["ns"]
    if "UserDict" in FRAMELESS[name]:  # the handler ran, with None for the frame
        assert result["ns"]["r_kept"] == "{10: None}", result["ns"]


def test_only_the_engines_handlers_keep_the_frame():
    """The pass-through of ``integrity._without_frame`` is the engines' own handlers (the
    tests' timeout handler needs the frame) and its own wrapper; a function of the rest of
    gradkit's package, the shipped check library among them, is wrapped like any library's."""
    import os

    from autograder import integrity

    def made_in(path: str):
        namespace: dict = {}
        exec(compile("def handler(signum, frame):\n    return frame\n", path, "exec"), namespace)
        return namespace["handler"]

    home = os.path.dirname(os.path.abspath(integrity.__file__))
    engine_handler = made_in(os.path.join(home, "engines", "fork", "zygote.py"))
    shipped_handler = made_in(os.path.join(home, "shipped", "gradkit_checks.py"))
    assert integrity._without_frame(engine_handler) is engine_handler
    wrapped = integrity._without_frame(shipped_handler)
    assert wrapped is not shipped_handler and wrapped(10, "a frame") is None
    assert integrity._without_frame(wrapped) is wrapped  # read back and installed again: as it is
