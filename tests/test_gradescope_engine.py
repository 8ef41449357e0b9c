"""Issue 15: the autograder zip grades on Gradescope with gradkit's own engine.

Every run here is the zip's own ``run_autograder`` in the reproduction of Gradescope's
layout (:func:`tests.test_gradescope.run_in_gradescope_layout`), with the session's one
build. Gradescope runs it as root in a container where ``setup.sh`` created the user
``gradkit-student`` and let it traverse the folders above the grading environment; this
machine must not be changed, so :func:`_setup_sh_namespace` does those two things inside a
private mount namespace (bind mounts over ``/etc/passwd``, ``/etc/group`` and ``/root``)
that only the run sees. A container without Landlock (a host kernel without it, or a
container runtime whose seccomp profile refuses its system calls, as Docker's did) is
reproduced with a seccomp filter that makes ``landlock_create_ruleset`` fail with
``ENOSYS`` (:func:`_without_landlock`).
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.gradescope_runner import CONFIG_FILE, REVIEW_ENTRY
from autograder.results_schema import validate_results
from autograder.engines.user_drop import DEFAULT_USER, drop_to_user
from instructor.samples import load_samples, write_samples

from .differential import CORPORA, SHARED_CORPORA, differential_samples
from .hostile import with_cell
from .test_gradescope import _sample_notebook, _visible_texts, run_in_gradescope_layout

REPO = Path(__file__).resolve().parent.parent
ANTICHEAT = load_samples(REPO / "tests" / "anticheat" / "autograd-basics")
BUNDLED = load_samples(REPO / "assignments" / "autograd-basics" / "samples")
STUDENT_UID = 61_015  # the uid setup.sh's useradd gives gradkit-student in the namespace (unused on this machine)

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="the uid switch and the mount namespace need root (Gradescope's grader is root)")


def _setup_sh_namespace(tmp: Path) -> tuple[str, ...]:
    """A command prefix: run the rest in a private mount namespace where what the zip's
    setup.sh does to a container is done: the user ``gradkit-student`` exists, and the
    folder above the grading Python under ``/root`` (mode 700 here) can be traversed."""
    assert not any(p.pw_uid == STUDENT_UID for p in pwd.getpwall()), f"uid {STUDENT_UID} is taken on this machine"
    tmp.mkdir(parents=True)
    lines = [
        "set -e",
        f'T="{tmp}"',
        'cp /etc/passwd "$T/passwd"; cp /etc/group "$T/group"',
        f'echo "{DEFAULT_USER}:x:{STUDENT_UID}:{STUDENT_UID}::/nonexistent:/usr/sbin/nologin" >> "$T/passwd"',
        f'echo "{DEFAULT_USER}:x:{STUDENT_UID}:" >> "$T/group"',
        'mount --bind "$T/passwd" /etc/passwd',
        'mount --bind "$T/group" /etc/group',
    ]
    tops = sorted({Path(*Path(p).resolve().parts[:3]) for p in (sys.base_prefix, sys.prefix) if Path(p).resolve().is_relative_to("/root")})
    if tops:  # setup.sh's `chmod o+x` of the folders above the environment, here on a stand-in /root
        lines.append('mkdir -m 711 "$T/root"')
        for top in tops:
            lines += [f'mkdir -p "$T/root/{top.name}"', f'mount --rbind "{top}" "$T/root/{top.name}"']
        lines.append('mount --rbind "$T/root" /root')
    lines.append('exec "$@"')
    script = tmp / "setup-sh-namespace.sh"
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ("unshare", "--mount", "--propagation", "private", "bash", str(script))


_NO_LANDLOCK = r"""
import ctypes, os, struct, sys
# classic BPF: landlock_create_ruleset/add_rule/restrict_self (444-446) fail with ENOSYS, the rest is allowed
prog = [(0x20, 0, 0, 0), (0x15, 3, 0, 444), (0x15, 2, 0, 445), (0x15, 1, 0, 446), (0x06, 0, 0, 0x7FFF0000), (0x06, 0, 0, 0x00050000 | 38)]
code = b"".join(struct.pack("HBBI", *i) for i in prog)
buf = ctypes.create_string_buffer(code)
class Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
libc = ctypes.CDLL(None, use_errno=True)
assert libc.prctl(38, 1, 0, 0, 0) == 0  # PR_SET_NO_NEW_PRIVS
assert libc.prctl(22, 2, ctypes.byref(Prog(len(prog), ctypes.addressof(buf))), 0, 0) == 0, ctypes.get_errno()  # PR_SET_SECCOMP, filter
os.execv(sys.argv[1], sys.argv[1:])
"""


def _without_landlock() -> tuple[str, ...]:
    """A command prefix: run the rest where the kernel answers Landlock's calls with ENOSYS."""
    return (sys.executable, "-c", _NO_LANDLOCK)


def _probe(root: Path) -> str:
    """A cell that breaks its own q1 answer if it runs as root, can read a hidden test or
    the autograder's folder, or can write results.json: q1's points (as the tests gave
    them) say whether all of that was refused."""
    return f"""import os
reached = os.getuid() == 0
for path in ({str(root / 'source' / 'tests' / 'q1.py')!r}, {str(root / 'submission_metadata.json')!r}):
    try:
        with open(path) as f:
            reached = reached or bool(f.read())
    except OSError:
        pass
try:
    os.listdir({str(root / 'source')!r})
    reached = True
except OSError:
    pass
try:
    with open({str(root / 'results' / 'results.json')!r}, "w") as f:
        f.write('{{"score": 100}}')
    reached = True
except OSError:
    pass
if reached:
    grad1 = None
"""


def _gradkit(results: dict) -> dict:
    return results["extra_data"]["gradkit"]


def _counted(results: dict) -> dict[str, float]:
    """Points per question as Gradescope counts them."""
    return {t["name"]: t["score"] for t in results["tests"] if t.get("max_score")}


@pytest.fixture(scope="module")
def math_log(built, tmp_path_factory):
    sample = next(s for s in BUNDLED if s.name == "q1-math-log")
    return sample, _sample_notebook(built.student_notebook, sample, tmp_path_factory.mktemp("upload"))


def test_the_zip_grades_with_the_fork_engine_and_states_the_confinement(built, math_log, math_log_zip_run):
    """No gradkit-student user on this machine: Landlock alone, and the output says so
    (q1-math-log through the zip: the session's run, also read by tests/test_gradescope.py)."""
    sample, _ = math_log
    results, proc = math_log_zip_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    validate_results(results)
    gradkit = _gradkit(results)
    assert gradkit["confinement"]["engine"] == "fork" and gradkit["confinement"]["landlock_abi"] >= 1
    assert _counted(results) == sample.expected == gradkit["scores"]
    assert "Confinement: gradkit's fork engine; " in results["output"] and "under Landlock" in results["output"]
    if os.geteuid() == 0:
        assert f"there is no unprivileged user '{DEFAULT_USER}'" in results["output"]
    assert "run_otter" not in proc.stdout + proc.stderr  # otter's runner did not grade
    with zipfile.ZipFile(built.autograder_zip) as archive:
        names = archive.namelist()
        assert {"gradkit_engine/autograder/__init__.py", "gradkit_engine/autograder/gradescope_runner.py", "gradkit_grade.py"} <= set(names)
        assert "gradkit_engine/autograder/schemas/gradescope_results.schema.json" in names  # data files too
        assert "otter_config.json" in names and json.loads(archive.read(CONFIG_FILE)) == {"flagged": "zero", "user": DEFAULT_USER}
        setup = archive.read("setup.sh").decode()
        assert f"useradd --system --no-create-home --shell /usr/sbin/nologin {DEFAULT_USER}" in setup
        assert "matplotlib" in archive.read("environment.yml").decode()
    # setup.sh is not run here (it installs mamba and apt packages, as Otter's part of it does); it parses
    assert subprocess.run(["bash", "-n"], input=setup, text=True, capture_output=True).returncode == 0


@root_only
def test_the_drop_to_an_unprivileged_user_is_for_good(tmp_path):
    """drop_to_user in a forked process: real uid switch, no capability left, root's files
    and processes out of reach, no way back."""
    secret = tmp_path / "secret"
    secret.write_text("hidden test")
    secret.chmod(0o600)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - reports through the pipe
        report = {}
        try:
            drop_to_user(65534, 65534)
            report["ids"] = [list(os.getresuid()), list(os.getresgid()), os.getgroups()]
            with open("/proc/self/status") as f:
                report["caps"] = {line.split(":")[0]: int(line.split()[1], 16) for line in f if line.startswith("Cap")}
            for name, act in (("read", lambda: open(secret).read()), ("setuid", lambda: os.setuid(0)),
                              ("kill", lambda: os.kill(os.getppid(), 0))):
                try:
                    act()
                    report[name] = "allowed"
                except PermissionError:
                    report[name] = "refused"
        except BaseException as error:  # noqa: BLE001
            report["error"] = repr(error)
        os.write(write, json.dumps(report).encode())
        os._exit(0)
    os.close(write)
    report = json.loads(os.read(read, 1 << 16))
    os.waitpid(pid, 0)
    assert report.get("error") is None, report
    assert report["ids"] == [[65534] * 3, [65534] * 3, []]
    assert report["caps"] == {"CapInh": 0, "CapPrm": 0, "CapEff": 0, "CapBnd": 0, "CapAmb": 0}
    assert (report["read"], report["setuid"], report["kill"]) == ("refused", "refused", "refused")
    with pytest.raises(ValueError):
        drop_to_user(0, 0)


@pytest.fixture(scope="module")
def probe_notebook(built, tmp_path_factory):
    """The solution with the probe cell after q1's answer; the probe names the layout root
    the runs below use."""
    work = tmp_path_factory.mktemp("probe")
    solution = next(s for s in BUNDLED if s.name == "solution")
    paths = {}
    for name in ("uid", "uid-no-landlock"):
        plain = write_samples(built.student_notebook, [solution], work / name)[0]
        upload = work / name / "upload"
        upload.mkdir()
        paths[name] = with_cell(plain, "f1", _probe(work / name / "root"), upload / built.student_notebook.name)
    return work, paths


@root_only
@pytest.mark.parametrize("landlock", [True, False], ids=["landlock", "no-landlock"])
def test_a_root_container_runs_the_student_code_as_the_setup_user(built, probe_notebook, landlock):
    """As on Gradescope: root grader, setup.sh's user. The child runs as that user; the hidden
    tests, the metadata and results.json are out of its reach, with Landlock and, where the
    kernel has none, by the uid switch alone."""
    work, paths = probe_notebook
    name = "uid" if landlock else "uid-no-landlock"
    prefix = _setup_sh_namespace(work / name / "namespace") + (() if landlock else _without_landlock())
    results, proc = run_in_gradescope_layout(built.autograder_zip, paths[name], work / name / "root", prefix=prefix)
    assert proc.returncode == 0, proc.stderr[-3000:]
    validate_results(results)
    gradkit = _gradkit(results)
    assert gradkit["confinement"]["engine"] == "fork"
    assert gradkit["confinement"]["user"] == DEFAULT_USER, results["output"]
    assert (gradkit["confinement"]["landlock_abi"] >= 1) is landlock
    assert f"ran as the unprivileged user {DEFAULT_USER} (uid {STUDENT_UID})" in results["output"]
    assert ("under Landlock" in results["output"]) is landlock
    # the probe imports os and opens files: flagged, so it counts 0; the tests gave full points,
    # so none of the probe's reads or writes succeeded and it did not run as root
    assert gradkit["flagged"] and _counted(results) == {"q1": 0, "q2": 0, "q3": 0}
    assert gradkit["scores"] == {"q1": 2, "q2": 3, "q3": 5}, results["output"]


def test_the_probe_sees_root_when_no_user_is_dropped_to(built, probe_notebook):
    """Control for the test above: graded locally (the grader's uid, root here), the probe
    breaks q1, so its full q1 there is not vacuous."""
    from autograder.engines import get_engine
    from autograder.engines import Limits
    from autograder.submissions import Submission

    if os.geteuid() != 0:
        pytest.skip("the grader is not root here")
    engine = get_engine("fork")
    try:
        outcome = engine.grade(Submission(probe_notebook[1]["uid"], "probe"), built.autograder_zip, limits=Limits())
    finally:
        engine.close()
    assert outcome.scores["q1"] < 2 and outcome.scores["q2"] == 3  # the probe broke q1


def test_without_a_user_or_landlock_the_zip_grades_with_otters_protection_and_says_so(built, math_log, tmp_path):
    sample, notebook = math_log
    results, proc = run_in_gradescope_layout(built.autograder_zip, notebook, tmp_path / "root", prefix=_without_landlock())
    assert proc.returncode == 0, proc.stderr[-3000:]
    validate_results(results)
    assert _gradkit(results)["confinement"]["engine"] == "otter"
    assert "graded with otter's own protection only" in results["output"]
    assert "no Landlock: the kernel does not offer it" in results["output"]
    assert _counted(results) == sample.expected


def _with_setting(autograder_zip: Path, target: Path, **settings) -> Path:
    """A copy of the zip whose settings file has ``settings`` (what `gradkit build` writes
    for `gradkit: flagged: score`: only that member differs, see test_flagged_setting_*)."""
    with zipfile.ZipFile(autograder_zip) as source, zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == CONFIG_FILE:
                data = json.dumps({**json.loads(data), **settings}).encode()
            out.writestr(info, data)
    return target


@pytest.mark.parametrize("flagged", ["zero", "score"])
def test_a_flagged_submission_needs_review_in_a_hidden_entry(built, tmp_path, flagged):
    sample = next(s for s in ANTICHEAT if s.name.startswith("a03-"))  # patches torch.allclose: flagged
    notebook = write_samples(built.student_notebook, [sample], tmp_path / "upload")[0]
    autograder_zip = built.autograder_zip if flagged == "zero" else _with_setting(built.autograder_zip, tmp_path / "score.zip", flagged="score")
    results, proc = run_in_gradescope_layout(autograder_zip, notebook, tmp_path / "root")
    assert proc.returncode == 0, proc.stderr[-3000:]
    validate_results(results)
    gradkit = _gradkit(results)
    assert gradkit["flagged"] and gradkit["findings"] and gradkit["status"].startswith("needs review")
    review = [t for t in results["tests"] if t["name"] == REVIEW_ENTRY]
    assert len(review) == 1 and review[0]["visibility"] == "hidden" and "max_score" not in review[0]
    assert "torch.allclose" in review[0]["output"]
    visible = _visible_texts(results)
    assert any(visible), results  # something is shown to the student, so the check below is not vacuous
    for text in visible:  # the findings are for instructors only
        assert "torch.allclose" not in text, text
    raw = gradkit["scores"]
    assert raw == sample.honest or all(raw[q] <= sample.honest[q] for q in raw)
    if flagged == "zero":
        assert results["score"] == 0 and _counted(results) == sample.expected == {q: 0 for q in raw}
    else:
        assert "score" not in results and _counted(results) == raw


def test_flagged_setting_in_the_assignment_config(tmp_path):
    from instructor.assign_config import AssignConfigError, prepare_assignment_config

    master = REPO / "assignments" / "autograd-basics" / "autograd-basics.ipynb"
    nb = nbformat.read(master, as_version=4)
    original = nb.cells[0].source
    assert "flagged:" not in original
    staged = tmp_path / master.name
    for line, expected in (("", "zero"), ("  flagged: score\n", "score"), ("  flagged: zero\n", "zero"), ("  flagged: maybe\n", None)):
        nb.cells[0].source = original.replace("gradkit:\n", "gradkit:\n" + line)
        nbformat.write(nb, staged)
        if expected is None:
            with pytest.raises(AssignConfigError, match="flagged is 'maybe'; use one of zero, score"):
                prepare_assignment_config(staged, master)
        else:
            assert prepare_assignment_config(staged, master).flagged == expected


def _export(notebooks: list[Path], folder: Path) -> Path:
    """A Gradescope "Export Submissions" folder holding ``notebooks``, one submitter each."""
    folder.mkdir(parents=True)
    metadata = {}
    for number, notebook in enumerate(notebooks, start=1):
        sub = folder / f"submission_{number}"
        sub.mkdir()
        shutil.copy(notebook, sub / notebook.name)
        metadata[f"submission_{number}"] = {":submitters": [{":name": notebook.stem, ":email": f"{notebook.stem}@example.edu"}],
                                            ":created_at": "2026-11-29 12:00:00.000000000 -08:00"}
    import yaml

    (folder / "submission_metadata.yml").write_text(yaml.safe_dump(metadata), encoding="utf-8")
    return folder


THREE_WAY_PARTS = 4
"""The three-way test's cases are graded in this many parts, each its own test (and its own
xdist group, tests/conftest.py's SPLIT_TESTS), so both workers share the 55 runs of the zip."""


def _three_way_cases() -> list:
    """Every case of the three-way test: the bundled samples and the cheat corpus."""
    return BUNDLED + ANTICHEAT


def _three_way_part(cases: list, part: int) -> list:
    """The cases of ``part`` (0-based): every THREE_WAY_PARTS-th case by name, from the
    ``part``-th, so that each part holds some of each corpus."""
    return sorted(cases, key=lambda c: c.name)[part::THREE_WAY_PARTS]


def test_the_three_way_parts_hold_every_case_once():
    cases = _three_way_cases()
    parts = [_three_way_part(cases, part) for part in range(THREE_WAY_PARTS)]
    names = [c.name for part in parts for c in part]
    assert sorted(names) == sorted(c.name for c in cases) and len(set(names)) == len(names)
    on_disk = len(list((REPO / "tests" / "anticheat" / "autograd-basics").glob("*.py"))) + len(
        list((REPO / "assignments" / "autograd-basics" / "samples").glob("*.py")))
    assert len(names) == on_disk
    assert all({c.name[0] for c in part} >= {"a", "b"} for part in parts)  # each part has cheats of both rounds
    # the otter engine's cases (the ``otter_shared`` fixture): the first of each kind by name, as the three-way test chose
    first: dict[str, str] = {}
    for case in sorted(cases, key=lambda c: c.name):
        first.setdefault(case.name[0], case.name)
    chosen = [n for corpus in SHARED_CORPORA for n in differential_samples(CORPORA[corpus], False)]
    assert sorted(chosen) == sorted(first.values()) == [
        "a01-otter-testfile-run", "b04-traceback-walk-mark-passed", "q1-hard-coded", "solution", "untouched"]
    assert sorted(n for corpus in SHARED_CORPORA for n in differential_samples(CORPORA[corpus], True)) == sorted(c.name for c in cases)
    # tests/conftest.py hands every part out between the long files (each part is a group of its own)
    from .conftest import LONGEST_FIRST, SPLIT_TESTS, THREE_WAY, _group

    assert THREE_WAY in SPLIT_TESTS
    groups = {_group(f"tests/test_gradescope_engine.py::test_three_way_differential_fork_otter_and_the_zip[part{n + 1}of{THREE_WAY_PARTS}]")
              for n in range(THREE_WAY_PARTS)}
    assert len(groups) == THREE_WAY_PARTS and groups <= set(LONGEST_FIRST)


@pytest.mark.slow
@pytest.mark.parametrize("part", range(THREE_WAY_PARTS), ids=lambda part: f"part{part + 1}of{THREE_WAY_PARTS}")
def test_three_way_differential_fork_otter_and_the_zip(built, tmp_path, request, part):
    """Every corpus case (the bundled samples and the cheat corpus, in
    :data:`THREE_WAY_PARTS` parts) graded by the fork engine
    locally from a Gradescope export and by the zip's run_autograder in the Gradescope
    layout: the zip counts what the fork engine counts, question by question, with the same
    flags. The otter engine grades one case of each kind (the first by name, as
    ``tests/test_engines.py`` chooses) and counts the same except where it differs from the
    fork engine on a cheat (then the zip still matches the fork engine); with
    ``pytest --full-differential`` it grades every case. Its grading is the session's
    ``otter_shared`` (tests/differential.py: the same notebooks, graded once for this test
    and tests/test_engines.py, under that test's limits), asked for after the zip's runs."""
    from concurrent.futures import ThreadPoolExecutor

    import pandas as pd

    from instructor.batch import grade_batch
    from instructor.gradebook import Gradebook

    cases = _three_way_part(_three_way_cases(), part)
    notebooks = write_samples(built.student_notebook, cases, tmp_path / "notebooks")
    by_name = {case.name: notebook for case, notebook in zip(cases, notebooks)}
    local = {}
    names = [c.name for c in cases]
    export = _export([by_name[n] for n in names], tmp_path / "export-fork")
    out = tmp_path / "out-fork"
    grade_batch(autograder_zip=built.autograder_zip, submissions=[export], out_dir=out, engine="fork", jobs=2, progress=False)
    table = pd.read_csv(out / "grades.csv").iloc[1:].set_index("file")
    with Gradebook(out) as book:
        rows = {row.label: row for row in book.rows()}
    label = {f"export-fork/submission_{number}": name for number, name in enumerate(names, start=1)}
    local["fork"] = {label[lab]: ({q: float(table.loc[lab, q]) for q in ("q1", "q2", "q3")}, bool(rows[lab].findings))
                     for lab in rows}
    assert sorted(local["fork"]) == sorted(names)  # every case graded, none twice

    def through_the_zip(case):
        return case, run_in_gradescope_layout(built.autograder_zip, by_name[case.name], tmp_path / "layout" / case.name)

    otter_differs, mismatches, seconds = [], [], []
    with ThreadPoolExecutor(max_workers=2) as pool:  # two containers at a time, as two cores allow
        ran = list(pool.map(through_the_zip, cases))
    assert [case.name for case, _ in ran] == [case.name for case in cases]
    # the otter engine's rows of this part's cases; their points as grades.csv counts them
    shared = {Path(label).stem: row for label, row in request.getfixturevalue("otter_shared").items()}
    local["otter"] = {name: ({q: float(row.scores.get(q, 0.0)) for q in ("q1", "q2", "q3")}, bool(row.findings))
                      for name, row in shared.items() if name in by_name}
    if request.config.getoption("--full-differential"):
        assert sorted(local["otter"]) == sorted(names)
    for case, (results, proc) in ran:
        assert proc.returncode == 0, (case.name, proc.stderr[-2000:])
        validate_results(results, source=f"{case.name} results.json")
        seconds.append(results["execution_time"])
        zip_points = {q: float(_counted(results).get(q, 0)) for q in ("q1", "q2", "q3")}
        fork_points, fork_flagged = local["fork"][case.name]
        if (zip_points, _gradkit(results)["flagged"]) != (fork_points, fork_flagged):
            mismatches.append((case.name, "zip", zip_points, _gradkit(results)["flagged"], "fork", fork_points, fork_flagged))
        if fork_points != {q: float(case.expected.get(q, fork_points[q])) for q in fork_points}:
            mismatches.append((case.name, "fork", fork_points, "expected", case.expected))
        if case.name in local["otter"] and local["otter"][case.name] != (fork_points, fork_flagged):
            otter_differs.append(case.name)
    print(f"zip run_autograder execution_time over {len(seconds)} submissions: mean {sum(seconds) / len(seconds):.1f} s, "
          f"min {min(seconds):.1f} s, max {max(seconds):.1f} s; otter engine on {len(local['otter'])} of them")
    print(f"otter engine differs from fork and zip on: {otter_differs or 'none'}")
    assert not mismatches, mismatches
    assert all(name[0] in "ab" for name in otter_differs), f"otter differs on honest samples: {otter_differs}"
