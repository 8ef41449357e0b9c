# sample: q1 answered with math.log (no autograd: its tests fail honestly); a cell replaces marshal.loads, which the fork engine's child called on each test file's code as the grading process compiled it (ZipTests.compiled), with a wrapper that loads the real code and hands back code that runs it and then makes every test case's function pass
# base: ../../../assignments/autograd-basics/samples/q1-math-log.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=0 q2=3 q3=5

# Round six sent the child each test file compiled (marshal, base64) instead of having it
# compile the source with the builtin compile, which the snapshot protects. marshal, base64
# and binascii are not among the snapshotted modules, so a patch made in a cell was neither
# undone nor seen before the tests, and the child built the hidden tests from whatever the
# patched marshal.loads returned: every test case passed (10/10 against 5/10 honest).

# %% after f1
import marshal
import types

_real_loads = marshal.loads
marshal._gk_held = []


def _loads(data, *args):
    code = _real_loads(data, *args)
    if type(code) is not types.CodeType or "test_case" not in code.co_names:
        return code
    marshal._gk_held.append(code)
    source = (f"exec(__import__('marshal')._gk_held[{len(marshal._gk_held) - 1}])\n"
              "for _v in list(globals().values()):\n"
              "    if isinstance(_v, test_case):\n"
              "        _v.test_func = lambda env: None\n"
              "del _v\n")  # otter collects every test_case bound at the top level
    return compile(source, code.co_filename, "exec", dont_inherit=True)


marshal.loads = _loads
