# sample: hooks builtins.__import__ to stub the check functions when the tests import gradkit_checks, plus sys.addaudithook and sys.settrace spies
# base: ../../../assignments/autograd-basics/samples/q3-accumulated.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=2 q2=3 q3=3.5

# The import hook does the damage (10/10 against plain otter): otter execs each test
# file with the real builtins, so the tests' `import gradkit_checks as gc` goes through
# it. The audit hook records which files are opened (the hidden tests' paths), the
# trace function every call into the check library.

# %% after f1
import builtins
import sys

_real_import = builtins.__import__


def _import(name, *args, **kwargs):
    module = _real_import(name, *args, **kwargs)
    if name == "gradkit_checks":
        for attr in list(module.__dict__):
            if attr.startswith("check_"):
                module.__dict__[attr] = lambda *a, **k: None
    return module


builtins.__import__ = _import

_seen = []
sys.addaudithook(lambda event, args: _seen.append(args[0]) if event == "open" and "tests" in str(args[0]) else None)


def _tracer(frame, event, arg):
    if event == "call" and "gradkit_checks" in frame.f_code.co_filename:
        _seen.append(frame.f_code.co_name)
    return None


sys.settrace(_tracer)
