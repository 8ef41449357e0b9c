"""Grade integrity: hostile submissions earn no more than their honest answers.

The anti-cheat corpus (``tests/anticheat/autograd-basics``) is graded through ``gradkit
grade`` with the default engine. Each sample says what it counts for (``# expect:``, 0
while flagged), whether the screen flags it (``# flagged:``) and what its honest answers
earn (``# honest:``): the points the tests gave must never exceed those, so a flagged
submission an instructor clears still gets no more than it earned.

Three probes check the fork engine's run-time guarantees directly, with answers that
depend on what the submission managed to do: reading the hidden tests (the sandbox),
forging the grading channel (the signed protocol), and patching torch (the restore).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest
from click.testing import CliRunner

from instructor.cli import main as cli
from instructor.gradebook import Gradebook
from instructor.samples import load_samples, write_samples

from .hostile import with_cell

REPO = Path(__file__).resolve().parent.parent
ANTICHEAT = load_samples(REPO / "tests" / "anticheat" / "autograd-basics")
BUNDLED = REPO / "assignments" / "autograd-basics" / "samples"


def _leak_probe(built) -> str:
    """A cell that looks for hidden test text, or the autograder-only reference module,
    everywhere it might be; if it finds any, it breaks its own q1 answer, so q1's points
    tell whether either was readable while student code ran."""
    paths = [str(built.autograder_zip), str(built.autograder_zip.parent), str(REPO / "assignments"), ".", "tests", "..", "../..", "/tmp"]
    return f"""import os, zipfile
found = []
for start in {paths!r}:
    try:
        if os.path.isfile(start):
            found.append(zipfile.ZipFile(start).read("tests/q1.py").decode())
            continue
        for folder, _, files in os.walk(start):
            for name in files:
                if name.endswith((".py", ".ipynb", ".zip")):
                    try:
                        with open(os.path.join(folder, name), "rb") as f:
                            found.append(f.read().decode("latin-1"))
                    except OSError:
                        pass
    except Exception:
        pass
if any("test_q1_values" in text or "def linear_mse_reference" in text for text in found):
    grad1 = None
"""


FORGE = """import json, os
for fd in range(3, 64):
    for message in ({"ready": True, "runtime": []}, {"results": {"./tests/q1.py": [[True, "ok"]] * 3}},
                    {"kind": "ready", "runtime": []}, {"kind": "results", "results": {"./tests/q1.py": [[True, "ok"]] * 3}, "late": []}):
        try:
            os.write(fd, (json.dumps(message) + "\\n").encode())
        except OSError:
            pass
"""

LATE = """def f1(x):
    import torch
    setattr(torch, "allclose", lambda *args, **kwargs: True)  # only while the tests call f1
    return torch.log(x) + x ** 3
"""

# f1 that works where the notebook calls it and hangs, swallowing every interrupt, wherever
# the tests call it: q1's tests are stopped after the cell timeout, the other questions graded
HANG = """import time

def f1(x):
    if x.dim() == 0 and x.item() == 2.0:
        return torch.log(x) + x ** 3
    while True:
        try:
            time.sleep(0.05)
        except BaseException:
            pass
"""

# torch switched into other modes by plain calls the screen has no reason to flag: the C-level
# check after the cells puts torch back before the tests and flags the submission
TORCH_FLAGS = """torch.set_default_dtype(torch.float64)
torch.set_grad_enabled(False)
torch.set_flush_denormal(True)
"""

# the same, but only while the tests call f1
LATE_TORCH = """def f1(x):
    import torch
    torch.set_flush_denormal(True)
    return torch.log(x) + x ** 3
"""

_AWAITING_FIX: dict[str, str] = {}  # samples whose fix is still to land: name -> reason (xfail, strict)
CASES = [pytest.param(s, marks=pytest.mark.xfail(reason=_AWAITING_FIX[s.name], strict=True)) if s.name in _AWAITING_FIX else s
         for s in ANTICHEAT]

# f1 that, when the tests call it, looks for the grading channel and the hidden tests in
# every closure and bound object reachable without a frame (sys.stdout, the SIGALRM
# handler, their attributes, their globals), forges an all-passed reply with the grader's
# own send and exits; q1's points tell whether it found them
CLOSURES = """import collections, os, signal, sys, types
_orig_f1 = f1


def _reachable():
    seen, todo, found = set(), collections.deque([sys.stdout, sys.stderr, signal.getsignal(signal.SIGALRM)]), []
    while todo and len(seen) < 20000:
        obj = todo.popleft()  # breadth first: what is closest to the start is found first
        if id(obj) in seen or isinstance(obj, (str, bytes, int, float, type(None))):
            continue
        seen.add(id(obj))
        found.append(obj)
        try:
            if isinstance(obj, types.FunctionType):
                for cell in obj.__closure__ or ():
                    try:
                        todo.append(cell.cell_contents)
                    except ValueError:
                        pass
                todo += [v for k, v in obj.__globals__.items() if not k.startswith("__") and not isinstance(v, types.ModuleType)]
            elif isinstance(obj, types.MethodType):
                todo += [obj.__func__, obj.__self__]
            elif isinstance(obj, dict):
                todo += list(obj.values())
            elif isinstance(obj, (list, tuple)):
                todo += list(obj)
            elif not isinstance(obj, type) and hasattr(obj, "__dict__"):
                todo += list(vars(obj).values())
        except Exception:
            pass
    return found


def f1(x):
    if x.dtype == torch.float64:
        for obj in _reachable():
            if isinstance(obj, types.FunctionType) and obj.__name__ == "send" and obj.__closure__:
                ok = [True, "ok"]
                obj({"results": {"./tests/q1.py": [ok] * 3, "./tests/q2.py": [ok] * 3, "./tests/q3.py": [ok] * 4}})
                os._exit(0)
    return _orig_f1(x)
"""

def _privilege_probe(port: int, unix_path: str) -> str:
    """A cell that tries what root's privileges and Landlock's gaps used to allow (the red
    team's b06, b09, b10, b11, b17, in forms that would change nothing if they worked:
    reading another process's limit, setting the CPUs it already has, signal 0); if any
    succeeds, it breaks its own q1 answer, so q1's points tell. The UDP datagram and the
    Unix connection go to sockets the test listens on."""
    return f"""import os, resource, socket
_zygote = os.getppid()
_got = []
def _try(name, act):
    try:
        act()
        _got.append(name)
    except (OSError, ValueError):
        pass
_try("read the zygote's limit", lambda: resource.prlimit(_zygote, resource.RLIMIT_CPU))
_try("read the zygote's priority", lambda: os.getpriority(os.PRIO_PROCESS, _zygote))
_try("set the zygote's CPUs", lambda: os.sched_setaffinity(_zygote, os.sched_getaffinity(0)))
_try("lift the memory cap", lambda: resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY)))
_try("raise the priority", lambda: os.nice(-1))
_try("read the zygote's command line", lambda: open(f"/proc/{{_zygote}}/cmdline").read())
_try("list the zygote", lambda: os.listdir(f"/proc/{{_zygote}}"))
_try("signal the zygote", lambda: os.kill(_zygote, 0))
_try("send UDP", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"leak", ("127.0.0.1", {port})))
_try("open a netlink socket", lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW))
_try("connect to a Unix socket outside the sandbox", lambda: socket.socket(socket.AF_UNIX).connect({unix_path!r}))
if _got:
    grad1 = None
"""


PATCH = """import torch, gradkit_checks
torch.allclose = lambda *args, **kwargs: True
gradkit_checks.check_from_autograd = lambda *args, **kwargs: None
"""


@pytest.fixture(scope="module")
def graded(built, tmp_path_factory):
    root = tmp_path_factory.mktemp("anticheat")
    write_samples(built.student_notebook, ANTICHEAT, root / "anticheat")
    bundled = root / "bundled"
    write_samples(built.student_notebook, load_samples(BUNDLED), bundled)
    probes = root / "probes"
    probes.mkdir()
    with_cell(bundled / "solution.ipynb", "f1", _leak_probe(built), probes / "leak.ipynb")
    with_cell(bundled / "untouched.ipynb", "f1", FORGE, probes / "forge.ipynb")
    with_cell(bundled / "q1-math-log.ipynb", "f2", PATCH, probes / "patch.ipynb")
    # right after the q1 answer: the record cell then records this f1, the one the tests call
    with_cell(bundled / "q1-math-log.ipynb", "f1", LATE, probes / "late.ipynb")
    with_cell(bundled / "solution.ipynb", "f1", HANG, probes / "hang.ipynb")
    with_cell(bundled / "solution.ipynb", "linear_grads", TORCH_FLAGS, probes / "torch-flags.ipynb")
    with_cell(bundled / "q1-math-log.ipynb", "f1", CLOSURES, probes / "closures.ipynb")
    with_cell(bundled / "solution.ipynb", "f1", LATE_TORCH, probes / "late-torch.ipynb")
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.setblocking(False)
    b06 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # where the red team's b06 sends the hidden tests
    try:
        b06.bind(("127.0.0.1", 40999))
        b06.setblocking(False)
    except OSError:  # another run on this machine listens there: the probe's own port still tells
        b06.close()
        b06 = None
    daemon = socket.socket(socket.AF_UNIX)  # like a system daemon's socket (D-Bus, a container runtime)
    daemon.bind(str(root / "daemon.sock"))
    daemon.listen()
    daemon.setblocking(False)
    with_cell(bundled / "solution.ipynb", "f1", _privilege_probe(listener.getsockname()[1], str(root / "daemon.sock")),
              probes / "privileges.ipynb")
    out = root / "out"
    result = CliRunner().invoke(cli, ["grade", "--autograder", str(built.autograder_zip), "--out", str(out), "--jobs", "2",
                                      "--timeout", "60", "--cell-timeout", "8", str(root / "anticheat"), str(probes)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "grades.csv").iloc[1:].set_index("file")
    with Gradebook(out) as book:
        rows = {row.label: row for row in book.rows()}
    try:
        daemon.accept()
        connected = True
    except BlockingIOError:
        connected = False
    daemon.close()
    assert not connected, "a submission connected to a Unix socket outside its sandbox"
    for sock in (listener, b06):
        if sock is None:
            continue
        try:
            received = sock.recv(1 << 16)
        except BlockingIOError:
            received = None
        sock.close()
        assert received is None, f"a submission sent a UDP datagram out of the sandbox: {received[:80]!r}"
    return table, rows


def test_corpus_has_every_kind_of_attack():
    on_disk = sorted((REPO / "tests" / "anticheat" / "autograd-basics").glob("*.py"))
    assert [s.name for s in ANTICHEAT] == [p.stem for p in on_disk]
    assert all(s.flagged is not None and s.honest for s in ANTICHEAT), "every sample says whether it is flagged and what it honestly earns"
    not_flagged = [p.stem for p in on_disk if "\n# flagged: no\n" in p.read_text(encoding="utf-8")]
    assert [s.name for s in ANTICHEAT if not s.flagged] == not_flagged and not_flagged  # harmless fake output is not flagged


@pytest.mark.parametrize("sample", CASES, ids=lambda s: s.name)
def test_attack_earns_no_more_than_its_honest_answers(sample, graded):
    table, rows = graded
    label = f"anticheat/{sample.name}.ipynb"
    row = rows[label]
    counted = {q: table.loc[label, q] for q in sample.expected}
    assert counted == sample.expected, f"{label}: {row.status}"
    for question, honest in sample.honest.items():
        assert row.raw_scores.get(question, 0) <= honest, f"{label}: the tests gave {row.raw_scores} > honest {sample.honest}"
    static = [f for f in row.findings if f.rule != "runtime"]
    if sample.flagged:
        assert static, f"{label} should be flagged by the screen"
        assert row.status.startswith("needs review: cell ")
    else:
        assert not row.findings, row.findings
        assert row.status == "Completed"


def test_hidden_tests_and_reference_module_cannot_be_read_by_the_submission(graded):
    _, rows = graded
    leak = rows["probes/leak.ipynb"]
    assert leak.raw_scores["q1"] == 2, "the probe found hidden test text or the reference module, so it broke its own q1 answer"
    assert leak.status.startswith("needs review: ")


def test_hidden_test_sources_never_reach_a_message(graded):
    """Red team b34 (and b06): student code that runs inside a test cannot collect the
    hidden tests' sources from the runner's frames (refused), so no failure message, the
    student's feedback included, carries them."""
    _, rows = graded
    for label, row in rows.items():
        text = json.dumps(row.results)
        assert "def test_" not in text and "@test_case" not in text, label
    runtime = [f.message for f in rows["anticheat/b34-leak-through-public-feedback.ipynb"].findings if f.rule == "runtime"]
    assert "while the tests ran: read a stack frame (.tb_frame): refused" in runtime, runtime


def test_frames_are_refused_to_student_code_during_the_cells_and_the_tests(graded):
    _, rows = graded
    for name in ("b04-traceback-walk-mark-passed", "b24-format-field-walk"):
        runtime = [f.message for f in rows[f"anticheat/{name}.ipynb"].findings if f.rule == "runtime"]
        assert "while running: read a stack frame (.tb_frame): refused" in runtime, runtime
        assert "while the tests ran: read a stack frame (.tb_frame): refused" in runtime, runtime


def test_a_patch_made_and_taken_back_during_the_tests_is_found(graded):
    """b12: f1 patches torch.allclose when q1's tests call it, linear_grads (q3's tests) puts
    it back; the check after each test file finds and undoes it, so q3 is graded honestly."""
    _, rows = graded
    row = rows["anticheat/b12-transient-patch-during-tests.ipynb"]
    runtime = [f.message for f in row.findings if f.rule == "runtime"]
    assert "changed the grader's libraries while the tests ran: torch.allclose was replaced" in runtime, runtime
    assert row.raw_scores == {"q1": 2, "q2": 3, "q3": 3.5}


def test_the_grading_channel_is_not_reachable_from_objects_student_code_can_get(graded):
    """No closure or object reachable from ``sys.stdout`` or the ``SIGALRM`` handler holds the
    channel's ``send``: the probe finds none, so q1 earns what q1-math-log honestly earns."""
    _, rows = graded
    probe = rows["probes/closures.ipynb"]
    assert probe.raw_scores == {"q1": 0, "q2": 3, "q3": 5}, probe.status


def test_the_child_cannot_reach_other_processes_lift_its_limits_or_send_datagrams(graded):
    """No call of the privilege probe succeeds (seccomp, no capabilities, private /proc);
    the fixture also checked that no datagram arrived."""
    _, rows = graded
    probe = rows["probes/privileges.ipynb"]
    assert probe.raw_scores == {"q1": 2, "q2": 3, "q3": 5}, "one of the probe's calls succeeded, so it broke its own q1 answer"
    assert probe.status.startswith("needs review: ")


@pytest.mark.parametrize("name", ["b09-prlimit-zygote", "b10-prlimit-grader", "b11-prlimit-siblings", "b17-root-capabilities-recon"])
def test_attacks_on_the_grader_and_other_submissions_do_no_harm(name, graded):
    """The red team's b09, b10, b11 lowered the CPU limit of the zygote, the grader and the
    other submissions' processes (the batch died, other submissions failed); b17 lifted its
    memory cap and re-pinned the grader's CPUs. Now each is graded like its honest answers,
    and so is everything graded beside it (the other tests of this file)."""
    _, rows = graded
    row = rows[f"anticheat/{name}.ipynb"]
    # b11's cell loops for 8 s, as long as the test's cell timeout: it may be interrupted at its end
    assert row.state.tests_ran and row.state.engine_text.split("; cell ")[0] == "Completed", row.state
    if name == "b17-root-capabilities-recon":
        # its f1 raises on purpose wherever the tests call it (to report what it managed;
        # the feedback does not show the message): q1's public test (f1 on public points)
        # and unseen-points test fail, its values test passes; what it tried is the
        # privilege probe's business
        assert row.raw_scores == {"q1": 0.5, "q2": 3, "q3": 5}
    else:
        assert row.raw_scores == {"q1": 2, "q2": 3, "q3": 5}


def test_forged_grading_messages_are_ignored_and_flagged(graded):
    _, rows = graded
    forge = rows["probes/forge.ipynb"]
    assert forge.raw_scores == {"q1": 0, "q2": 0, "q3": 0}
    runtime = [f.message for f in forge.findings if f.rule == "runtime"]
    assert any("unsigned message" in m for m in runtime), runtime


def test_patched_libraries_are_restored_before_the_tests_and_reported(graded):
    _, rows = graded
    patch = rows["probes/patch.ipynb"]
    assert patch.raw_scores == {"q1": 0, "q2": 3, "q3": 5}  # what q1-math-log honestly earns
    runtime = " | ".join(f.message for f in patch.findings if f.rule == "runtime")
    assert "torch.allclose was replaced" in runtime
    assert "gradkit_checks.check_from_autograd was replaced" in runtime


def test_patches_made_while_the_tests_call_student_code_are_flagged(graded):
    table, rows = graded
    late = rows["probes/late.ipynb"]
    runtime = " | ".join(f.message for f in late.findings if f.rule == "runtime")
    assert "changed the grader's libraries while the tests ran: torch.allclose was replaced" in runtime
    assert tuple(table.loc["probes/late.ipynb", ["q1", "q2", "q3"]]) == (0, 0, 0)


def test_torch_left_in_other_modes_is_put_back_before_the_tests_and_flagged(graded):
    table, rows = graded
    probe = rows["probes/torch-flags.ipynb"]
    assert probe.raw_scores == {"q1": 2, "q2": 3, "q3": 5}  # the tests ran with torch as the zygote left it
    runtime = [f.message for f in probe.findings if f.rule == "runtime"]
    assert "changed torch's state: changed torch.get_default_dtype() from torch.float32 to torch.float64" in runtime, runtime
    assert "changed torch's state: changed torch.is_grad_enabled() from True to False" in runtime, runtime
    assert any("denormal" in m for m in runtime), runtime
    assert not [f for f in probe.findings if f.rule != "runtime"]  # run time alone: the screen saw nothing
    assert tuple(table.loc["probes/torch-flags.ipynb", ["q1", "q2", "q3"]]) == (0, 0, 0)


def test_torch_state_changed_while_the_tests_call_student_code_is_flagged(graded):
    table, rows = graded
    late = rows["probes/late-torch.ipynb"]
    runtime = " | ".join(f.message for f in late.findings if f.rule == "runtime")
    assert "changed torch's state while the tests ran: changed torch.set_flush_denormal" in runtime, runtime
    assert tuple(table.loc["probes/late-torch.ipynb", ["q1", "q2", "q3"]]) == (0, 0, 0)


def test_a_function_that_hangs_under_test_costs_only_its_question(graded):
    """The tests of q1 are stopped after the cell timeout (8 s) plus the grace; q2 and q3
    are graded, the notebook is not run again (no "timed out" status) and nothing is flagged."""
    table, rows = graded
    hang = rows["probes/hang.ipynb"]
    assert hang.raw_scores == {"q1": 0, "q2": 3, "q3": 5}
    assert tuple(table.loc["probes/hang.ipynb", ["q1", "q2", "q3"]]) == (0, 3, 5)
    assert hang.status == "Completed; the tests of q1 ran past 13 s and were stopped; its test cases count as failed"
    assert not hang.findings, hang.findings


def test_no_process_a_submission_started_outlives_the_grader(graded):
    time.sleep(1)
    left = []
    for p in psutil.process_iter(["cmdline", "environ"]):
        try:
            cmdline = p.info["cmdline"] or []
            environ = p.info["environ"] or {}
        except psutil.Error:
            continue
        if environ.get("PWD") != os.environ.get("PWD"):
            continue  # another checkout's test run on this machine (its own `sleep 600`s)
        if environ.get("PYTEST_XDIST_WORKER") != os.environ.get("PYTEST_XDIST_WORKER"):
            continue  # another xdist worker of this run (its zygotes; the variable is inherited)
        # `sleep 600` from subprocess; a forked sleeper still carries its zygote's command line
        # (ours: started by this interpreter, in this run's environment)
        if cmdline[:2] == ["sleep", "600"] or (cmdline[:1] == [sys.executable] and any("autograder.engines.fork.zygote" in part for part in cmdline)):
            left.append(cmdline)
    assert left == []
